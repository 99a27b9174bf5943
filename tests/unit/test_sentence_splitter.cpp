// tests/unit/test_sentence_splitter.cpp — the rule-based sentence splitter on real sentences in
// English, German, French, Spanish, Chinese and Japanese; span invariants; invalid UTF-8.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "tokenizer/text/sentence_splitter.hpp"

using attend::text::Span;
using attend::text::split_sentences;

namespace {

std::vector<std::string> sentences(const std::string& paragraph) {
  std::vector<std::string> out;
  for (const Span& s : split_sentences(paragraph)) out.push_back(paragraph.substr(s.begin, s.end - s.begin));
  return out;
}

using S = std::vector<std::string>;

// Spans are ordered, inside the text, non-empty, don't overlap and cover every non-space byte.
void check_invariants(const std::string& text) {
  const auto spans = split_sentences(text);
  size_t prev = 0;
  for (const Span& s : spans) {
    REQUIRE(s.begin >= prev);
    REQUIRE(s.end > s.begin);
    REQUIRE(s.end <= text.size());
    for (size_t k = prev; k < s.begin; ++k) {
      // bytes between spans are ASCII whitespace or part of a multi-byte space
      const unsigned char b = static_cast<unsigned char>(text[k]);
      REQUIRE((b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\v' || b == '\f' || b >= 0x80));
    }
    prev = s.end;
  }
}

}  // namespace

TEST_CASE("sentence splitter: English", "[sentence_splitter]") {
  CHECK(sentences("A man is walking his dog. The dog is brown.") ==
        S{"A man is walking his dog.", "The dog is brown."});
  CHECK(sentences("Is it raining? Yes! Take an umbrella.") == S{"Is it raining?", "Yes!", "Take an umbrella."});
  CHECK(sentences("Dr. Smith met Mr. Jones and Mrs. Brown at 5 p.m. on Main St. yesterday.") ==
        S{"Dr. Smith met Mr. Jones and Mrs. Brown at 5 p.m. on Main St. yesterday."});
  CHECK(sentences("Bring fruit, e.g. Apples or pears. Also bread, i.e. Something to eat.") ==
        S{"Bring fruit, e.g. Apples or pears.", "Also bread, i.e. Something to eat."});
  CHECK(sentences("We bought apples, pears, etc. and went home. Then we ate, etc. Nobody was hungry.") ==
        S{"We bought apples, pears, etc. and went home.", "Then we ate, etc.", "Nobody was hungry."});
  CHECK(sentences("J. R. R. Tolkien wrote it. George W. Bush read it.") ==
        S{"J. R. R. Tolkien wrote it.", "George W. Bush read it."});
  CHECK(sentences("The price rose 3.5 percent. It was 1.25 dollars.") ==
        S{"The price rose 3.5 percent.", "It was 1.25 dollars."});
  CHECK(sentences("Wait... what happened? I don't know... Maybe nothing.") ==
        S{"Wait... what happened?", "I don't know...", "Maybe nothing."});
  CHECK(sentences("She said \"Stop.\" Then she left.") == S{"She said \"Stop.\"", "Then she left."});
  CHECK(sentences("He shouted \u201cRun!\u201d The crowd ran.") ==
        S{"He shouted \u201cRun!\u201d", "The crowd ran."});
  CHECK(sentences("(This is a note.) The text goes on.") == S{"(This is a note.)", "The text goes on."});
  CHECK(sentences("Really?! I can't believe it!!! OK.") == S{"Really?!", "I can't believe it!!!", "OK."});
  CHECK(sentences("Yahoo! is a company. It is old.") == S{"Yahoo! is a company.", "It is old."});
  CHECK(sentences("See No. 5 and Art. 3 of the law. No. That is wrong.") ==
        S{"See No. 5 and Art. 3 of the law.", "No.", "That is wrong."});
  CHECK(sentences("It happened in 1990. 25 years later it happened again.") ==
        S{"It happened in 1990.", "25 years later it happened again."});
  CHECK(sentences("He moved to the U.S. last year. Visit www.example.com today.") ==
        S{"He moved to the U.S. last year.", "Visit www.example.com today."});
  CHECK(sentences("1. Introduction to the topic") == S{"1. Introduction to the topic"});
  CHECK(sentences("So did I. Then we left.") == S{"So did I.", "Then we left."});
  CHECK(sentences("He asked \"why?\" and left.") == S{"He asked \"why?\" and left."});
  CHECK(sentences("Two dogs play in the snow.") == S{"Two dogs play in the snow."});
  CHECK(sentences("No final punctuation here") == S{"No final punctuation here"});
}

TEST_CASE("sentence splitter: German", "[sentence_splitter]") {
  CHECK(sentences("Das ist z. B. ein Test. Er ist kurz.") == S{"Das ist z. B. ein Test.", "Er ist kurz."});
  CHECK(sentences("Viele Sorten, z.B. Äpfel und Birnen. Dazu Brot.") ==
        S{"Viele Sorten, z.B. Äpfel und Birnen.", "Dazu Brot."});
  CHECK(sentences("Dr. Müller wohnt in der Hauptstr. Nr. 5. Er ist Arzt.") ==
        S{"Dr. Müller wohnt in der Hauptstr. Nr. 5.", "Er ist Arzt."});
  CHECK(sentences("Das war am 3. Oktober 1990. Im 19. Jahrhundert war alles anders.") ==
        S{"Das war am 3. Oktober 1990.", "Im 19. Jahrhundert war alles anders."});
  CHECK(sentences("Wir haben Äpfel, Birnen usw. gekauft. Übermorgen fahren wir.") ==
        S{"Wir haben Äpfel, Birnen usw. gekauft.", "Übermorgen fahren wir."});
  CHECK(sentences("Er sagte: \u201EIch komme morgen.\u201C Sie glaubte ihm nicht.") ==
        S{"Er sagte: \u201EIch komme morgen.\u201C", "Sie glaubte ihm nicht."});
  CHECK(sentences("Er rief: \u00BBKomm her!\u00AB Dann ging er.") ==
        S{"Er rief: \u00BBKomm her!\u00AB", "Dann ging er."});
  CHECK(sentences("Prof. Dr. Schmidt bzw. Hr. Meier kommen ca. um 10 Uhr. Öffnen Sie die Tür!") ==
        S{"Prof. Dr. Schmidt bzw. Hr. Meier kommen ca. um 10 Uhr.", "Öffnen Sie die Tür!"});
  CHECK(sentences("Ein Mann fährt Fahrrad. Ein Hund läuft über die Straße.") ==
        S{"Ein Mann fährt Fahrrad.", "Ein Hund läuft über die Straße."});
  CHECK(sentences("Vgl. S. 12 und d.h. Alles ist gut. Ende.") == S{"Vgl. S. 12 und d.h. Alles ist gut.", "Ende."});
}

TEST_CASE("sentence splitter: French", "[sentence_splitter]") {
  CHECK(sentences("M. Dupont est arrivé. Mme Martin est partie.") ==
        S{"M. Dupont est arrivé.", "Mme Martin est partie."});
  CHECK(sentences("Comment allez-vous ? Très bien, merci !") == S{"Comment allez-vous ?", "Très bien, merci !"});
  CHECK(sentences("Il a dit : \u00AB Je viens. \u00BB Puis il est parti.") ==
        S{"Il a dit : \u00AB Je viens. \u00BB", "Puis il est parti."});
  CHECK(sentences("Il a dit\u00A0: \u00AB\u00A0Vraiment\u00A0?\u00A0\u00BB Elle a ri.") ==
        S{"Il a dit\u00A0: \u00AB\u00A0Vraiment\u00A0?\u00A0\u00BB", "Elle a ri."});
  CHECK(sentences("C'est en 52 av. J.-C. que César arriva. \u00C0 Paris il pleut.") ==
        S{"C'est en 52 av. J.-C. que César arriva.", "\u00C0 Paris il pleut."});
  CHECK(sentences("Le chien court. Élise le suit.") == S{"Le chien court.", "Élise le suit."});
  CHECK(sentences("Voir p. 7 et cf. Chapitre 2. Ensuite, lisez.") ==
        S{"Voir p. 7 et cf. Chapitre 2.", "Ensuite, lisez."});
}

TEST_CASE("sentence splitter: Spanish", "[sentence_splitter]") {
  CHECK(sentences("¿Cómo estás? ¡Muy bien! Gracias.") == S{"¿Cómo estás?", "¡Muy bien!", "Gracias."});
  CHECK(sentences("El Sr. García y la Sra. López llegaron. La Dra. Pérez también.") ==
        S{"El Sr. García y la Sra. López llegaron.", "La Dra. Pérez también."});
  CHECK(sentences("Hay frutas, p. ej. Manzanas. Viven en EE.UU. desde 2010. Ud. tiene razón.") ==
        S{"Hay frutas, p. ej. Manzanas.", "Viven en EE.UU. desde 2010.", "Ud. tiene razón."});
  CHECK(sentences("Compramos pan, leche, etc. y volvimos. Él no vino.") ==
        S{"Compramos pan, leche, etc. y volvimos.", "Él no vino."});
  CHECK(sentences("Un perro corre por el parque. Ángela lo mira.") ==
        S{"Un perro corre por el parque.", "Ángela lo mira."});
}

TEST_CASE("sentence splitter: Chinese and Japanese", "[sentence_splitter]") {
  CHECK(sentences("今天天气很好。我们去公园吧！你想去吗？") == S{"今天天气很好。", "我们去公园吧！", "你想去吗？"});
  CHECK(sentences("他说：「你好。」然后走了。") == S{"他说：「你好。」", "然后走了。"});
  CHECK(sentences("真的吗？！太好了。") == S{"真的吗？！", "太好了。"});
  CHECK(sentences("これはペンです。 あれは本です。") == S{"これはペンです。", "あれは本です。"});
  CHECK(sentences("東京に行きました｡楽しかった｡") == S{"東京に行きました｡", "楽しかった｡"});
  CHECK(sentences("Hello world. 你好世界。再见。") == S{"Hello world.", "你好世界。", "再见。"});
}

TEST_CASE("sentence splitter: whitespace and spans", "[sentence_splitter]") {
  CHECK(split_sentences("").empty());
  CHECK(split_sentences("   \n\t  ").empty());
  CHECK(sentences("  Leading and trailing.  ") == S{"Leading and trailing."});
  CHECK(sentences("One.\nTwo.") == S{"One.", "Two."});
  CHECK(sentences("A line\nwrapped in the middle. Next.") == S{"A line\nwrapped in the middle.", "Next."});
  CHECK(sentences("One.\u00A0\u00A0Two.") == S{"One.", "Two."});
  const std::string text = "  First one.   Second one?\n Third!  ";
  const auto spans = split_sentences(text);
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].begin == 2);
  CHECK(spans[0].end == 12);
  CHECK(spans[1].begin == 15);
  CHECK(spans[2].end == text.size() - 2);
  CHECK(sentences(".") == S{"."});
  CHECK(sentences("...") == S{"..."});
  CHECK(sentences("?! ?!") == S{"?!", "?!"});
  check_invariants(text);
}

TEST_CASE("sentence splitter: invalid UTF-8 never crashes", "[sentence_splitter]") {
  CHECK(sentences("Bad \xFF byte. Next \xC3 one.") == S{"Bad \xFF byte.", "Next \xC3 one."});
  CHECK(sentences("\xE3\x80") == S{"\xE3\x80"});        // truncated 。
  CHECK(sentences("End\xE3\x80\x82\xE3") == S{"End\xE3\x80\x82", "\xE3"});
  CHECK(sentences("\xED\xA0\x80. Surrogate.") == S{"\xED\xA0\x80.", "Surrogate."});
  // Random bytes biased towards punctuation, spaces and UTF-8 lead bytes: invariants hold.
  std::mt19937 rng(1234);
  const char alphabet[] = {'.', '!', '?', ' ', '\n', 'a', 'B', '1', '"', ')', '\xE3', '\x80', '\x82',
                           '\xC2', '\xA0', '\xBB', '\xAB', '\xFF', '\xE2', '\xA6', '\x0'};
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 40, ' ');
    for (char& c : s) c = alphabet[rng() % sizeof(alphabet)];
    check_invariants(s);
  }
}

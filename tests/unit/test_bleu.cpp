// tests/unit/test_bleu.cpp — unit tests of tools/bleu.{hpp,cpp}: the 13a tokenizer rule by rule,
// hand-computed corpus BLEU examples, and the Multi30k test2016 reference BLEU (sacreBLEU 2.5.1)
// from the shared model card. Shared root: $ATTEND_SHARED, else ../shared (from the working
// directory, the repository root under ctest). Absent: WARN and skip, or FAIL when CI=true.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "attend/error.hpp"
#include "tools/support/bleu.hpp"

using attend::corpus_bleu;
using attend::tokenize_13a;

namespace {

std::string shared_root() {
  if (const char* env = std::getenv("ATTEND_SHARED"); env && *env) return env;
  return "../shared";
}

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool files_available(const std::vector<std::string>& paths) {
  for (const std::string& p : paths) {
    if (is_file(p)) continue;
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") {
      FAIL("BLEU fixture not found: " << p << " (set ATTEND_SHARED)");
    } else {
      WARN("BLEU fixture not found: " << p << "; skipping (set ATTEND_SHARED)");
    }
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("tokenize_13a: punctuation class is split, ' , . - are not by that rule", "[bleu][13a]") {
  CHECK(tokenize_13a("Hello, world!") == "Hello , world !");
  CHECK(tokenize_13a("\"Hi\"?!") == "\" Hi \" ? !");
  CHECK(tokenize_13a("(1+2)*3=9") == "( 1 + 2 ) * 3 = 9");
  CHECK(tokenize_13a("x_y [z] {w} a|b ~c `d` ^e \\f") ==
        "x _ y [ z ] { w } a | b ~ c ` d ` ^ e \\ f");
  CHECK(tokenize_13a("e-mail:x@y.com") == "e-mail : x @ y . com");
  CHECK(tokenize_13a("50% $5 #1 a/b a;b") == "50 % $ 5 # 1 a / b a ; b");
  CHECK(tokenize_13a("don't") == "don't");  // the apostrophe stays
  // Non-ASCII punctuation is not split.
  CHECK(tokenize_13a("\xE2\x80\x9EHallo\xE2\x80\x9C") == "\xE2\x80\x9EHallo\xE2\x80\x9C");
}

TEST_CASE("tokenize_13a: period and comma unless between digits", "[bleu][13a]") {
  CHECK(tokenize_13a("It costs 3.50, or 1,000.") == "It costs 3.50 , or 1,000 .");
  CHECK(tokenize_13a("a.5") == "a . 5");  // preceded by a non-digit
  CHECK(tokenize_13a("3.b") == "3 . b");  // followed by a non-digit
  CHECK(tokenize_13a("1.5 2,5") == "1.5 2,5");
  CHECK(tokenize_13a("Hi...") == "Hi . . .");
  CHECK(tokenize_13a("a.b,c") == "a . b , c");
  // After a multi-byte UTF-8 character.
  CHECK(tokenize_13a("caf\xC3\xA9.") == "caf\xC3\xA9 .");
  CHECK(tokenize_13a("Stra\xC3\x9F" "e, ok") == "Stra\xC3\x9F" "e , ok");
}

TEST_CASE("tokenize_13a: dash only after a digit", "[bleu][13a]") {
  CHECK(tokenize_13a("10-20") == "10 - 20");
  CHECK(tokenize_13a("well-known") == "well-known");
  CHECK(tokenize_13a("a-1") == "a-1");
  CHECK(tokenize_13a("-5") == "-5");
  CHECK(tokenize_13a("saftig-gr\xC3\xBCnes") == "saftig-gr\xC3\xBCnes");
}

TEST_CASE("tokenize_13a: <skipped>, -\\n, newlines and entities", "[bleu][13a]") {
  CHECK(tokenize_13a("foo <skipped> bar") == "foo bar");
  CHECK(tokenize_13a("foo<skipped>bar") == "foobar");
  CHECK(tokenize_13a("exam-\nple") == "example");
  CHECK(tokenize_13a("a\nb") == "a b");
  CHECK(tokenize_13a("&quot;Hi&quot; &amp; &lt;b&gt;") == "\" Hi \" & < b >");
  CHECK(tokenize_13a("&amp;lt;") == "<");  // unescaped in sequence: &amp; first, then &lt;
  CHECK(tokenize_13a("&apos;") == "& apos ;");  // not one of the four entities
}

TEST_CASE("tokenize_13a: whitespace is collapsed like Python's str.split()", "[bleu][13a]") {
  CHECK(tokenize_13a("") == "");
  CHECK(tokenize_13a("   ") == "");
  CHECK(tokenize_13a("  a \t b\r\n") == "a b");
  CHECK(tokenize_13a("a\xC2\xA0" "b") == "a b");          // U+00A0
  CHECK(tokenize_13a("a\xE2\x80\x89" "b") == "a b");      // U+2009
  CHECK(tokenize_13a("a\xE3\x80\x80" "b") == "a b");      // U+3000
  CHECK(tokenize_13a("a\x1F" "b") == "a b");              // unit separator
  CHECK(tokenize_13a("a\xE2\x80\x8B" "b") == "a\xE2\x80\x8B" "b");  // U+200B is not a space
}

TEST_CASE("corpus_bleu: identical corpus scores 100", "[bleu]") {
  const std::vector<std::string> lines = {"It is a dog.", "A man, 3.5 years old, runs."};
  const attend::BleuScore s = corpus_bleu(lines, lines);
  CHECK(s.score == Approx(100.0).epsilon(1e-12));
  CHECK(s.signature_line() ==
        "100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 14 ref_len = 14)");
}

TEST_CASE("corpus_bleu: hand-computed single sentence with one exp-smoothed order", "[bleu]") {
  // 1-grams 5/6, 2-grams 3/5, 3-grams 1/4, 4-grams 0/3 -> 100 / (2 * 3).
  const attend::BleuScore s = corpus_bleu({"the cat sat on the mat"}, {"the cat is on the mat"});
  CHECK(s.counts[0] == 5);
  CHECK(s.totals[0] == 6);
  CHECK(s.counts[3] == 0);
  CHECK(s.totals[3] == 3);
  CHECK(s.precisions[0] == Approx(500.0 / 6));
  CHECK(s.precisions[1] == Approx(60.0));
  CHECK(s.precisions[2] == Approx(25.0));
  CHECK(s.precisions[3] == Approx(100.0 / 6));
  const double expected = std::pow(500.0 / 6 * 60.0 * 25.0 * (100.0 / 6), 0.25);
  CHECK(s.score == Approx(expected).epsilon(1e-12));
  CHECK(s.score == Approx(37.99178428257963).epsilon(1e-12));
  CHECK(s.signature_line() ==
        "37.99 83.3/60.0/25.0/16.7 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)");
}

TEST_CASE("corpus_bleu: exp smoothing doubles for each order without a match", "[bleu]") {
  // 1-grams 3/5; 2-, 3-, 4-grams no match: 100/(2*4), 100/(4*3), 100/(8*2).
  const attend::BleuScore s = corpus_bleu({"a b c d e"}, {"a x c y e"});
  CHECK(s.precisions[0] == Approx(60.0));
  CHECK(s.precisions[1] == Approx(12.5));
  CHECK(s.precisions[2] == Approx(100.0 / 12));
  CHECK(s.precisions[3] == Approx(6.25));
  CHECK(s.score == Approx(std::pow(60.0 * 12.5 * (100.0 / 12) * 6.25, 0.25)).epsilon(1e-12));
  CHECK(s.signature_line() ==
        "14.06 60.0/12.5/8.3/6.2 (BP = 1.000 ratio = 1.000 hyp_len = 5 ref_len = 5)");
}

TEST_CASE("corpus_bleu: counts are clipped and statistics summed over the corpus", "[bleu]") {
  // Clipping: "the" x4 against one "the" -> 1/4.
  const attend::BleuScore one = corpus_bleu({"the the the the"}, {"the cat"});
  CHECK(one.counts[0] == 1);
  CHECK(one.totals[0] == 4);
  CHECK(one.signature_line() ==
        "15.97 25.0/16.7/12.5/12.5 (BP = 1.000 ratio = 2.000 hyp_len = 4 ref_len = 2)");
  // Corpus level: (5+1)/(6+4), (3+0)/(5+3), (1+0)/(4+2), 0/(3+1) -> 100/(2*4).
  const attend::BleuScore s = corpus_bleu({"the cat sat on the mat", "the the the the"},
                                          {"the cat is on the mat", "the cat"});
  CHECK(s.score == Approx(std::pow(60.0 * 37.5 * (100.0 / 6) * 12.5, 0.25)).epsilon(1e-12));
  CHECK(s.signature_line() ==
        "26.17 60.0/37.5/16.7/12.5 (BP = 1.000 ratio = 1.250 hyp_len = 10 ref_len = 8)");
}

TEST_CASE("corpus_bleu: brevity penalty and orders without n-grams", "[bleu]") {
  // hyp_len 2 < ref_len 6: BP = exp(1 - 3). No 3-gram at all: sacreBLEU stops there and the
  // missing orders (precision 0, log floored) make the score 0.
  const attend::BleuScore s = corpus_bleu({"the cat"}, {"the cat sat on the mat"});
  CHECK(s.bp == Approx(std::exp(-2.0)));
  CHECK(s.score == 0.0);
  CHECK(s.signature_line() ==
        "0.00 100.0/100.0/0.0/0.0 (BP = 0.135 ratio = 0.333 hyp_len = 2 ref_len = 6)");
  // Same length, shorter by one token: BP < 1 on an otherwise perfect 4-gram match.
  const attend::BleuScore b = corpus_bleu({"a b c d e"}, {"a b c d e f"});
  CHECK(b.bp == Approx(std::exp(1.0 - 6.0 / 5.0)));
  CHECK(b.score == Approx(100.0 * std::exp(1.0 - 6.0 / 5.0)).epsilon(1e-12));
}

TEST_CASE("corpus_bleu: no match and empty hypotheses score 0", "[bleu]") {
  const attend::BleuScore none = corpus_bleu({"x y z"}, {"a b c"});
  CHECK(none.score == 0.0);
  CHECK(none.signature_line() ==
        "0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 3 ref_len = 3)");
  const attend::BleuScore empty = corpus_bleu({""}, {"a b"});
  CHECK(empty.score == 0.0);
  CHECK(empty.signature_line() ==
        "0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 2)");
}

TEST_CASE("corpus_bleu: lines are rstripped before tokenizing", "[bleu]") {
  // "-\n" at the very end is stripped as whitespace first, so the dash is kept.
  const attend::BleuScore s = corpus_bleu({"A dog-\n"}, {"A dog-\r"});
  CHECK(s.hyp_len == 2);
  CHECK(s.score == Approx(0.0).margin(1e-9));  // 2 tokens: no 3-grams
  CHECK(s.precisions[0] == Approx(100.0));
  CHECK(s.precisions[1] == Approx(100.0));
}

TEST_CASE("corpus_bleu: rejects mismatched counts and empty references", "[bleu]") {
  CHECK_THROWS_AS(corpus_bleu({"a", "b"}, {"a"}), attend::Error);
  CHECK_THROWS_AS(corpus_bleu({"a"}, {""}), attend::Error);
  CHECK_THROWS_AS(corpus_bleu({"a"}, {" \t\r"}), attend::Error);
  CHECK_NOTHROW(corpus_bleu({}, {}));
}

TEST_CASE("read_bleu_lines: split on \\n like sacreBLEU's reader", "[bleu]") {
  const std::string path = "/tmp/attend_test_bleu_lines.txt";
  {
    std::ofstream out(path, std::ios::binary);
    out << "a\r\n\nb";
  }
  const std::vector<std::string> lines = attend::read_bleu_lines(path);
  std::remove(path.c_str());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "a\r");
  CHECK(lines[1] == "");
  CHECK(lines[2] == "b");
  CHECK_THROWS_AS(attend::read_bleu_lines("/nonexistent/attend/bleu.txt"), attend::Error);
}

TEST_CASE("corpus_bleu: Multi30k test2016 reference BLEU of the bundled model", "[bleu][fixtures]") {
  const std::string root = shared_root();
  const std::string ref = root + "/data/multi30k/test_2016_flickr.de";
  const std::string dir = root + "/models/marian-en-de-multi30k/reference/";
  const std::string beam = dir + "test2016.beam4.de", greedy = dir + "test2016.greedy.de";
  if (!files_available({ref, beam, greedy})) return;
  const std::vector<std::string> refs = attend::read_bleu_lines(ref);
  REQUIRE(refs.size() == 1000);

  SECTION("beam 4") {
    const attend::BleuScore s = corpus_bleu(attend::read_bleu_lines(beam), refs);
    CHECK(s.signature_line() ==
          "37.54 66.8/43.7/30.9/22.0 (BP = 1.000 ratio = 1.016 hyp_len = 12301 ref_len = 12106)");
  }
  SECTION("greedy") {
    const attend::BleuScore s = corpus_bleu(attend::read_bleu_lines(greedy), refs);
    CHECK(s.signature_line() ==
          "34.84 63.6/40.6/28.5/20.0 (BP = 1.000 ratio = 1.044 hyp_len = 12641 ref_len = 12106)");
  }
}

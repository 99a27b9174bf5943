// tests/attention/test_html_translation.cpp — markup-preserving translation: with synthetic
// translators (identity, upper-casing, word-order reversing; exact expected output) the tag
// handling is checked exactly — nested inline tags, links, entities, void elements, attributes
// holding text, untouched elements, documents vs fragments; then the bundled model translates
// 36 realistic paragraphs (Multi30k sentences in varied markup) and the output keeps every tag,
// is well-formed and is German.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "attend/attend.hpp"
#include "tasks/html_translation.hpp"
#include "tests/support/html_check.hpp"

namespace {

std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> w;
  std::istringstream in(s);
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

// target = source words transformed; links: target word i -> source word order[i]
attend::HtmlRunTranslator synthetic(bool upper, bool reverse, std::vector<std::string>* seen = nullptr) {
  return [=](const std::vector<std::string>& sources) {
    std::vector<attend::HtmlRunTranslation> out;
    for (const auto& s : sources) {
      if (seen) seen->push_back(s);
      auto w = words_of(s);
      attend::HtmlRunTranslation t;
      const int n = static_cast<int>(w.size());
      for (int i = 0; i < n; ++i) {
        const int src = reverse ? n - 1 - i : i;
        std::string x = w[static_cast<size_t>(src)];
        if (upper)
          for (auto& c : x) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        t.text += (i ? " " : "") + x;
        t.links.push_back(attend::WordLink{src, i});
      }
      out.push_back(t);
    }
    return out;
  };
}

std::string run(const std::string& html, bool upper = true, bool reverse = false) {
  return attend::translate_html_with({html}, synthetic(upper, reverse)).at(0);
}

}  // namespace

TEST_CASE("html: inline tags follow their words, blocks and attributes kept", "[html]") {
  CHECK(run("<p>a <b>black dog</b> runs</p>") == "<p>A <b>BLACK DOG</b> RUNS</p>");
  // reordered target: the tags move with their words
  CHECK(run("<p>a <b>black dog</b> runs</p>", true, true) == "<p>RUNS <b>DOG BLACK</b> A</p>");
  // nested inline tags
  CHECK(run("<div>x <span class=\"c\">y <i>z <b>w</b></i></span> v</div>") ==
        "<div>X <span class=\"c\">Y <i>Z <b>W</b></i></span> V</div>");
  CHECK(run("<div>x <span class=\"c\">y <i>z <b>w</b></i></span> v</div>", true, true) ==
        "<div>V <span class=\"c\"><i><b>W</b> Z</i> Y</span> X</div>");
  // links: href kept exactly (entities re-encoded), punctuation outside the link stays outside
  CHECK(run("<p>see the <a href=\"/x?a=1&amp;b=2\" title=\"a &quot;park&quot;\">park</a>.</p>") ==
        "<p>SEE THE <a href=\"/x?a=1&amp;b=2\" title=\"a &quot;park&quot;\">PARK</a>.</p>");
  // block structure: each block is its own input
  std::vector<std::string> seen;
  attend::translate_html_with({"<ul><li>one two</li><li>three <em>four</em></li></ul>"}, synthetic(true, false, &seen));
  CHECK(seen == std::vector<std::string>{"one two", "three four"});
}

TEST_CASE("html: entities decoded for the model and re-encoded", "[html]") {
  std::vector<std::string> seen;
  const auto out = attend::translate_html_with({"<p>fish &amp; chips &lt;3 caf&eacute; &#x263A;&nbsp;ok</p>"},
                                               synthetic(false, false, &seen));
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == "fish & chips <3 caf\xC3\xA9 \xE2\x98\xBA\xC2\xA0ok");
  CHECK(out[0] == "<p>fish &amp; chips &lt;3 caf\xC3\xA9 \xE2\x98\xBA&nbsp;ok</p>");
}

TEST_CASE("html: void elements, untouched content, comments", "[html]") {
  CHECK(run("<p>one<br>two <img src=\"a.png\" alt=\"a dog\"> three</p>") ==
        "<p>ONE<br>TWO <img src=\"a.png\" alt=\"a dog\"> THREE</p>");
  CHECK(run("<p>run <code>ls -l</code> now</p><pre>keep  this\n text</pre>") ==
        "<p>RUN <code>ls -l</code> NOW</p><pre>keep  this\n text</pre>");
  CHECK(run("<script>if (a < b) go();</script><style>p > b { x: 1 }</style><p translate=\"no\">keep me</p>") ==
        "<script>if (a < b) go();</script><style>p > b { x: 1 }</style><p translate=\"no\">keep me</p>");
  CHECK(run("<p>say <span translate=\"no\">Attend</span> twice<!-- note --></p>") ==
        "<p>SAY <span translate=\"no\">Attend</span> TWICE<!-- note --></p>");
  CHECK(run("<p>\n  leading and trailing  \n</p>") == "<p>\n  LEADING AND TRAILING  \n</p>");
}

TEST_CASE("html: documents stay documents, fragments fragments; malformed input is repaired", "[html]") {
  const std::string doc = "<!DOCTYPE html><html><head><title>a title</title></head><body><p>hello world</p></body></html>";
  CHECK(run(doc) == "<!DOCTYPE html><html><head><title>a title</title></head><body><p>HELLO WORLD</p></body></html>");
  // unclosed and misnested tags: the HTML5 parser's repair, output well-formed, no tag lost
  const std::string bad = "<p>one <b>two <i>three</b> four</i><p>five <span>six";
  const std::string out = run(bad);
  const auto scan = attend_test::scan_tags(out);
  CHECK(scan.well_formed);
  for (const char* t : {"<p>", "<b>", "<i>", "<span>"})
    CHECK(std::find(scan.start_tags.begin(), scan.start_tags.end(), t) != scan.start_tags.end());
  CHECK_THROWS_WITH(attend::translate_html_with({std::string("<p>a\xFF</p>")}, synthetic(true, false)),
                    Catch::Contains("not valid UTF-8"));
}

TEST_CASE("html: a raw-text element the parser gave element children is written as its text", "[html]") {
  // fuzz_html's input: a vertical tab after "<script" and a second "<script" inside the first
  // leave the parsed <script> with a <script> child; raw text cannot hold tags, so the output
  // keeps only the text (here none) and stays well-formed.
  const std::string in =
      "<!DO=TYo <b>three y</:re><script\vif (a<b) f();<<[) f();</scan transodyee y</:re><script\vif (a<b) "
      "f();<<[) f();</sc></html>";
  const std::string out = run(in, false, false);
  const auto scan = attend_test::scan_tags(out);
  INFO(out);
  CHECK(scan.well_formed);
  CHECK(out.find("<script scan=\"\" transodyee=\"\" :re=\"\"></script>") != std::string::npos);
}

TEST_CASE("html: an <html translate=\"no\"> tag inside a fragment does not untouch the fragment", "[html]") {
  // fuzz_html's input (CI, stop 21): in a fragment the parser puts a nested <html> tag's
  // attributes on the root it made up; the collecting pass read that root as untouched and found
  // no runs while the writing pass walked its children and asked for one (vector::at threw).
  const std::string in = "<div>a dog <html translate=\"no\"> runs <span translate=\"no\">keep</span> x</div>";
  const std::string out = run(in);
  INFO(out);
  CHECK(attend_test::scan_tags(out).well_formed);
  CHECK(out == "<div>A DOG RUNS <span translate=\"no\">keep</span> X</div>");
  const std::string fuzz =
      "\asvg\"> <cOiv>ca&lt;3 <html translate=\"no\"f&e <cOiac5te; &lt;3 <span translate=\"no\">keep</span> "
      "x<br>y <img alt=\"a b\"> <cOde\a<div>c>c</cod--af";
  for (bool upper : {false, true})
    for (bool reverse : {false, true}) {
      const std::string o = attend::translate_html_with({fuzz}, synthetic(upper, reverse)).at(0);
      INFO(o);
      CHECK(attend_test::scan_tags(o).well_formed);
    }
}

TEST_CASE("html: 36 realistic paragraphs through the bundled model", "[html]") {
  auto model = attend::Model::load("models/default/marian-en-de-multi30k.attend");
  const std::vector<std::string> sentences = {
      "A man in an orange hat is looking at something.", "A dog runs in the park.",
      "Two children play with a red ball on the beach.", "A woman in a blue dress is standing in the water.",
      "People are fixing the roof of a house.", "A black dog is running through the snow.",
      "A young girl is climbing a wall.", "Three men are working on a street.",
      "A man with a guitar is sitting on a bench.", "A group of people are standing in front of a building.",
      "A boy jumps into the water.", "Two dogs are playing in the grass."};
  // inline markup patterns over the words of a sentence
  auto markup = [](const std::string& s, int k) {
    auto w = words_of(s);
    const size_t n = w.size();
    auto at = [&](size_t i) -> std::string& { return w[std::min(i, n - 1)]; };
    switch (k % 6) {
      case 0: at(1) = "<b>" + at(1) + "</b>"; break;
      case 1: at(1) = "<i>" + at(1); at(2) += "</i>"; break;
      case 2: at(n - 1) = "<a href=\"https://example.org/?q=" + std::to_string(k) + "&amp;x=1\">" + at(n - 1) + "</a>"; break;
      case 3: at(0) = "<strong>" + at(0); at(2) = "<em>" + at(2) + "</em>"; at(3) += "</strong>"; break;
      case 4: at(2) = "<span class=\"w\" title=\"a title &amp; more\">" + at(2) + "</span>"; at(3) += "<br>"; break;
      default: at(1) = "<code>x</code> " + at(1); at(n - 2) = "<u>" + at(n - 2) + "</u>"; break;
    }
    std::string out;
    for (const auto& x : w) out += (out.empty() ? "" : " ") + x;
    return out;
  };
  std::string html = "<!DOCTYPE html><html><head><title>Photos</title></head><body>\n<h1>Captions</h1>\n";
  for (int k = 0; k < 36; ++k) {
    const std::string p = markup(sentences[static_cast<size_t>(k) % sentences.size()], k);
    if (k % 9 == 8) html += "<ul><li>" + p + "</li></ul>\n";
    else html += "<p>" + p + "</p>\n";
  }
  html += "<pre>A dog runs.</pre></body></html>";
  const std::string out = model->translate_html({html}).at(0);
  const auto in_scan = attend_test::scan_tags(html), out_scan = attend_test::scan_tags(out);
  REQUIRE(in_scan.well_formed);
  INFO(out);
  CHECK(out_scan.well_formed);
  CHECK(out_scan.problem.empty());
  // every start tag of the input is in the output (as often or more: a tag whose words were
  // split by the translation is opened once per piece)
  for (const auto& t : in_scan.start_tags) {
    const auto want = std::count(in_scan.start_tags.begin(), in_scan.start_tags.end(), t);
    const auto got = std::count(out_scan.start_tags.begin(), out_scan.start_tags.end(), t);
    INFO(t);
    CHECK(got >= want);
  }
  CHECK(out.find("Hund") != std::string::npos);
  CHECK(out.find("Kinder") != std::string::npos);
  CHECK(out.find("A dog runs in the park") == std::string::npos);  // translated
  CHECK(out.find("<pre>A dog runs.</pre>") != std::string::npos);  // untouched
  CHECK(out.find("<title>Photos</title>") != std::string::npos);
}

// tests/unit/test_summarize_chunker.cpp — the long-document splitter of summarize
// (tasks/summarize_chunker.*) with a word-counting stand-in for the tokenizer: chunks stay in
// order, cover every non-space byte once, fit the limit, prefer paragraph boundaries, and cut
// over-long runs without spaces at UTF-8 character boundaries.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "attend/error.hpp"
#include "tasks/summarize_chunker.hpp"

using attend::ChunkLimits;
using attend::TextSpan;

namespace {

// "Tokens" = whitespace-separated words, each at most 8 bytes per token, plus 2 special tokens.
size_t word_tokens(std::string_view t) {
  size_t n = 2, run = 0;
  auto flush = [&] {
    if (run) n += (run + 7) / 8;
    run = 0;
  };
  for (char c : t) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') flush();
    else ++run;
  }
  flush();
  return n;
}

std::string strip_spaces(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r') out.push_back(c);
  return out;
}

// Chunks are ordered, disjoint, trimmed, and together hold every non-space byte of the text.
void check_cover(const std::string& text, const std::vector<TextSpan>& chunks) {
  std::string joined;
  size_t prev_end = 0;
  for (const auto& c : chunks) {
    REQUIRE(c.begin >= prev_end);
    REQUIRE(c.end > c.begin);
    REQUIRE(c.end <= text.size());
    REQUIRE(text[c.begin] != ' ');
    REQUIRE(text[c.end - 1] != ' ');
    joined += text.substr(c.begin, c.size());
    prev_end = c.end;
  }
  REQUIRE(strip_spaces(joined) == strip_spaces(text));
}

std::string sentence(int i, int words) {
  std::string s = "S" + std::to_string(i);
  for (int w = 1; w < words; ++w) s += " w" + std::to_string(w);
  return s + ".";
}

}  // namespace

TEST_CASE("summarize chunker: a text that fits is one chunk", "[summarize]") {
  const std::string text = "  One short paragraph. Two sentences.  \n";
  ChunkLimits lim;
  lim.max_tokens = 100;
  auto chunks = attend::split_into_chunks(text, lim, word_tokens);
  REQUIRE(chunks.size() == 1);
  CHECK(text.substr(chunks[0].begin, chunks[0].size()) == "One short paragraph. Two sentences.");
  CHECK(attend::split_into_chunks(" \n\n \t", lim, word_tokens).empty());
}

TEST_CASE("summarize chunker: paragraphs and sentences packed under the limit", "[summarize]") {
  // 6 paragraphs of 3 sentences x 10 words; limit 2 + 45 words: one paragraph (30) fits, two do not.
  std::string text;
  for (int p = 0; p < 6; ++p) {
    for (int s = 0; s < 3; ++s) text += sentence(p * 10 + s, 10) + " ";
    text += "\n\n";
  }
  ChunkLimits lim;
  lim.max_tokens = 47;
  auto chunks = attend::split_into_chunks(text, lim, word_tokens);
  check_cover(text, chunks);
  REQUIRE(chunks.size() == 6);  // paragraph boundaries win over filling a chunk
  for (const auto& c : chunks) {
    CHECK(word_tokens(std::string_view(text).substr(c.begin, c.size())) <= lim.max_tokens);
    CHECK(text.substr(c.begin, c.size()).find("\n\n") == std::string::npos);
  }
}

TEST_CASE("summarize chunker: a paragraph longer than the limit splits at sentences", "[summarize]") {
  std::string text;
  for (int s = 0; s < 20; ++s) text += sentence(s, 7) + " ";
  ChunkLimits lim;
  lim.max_tokens = 2 + 21;  // exactly three sentences
  auto chunks = attend::split_into_chunks(text, lim, word_tokens);
  check_cover(text, chunks);
  REQUIRE(chunks.size() == 7);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const std::string c = text.substr(chunks[i].begin, chunks[i].size());
    CHECK(word_tokens(c) <= lim.max_tokens);
    CHECK(c.back() == '.');  // ends at a sentence end
    CHECK(c.rfind("S" + std::to_string(3 * i), 0) == 0);
  }
}

TEST_CASE("summarize chunker: a sentence longer than the limit splits at words", "[summarize]") {
  std::string text = sentence(0, 100);
  ChunkLimits lim;
  lim.max_tokens = 12;
  auto chunks = attend::split_into_chunks(text, lim, word_tokens);
  check_cover(text, chunks);
  REQUIRE(chunks.size() == 10);
  for (const auto& c : chunks) CHECK(word_tokens(std::string_view(text).substr(c.begin, c.size())) <= 12);
}

TEST_CASE("summarize chunker: a 100000-byte run without spaces is cut at UTF-8 boundaries", "[summarize]") {
  std::string text = "Start. ";
  while (text.size() < 100000) text += "\xC3\xA9x\xE2\x82\xAC";  // é x € without spaces
  text += " End.";
  ChunkLimits lim;
  lim.max_tokens = 64;
  lim.max_run_bytes = 256;
  size_t longest_counted = 0;
  auto counter = [&](std::string_view t) {
    longest_counted = std::max(longest_counted, t.size());
    return word_tokens(t);
  };
  auto chunks = attend::split_into_chunks(text, lim, counter);
  check_cover(text, chunks);
  for (const auto& c : chunks) {
    const std::string s = text.substr(c.begin, c.size());
    CHECK(word_tokens(s) <= lim.max_tokens);
    // never starts or ends inside a multi-byte character
    CHECK((static_cast<unsigned char>(s.front()) & 0xC0) != 0x80);
    CHECK((static_cast<unsigned char>(text[c.end]) & 0xC0) != 0x80);
  }
  // The whole text was never handed to the counter in one piece.
  CHECK(longest_counted < 64 * 8 + 64);
}

TEST_CASE("summarize chunker: a limit without room for text is an error", "[summarize]") {
  ChunkLimits lim;
  lim.max_tokens = 2;  // the counter's special tokens alone
  REQUIRE_THROWS_AS(attend::split_into_chunks("Some text.", lim, word_tokens), attend::Error);
}

TEST_CASE("summarize chunker: paragraph and sentence spans", "[summarize]") {
  const std::string text = "Ask me. Come here!\n  \t\nEat fish? \"Go home.\" It rains\n\n\n";
  auto paras = attend::paragraph_spans(text);
  REQUIRE(paras.size() == 2);
  CHECK(text.substr(paras[0].begin, paras[0].size()) == "Ask me. Come here!");
  CHECK(text.substr(paras[1].begin, paras[1].size()) == "Eat fish? \"Go home.\" It rains");
  const std::string p = text.substr(paras[1].begin, paras[1].size());
  auto sents = attend::summarize_sentence_spans(p);
  REQUIRE(sents.size() == 3);
  CHECK(p.substr(sents[0].begin, sents[0].end - sents[0].begin) == "Eat fish?");
  CHECK(p.substr(sents[1].begin, sents[1].end - sents[1].begin) == "\"Go home.\"");
  CHECK(p.substr(sents[2].begin, sents[2].end - sents[2].begin) == "It rains");
  // The document splitter's abbreviation rules apply: "Dr." and "e.g." end no sentence.
  CHECK(attend::summarize_sentence_spans("Dr. Smith came, e.g. on Monday. He left.").size() == 2);
}

TEST_CASE("summarize chunker: a piece that alone exceeds the limit is halved until it fits", "[summarize]") {
  const std::string text(5000, 'y');  // 256-byte pieces cost 2 + 32 "tokens"
  ChunkLimits lim;
  lim.max_tokens = 20;
  auto chunks = attend::split_into_chunks(text, lim, word_tokens);
  check_cover(text, chunks);
  for (const auto& c : chunks) CHECK(word_tokens(std::string_view(text).substr(c.begin, c.size())) <= 20);
}

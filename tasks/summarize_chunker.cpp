// tasks/summarize_chunker.cpp — long-document splitting for summarize: paragraphs, sentences,
// lines, words and byte pieces, packed greedily into chunks whose token count is checked with
// the real tokenizer (docs/summarize.md describes the strategy and its limits).
#include "tasks/summarize_chunker.hpp"

#include <algorithm>
#include <string>

#include "attend/error.hpp"
#include "tokenizer/text/sentence_splitter.hpp"

namespace attend {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

TextSpan trim(std::string_view text, TextSpan s) {
  while (s.begin < s.end && is_space(text[s.begin])) ++s.begin;
  while (s.end > s.begin && is_space(text[s.end - 1])) --s.end;
  return s;
}

// Splits s at every occurrence of `is_sep` runs; pieces trimmed, empty pieces dropped.
template <typename Sep>
std::vector<TextSpan> split_on(std::string_view text, TextSpan s, Sep is_sep) {
  std::vector<TextSpan> out;
  size_t start = s.begin;
  for (size_t i = s.begin; i <= s.end; ++i) {
    if (i == s.end || is_sep(i)) {
      TextSpan piece = trim(text, {start, i});
      if (piece.size() > 0) out.push_back(piece);
      start = i + 1;
    }
  }
  return out;
}

size_t longest_run(std::string_view text, TextSpan s) {
  size_t best = 0, run = 0;
  for (size_t i = s.begin; i < s.end; ++i) {
    run = is_space(text[i]) ? 0 : run + 1;
    best = std::max(best, run);
  }
  return best;
}

// Cuts s into pieces of at most max_bytes bytes, never inside a UTF-8 character (a cut moves back
// over continuation bytes; a malformed run of continuation bytes is cut anyway).
std::vector<TextSpan> byte_pieces(std::string_view text, TextSpan s, size_t max_bytes) {
  std::vector<TextSpan> out;
  size_t start = s.begin;
  while (start < s.end) {
    size_t end = std::min(s.end, start + max_bytes);
    if (end < s.end) {
      size_t e = end;
      while (e > start + 1 && (static_cast<unsigned char>(text[e]) & 0xC0) == 0x80) --e;
      if (e > start + 1 || (static_cast<unsigned char>(text[e]) & 0xC0) != 0x80) end = e;
    }
    out.push_back({start, end});
    start = end;
  }
  return out;
}


struct Unit {
  TextSpan span;
  size_t cost = 0;       // tokens it adds to an input
  size_t paragraph = 0;  // index of its paragraph
};

enum Level { kParagraph = 0, kSentence, kLine, kWord, kPiece };

class Splitter {
 public:
  Splitter(std::string_view text, const ChunkLimits& limits, const TokenCounter& count)
      : text_(text), limits_(limits), count_(count) {
    overhead_ = count_(std::string_view());
    if (overhead_ >= limits_.max_tokens)
      throw Error("summarize: the input limit of " + std::to_string(limits_.max_tokens) +
                  " tokens leaves no room for text (prefix and special tokens take " + std::to_string(overhead_) + ")");
    if (limits_.max_run_bytes == 0) limits_.max_run_bytes = 1;
  }

  std::vector<TextSpan> run() {
    const auto paragraphs = paragraph_spans(text_);
    for (size_t p = 0; p < paragraphs.size(); ++p) add(paragraphs[p], kParagraph, p);
    return pack();
  }

 private:
  size_t count(TextSpan s) const { return count_(text_.substr(s.begin, s.size())); }

  std::vector<TextSpan> children(TextSpan s, Level level) const {
    switch (level) {
      case kParagraph: {  // the paragraph's sentences
        std::vector<TextSpan> out;
        for (TextSpan r : summarize_sentence_spans(text_.substr(s.begin, s.size())))
          out.push_back(trim(text_, {s.begin + r.begin, s.begin + r.end}));
        out.erase(std::remove_if(out.begin(), out.end(), [](TextSpan x) { return x.size() == 0; }), out.end());
        return out;
      }
      case kSentence: return split_on(text_, s, [&](size_t i) { return text_[i] == '\n'; });
      case kLine: return split_on(text_, s, [&](size_t i) { return is_space(text_[i]); });
      default: return byte_pieces(text_, s, limits_.max_run_bytes);
    }
  }

  void add(TextSpan s, int level, size_t paragraph) {
    if (level >= kPiece) {
      // A piece that alone does not fit (e.g. 256 bytes that are 256 byte-level tokens) is
      // halved, at a character boundary, until it fits or is a single character.
      const size_t c = count(s);
      if (c > limits_.max_tokens && s.size() > 1) {
        const auto halves = byte_pieces(text_, s, (s.size() + 1) / 2);
        if (halves.size() > 1) {
          for (TextSpan h : halves) add(h, kPiece, paragraph);
          return;
        }
      }
      units_.push_back({s, cost_of(c), paragraph});
      return;
    }
    if (longest_run(text_, s) <= limits_.max_run_bytes) {
      const size_t c = count(s);
      if (c <= limits_.max_tokens) {
        units_.push_back({s, cost_of(c), paragraph});
        return;
      }
    }
    const auto parts = children(s, static_cast<Level>(level));
    for (TextSpan part : parts) add(part, level + 1, paragraph);
  }

  size_t cost_of(size_t c) const { return c > overhead_ ? c - overhead_ : 0; }

  std::vector<TextSpan> pack() {
    std::vector<size_t> paragraph_cost;
    for (const Unit& u : units_) {
      if (u.paragraph >= paragraph_cost.size()) paragraph_cost.resize(u.paragraph + 1, 0);
      paragraph_cost[u.paragraph] += u.cost;
    }
    const size_t budget = limits_.max_tokens - overhead_;
    std::vector<TextSpan> chunks;
    size_t i = 0;
    while (i < units_.size()) {
      const size_t start = i;
      size_t sum = 0;
      while (i < units_.size()) {
        const Unit& u = units_[i];
        if (i > start) {
          if (sum + u.cost > budget) break;
          // Prefer to end a half-full chunk at a paragraph boundary over cutting the next
          // paragraph in two.
          const bool new_paragraph = u.paragraph != units_[i - 1].paragraph;
          if (new_paragraph && 2 * sum >= budget && sum + paragraph_cost[u.paragraph] > budget) break;
        }
        sum += u.cost;
        ++i;
      }
      // Token counts of pieces do not add up exactly (merges across the joins): check the real
      // count and give back units until it fits.
      while (i - start > 1 && count({units_[start].span.begin, units_[i - 1].span.end}) > limits_.max_tokens) --i;
      chunks.push_back({units_[start].span.begin, units_[i - 1].span.end});
    }
    return chunks;
  }

  std::string_view text_;
  ChunkLimits limits_;
  const TokenCounter& count_;
  size_t overhead_ = 0;
  std::vector<Unit> units_;
};

}  // namespace

std::vector<TextSpan> summarize_sentence_spans(std::string_view paragraph) {
  std::vector<TextSpan> out;
  for (const auto& s : text::split_sentences(paragraph)) out.push_back({s.begin, s.end});
  return out;
}

std::vector<TextSpan> paragraph_spans(std::string_view text) {
  std::vector<TextSpan> out;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    if (text[i] != '\n') {
      ++i;
      continue;
    }
    // A blank line follows when only spaces/tabs/\r come before the next '\n'.
    size_t j = i + 1;
    while (j < text.size() && text[j] != '\n' && is_space(text[j])) ++j;
    if (j < text.size() && text[j] == '\n') {
      TextSpan p = trim(text, {start, i});
      if (p.size() > 0) out.push_back(p);
      while (j < text.size() && is_space(text[j])) ++j;
      start = i = j;
      continue;
    }
    i = j;
  }
  TextSpan p = trim(text, {start, text.size()});
  if (p.size() > 0) out.push_back(p);
  return out;
}

std::vector<TextSpan> split_into_chunks(std::string_view text, const ChunkLimits& limits, const TokenCounter& count) {
  return Splitter(text, limits, count).run();
}

}  // namespace attend

// tasks/summarize_chunker.hpp — splits a long document into chunks that fit a model's source
// length, measured in tokens: on paragraph boundaries first, then sentences, then lines, then
// words, and as a last resort inside an over-long "word" (a 100 000-byte run without spaces).
// Independent of the model: the caller supplies the token counter (docs/summarize.md).
#pragma once
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace attend {

struct TextSpan {
  size_t begin = 0, end = 0;  // byte range [begin, end)
  size_t size() const { return end - begin; }
};

// Sentence spans of one paragraph (byte ranges relative to `paragraph`, whitespace between
// sentences excluded): tokenizer/sentence_splitter.hpp's rule-based splitter (abbreviations such
// as "Dr." or "e.g." do not split). The one place that decides which splitter summarize uses.
std::vector<TextSpan> summarize_sentence_spans(std::string_view paragraph);

// Paragraph spans of `text`: runs of text separated by blank lines (whitespace-only lines),
// each trimmed of surrounding whitespace.
std::vector<TextSpan> paragraph_spans(std::string_view text);

// Tokens of one model input made from `text` (prefix and special tokens included).
using TokenCounter = std::function<size_t(std::string_view text)>;

struct ChunkLimits {
  size_t max_tokens = 512;      // count(chunk) <= max_tokens (see split_into_chunks)
  size_t max_run_bytes = 256;   // runs without whitespace longer than this are cut (at UTF-8
                                // character boundaries) before they are ever tokenized
};

// Splits `text` into consecutive chunks (byte ranges of `text`, trimmed, in order, covering every
// non-whitespace byte exactly once). Every chunk satisfies count(chunk) <= limits.max_tokens
// unless a single character alone exceeds it (then it is a chunk of its own). Whitespace-only
// text gives no chunks. Throws attend::Error when max_tokens leaves no
// room for text (count("") >= max_tokens).
std::vector<TextSpan> split_into_chunks(std::string_view text, const ChunkLimits& limits, const TokenCounter& count);

}  // namespace attend

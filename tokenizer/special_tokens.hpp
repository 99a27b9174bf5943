// tokenizer/special_tokens.hpp — splitting input text on special-token strings, as the slow
// Hugging Face tokenizers do before the subword model runs (PreTrainedTokenizer.tokenize).
#pragma once
#include <string>
#include <vector>

namespace attend {

// One special ("no split") token. `lstrip`/`rstrip`: whether the token swallows the whitespace
// on its left / right. A token given as a plain string in Hugging Face (not an AddedToken)
// strips both sides; an AddedToken strips only where its flag says so.
struct SpecialToken {
  std::string content;
  bool lstrip = true;
  bool rstrip = true;
};

struct TextSegment {
  std::string text;
  bool special = false;  // true: `text` is exactly one special token's content
};

class SpecialTokenSplitter {
 public:
  SpecialTokenSplitter() = default;
  // Later entries with the same content override earlier ones (HF keeps the last AddedToken).
  explicit SpecialTokenSplitter(const std::vector<SpecialToken>& tokens);

  // Splits `text` at every occurrence of a special token (leftmost match, longest token at that
  // position), strips the whitespace next to special tokens according to their flags (Python
  // str.strip semantics) and drops text segments that became empty.
  std::vector<TextSegment> split(const std::string& text) const;

  const std::vector<SpecialToken>& tokens() const { return tokens_; }

 private:
  std::vector<SpecialToken> tokens_;          // unique contents, longest first
  std::vector<std::vector<size_t>> by_byte_;  // first byte -> indices into tokens_
};

}  // namespace attend

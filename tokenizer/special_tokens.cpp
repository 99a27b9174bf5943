// tokenizer/special_tokens.cpp — special-token matching and the neighbour whitespace stripping of
// transformers 4.30's PreTrainedTokenizer.tokenize (tokens_trie.split + lstrip/rstrip handling).
#include "tokenizer/special_tokens.hpp"

#include <algorithm>
#include <map>

#include "tokenizer/text/unicode.hpp"

namespace attend {

SpecialTokenSplitter::SpecialTokenSplitter(const std::vector<SpecialToken>& tokens) {
  std::map<std::string, SpecialToken> unique;
  for (const SpecialToken& t : tokens) {
    if (t.content.empty()) continue;
    unique[t.content] = t;
  }
  for (auto& kv : unique) tokens_.push_back(kv.second);
  std::stable_sort(tokens_.begin(), tokens_.end(), [](const SpecialToken& a, const SpecialToken& b) {
    return a.content.size() > b.content.size();
  });
  by_byte_.assign(256, {});
  for (size_t i = 0; i < tokens_.size(); ++i)
    by_byte_[static_cast<uint8_t>(tokens_[i].content[0])].push_back(i);
}

std::vector<TextSegment> SpecialTokenSplitter::split(const std::string& text) const {
  struct Piece {
    std::string text;
    int token = -1;  // index into tokens_, -1 for plain text
  };
  std::vector<Piece> pieces;
  size_t start = 0, pos = 0;
  while (pos < text.size() && !tokens_.empty()) {
    int found = -1;
    for (size_t idx : by_byte_[static_cast<uint8_t>(text[pos])]) {  // longest first
      const std::string& c = tokens_[idx].content;
      if (text.compare(pos, c.size(), c) == 0) {
        found = static_cast<int>(idx);
        break;
      }
    }
    if (found < 0) {
      ++pos;
      continue;
    }
    if (pos > start) pieces.push_back({text.substr(start, pos - start), -1});
    pieces.push_back({tokens_[found].content, found});
    pos += tokens_[found].content.size();
    start = pos;
  }
  if (start < text.size()) pieces.push_back({text.substr(start), -1});

  // Strip the neighbours of each special token, in order (a neighbour may be stripped twice).
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].token < 0) continue;
    const SpecialToken& tok = tokens_[pieces[i].token];
    if (tok.rstrip && i + 1 < pieces.size() && !pieces[i + 1].text.empty())
      pieces[i + 1].text = py_lstrip(pieces[i + 1].text);
    if (tok.lstrip && i > 0 && !pieces[i - 1].text.empty())
      pieces[i - 1].text = py_rstrip(pieces[i - 1].text);
  }
  std::vector<TextSegment> out;
  for (Piece& p : pieces) {
    if (p.text.empty()) continue;
    out.push_back({std::move(p.text), p.token >= 0});
  }
  return out;
}

}  // namespace attend

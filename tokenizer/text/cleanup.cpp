// tokenizer/text/cleanup.cpp — clean_up_tokenization_spaces as transformers 4.30 implements it.
#include "tokenizer/text/cleanup.hpp"

#include <utility>

namespace attend {
namespace {

const std::pair<const char*, const char*> kCleanupRules[] = {
    {" .", "."},     {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
    {" n't", "n't"}, {" 'm", "'m"},   {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"},
};

}  // namespace

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(text, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::string clean_up_tokenization(std::string text) {
  for (const auto& rule : kCleanupRules) text = replace_all(std::move(text), rule.first, rule.second);
  return text;
}

size_t cleanup_pending_suffix(const std::string& text) {
  // Patterns are at most 4 bytes long, so only the last 3 bytes can start a proper prefix.
  const size_t max_len = text.size() < 3 ? text.size() : 3;
  for (size_t len = max_len; len >= 1; --len) {
    const std::string suffix = text.substr(text.size() - len);
    if (suffix[0] != ' ') continue;
    for (const auto& rule : kCleanupRules) {
      const std::string pattern = rule.first;
      if (pattern.size() > len && pattern.compare(0, len, suffix) == 0) return len;
    }
  }
  return 0;
}

}  // namespace attend

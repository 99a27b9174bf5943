// fuzz/fuzz_sentence_splitter.cpp — libFuzzer target: the sentence splitter on arbitrary bytes
// (invalid UTF-8 included); checks that the spans are ordered, non-empty, inside the input and
// never start or end with ASCII whitespace.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenizer/text/sentence_splitter.hpp"

namespace {
bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t prev = 0;
  for (const attend::text::Span& s : attend::text::split_sentences(text)) {
    if (s.begin < prev || s.end <= s.begin || s.end > size) std::abort();
    if (ascii_space(text[s.begin]) || ascii_space(text[s.end - 1])) std::abort();
    prev = s.end;
  }
  return 0;
}

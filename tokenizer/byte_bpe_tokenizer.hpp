// tokenizer/byte_bpe_tokenizer.hpp — factory of the byte-level BPE tokenizer (BART / RoBERTa /
// GPT-2 style) and its pieces exposed for unit tests.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace attend {

// Needs vocab.json and merges.txt; reads tokenizer_config.json (add_prefix_space, errors,
// clean_up_tokenization_spaces, special tokens) and special_tokens_map.json if present.
std::unique_ptr<Tokenizer> make_bart_tokenizer(const TokenizerFiles& files);

// The GPT-2 pre-tokenizer regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// applied with re.findall semantics; returns the matched substrings (they cover the whole text).
std::vector<std::string> gpt2_pretokenize(const std::string& text);

// bytes_to_unicode(): byte value -> printable code point (space -> U+0120 'Ġ', '\n' -> U+010A).
std::vector<char32_t> gpt2_bytes_to_unicode();

}  // namespace attend

// tokenizer/marian_tokenizer.hpp — factory of the Marian (opus-mt) tokenizer.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace attend {

// Needs source.spm, target.spm, vocab.json; reads tokenizer_config.json / special_tokens_map.json
// (and target_vocab.json when separate_vocabs is true) if present.
std::unique_ptr<Tokenizer> make_marian_tokenizer(const TokenizerFiles& files);

// The matches of MarianTokenizer.language_code_re (">>.+<<", greedy, not across '\n') in `text`,
// as [begin, end) byte ranges, left to right and non-overlapping (what re.sub removes).
std::vector<std::pair<size_t, size_t>> find_marian_language_codes(const std::string& text);

}  // namespace attend

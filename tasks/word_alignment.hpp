// tasks/word_alignment.hpp — word alignment from cross-attention (internal): tokens grouped into
// whitespace words by their pieces, a word x word attention matrix, each target word linked to
// its most attended source word. Used by Model::align_words and the HTML translation.
#pragma once
#include <cstdint>
#include <vector>

#include "attend/attend.hpp"
#include "tokenizer/tokenizer.hpp"

namespace attend {

// Word index of every token (-1: a special token, which belongs to no word). A token starts a
// new word when its piece begins with SentencePiece's "▁" or byte-level BPE's "Ġ", or when it is
// the first non-special token. `words` gets the number of words.
std::vector<int> words_of_tokens(const Tokenizer& tok, const std::vector<int32_t>& ids, int* words = nullptr);

// The alignment of Model::align_words (hypothesis.attention must be set).
std::vector<WordLink> align_hypothesis(const Tokenizer& tok, const Hypothesis& hypothesis);

}  // namespace attend

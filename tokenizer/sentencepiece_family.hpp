// tokenizer/sentencepiece_family.hpp — factories of the sentencepiece tokenizers other than Marian.
#pragma once
#include <memory>

#include "tokenizer/tokenizer.hpp"

namespace attend {

std::unique_ptr<Tokenizer> make_t5_tokenizer(const TokenizerFiles& files);       // spiece.model
std::unique_ptr<Tokenizer> make_pegasus_tokenizer(const TokenizerFiles& files);  // spiece.model
std::unique_ptr<Tokenizer> make_mbart50_tokenizer(const TokenizerFiles& files);  // sentencepiece.bpe.model
std::unique_ptr<Tokenizer> make_nllb_tokenizer(const TokenizerFiles& files);     // sentencepiece.bpe.model
std::unique_ptr<Tokenizer> make_m2m100_tokenizer(const TokenizerFiles& files);   // sentencepiece.bpe.model + vocab.json

}  // namespace attend

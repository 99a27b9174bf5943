// tokenizer/text/cleanup.hpp — Hugging Face's clean_up_tokenization (the space clean-up applied to decoded text).
#pragma once
#include <string>

namespace attend {

// PreTrainedTokenizerBase.clean_up_tokenization: these plain replacements, in this order:
// " ."->".", " ?"->"?", " !"->"!", " ,"->",", " ' "->"'", " n't"->"n't", " 'm"->"'m",
// " 's"->"'s", " 've"->"'ve", " 're"->"'re".
std::string clean_up_tokenization(std::string text);

// Length of the longest suffix of `text` that starts with a space and is a proper prefix of one
// of the clean-up patterns (so a later token could still make the clean-up remove that space).
// Used by IncrementalDecoder to hold such text back.
size_t cleanup_pending_suffix(const std::string& text);

// Replaces every occurrence of `from` (non-empty) in `text` by `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to);

}  // namespace attend

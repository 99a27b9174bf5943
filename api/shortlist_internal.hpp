// api/shortlist_internal.hpp — what translate() needs of a Shortlist (internal): the vocabulary
// check against a loaded model and a batch's candidate set with the model's special tokens.
#pragma once
#include <cstdint>
#include <vector>

#include "attend/shortlist.hpp"
#include "engine/decoding/generation_config.hpp"
#include "runtime/model_impl.hpp"

namespace attend {

// Throws attend::Error when `list` was built for another vocabulary than `m`'s.
void shortlist_check(const Shortlist& list, const Model::Impl& m);
// list.candidates(batch) plus EOS, pad, decoder start and forced BOS/EOS ids of `g`.
std::vector<int32_t> shortlist_candidates(const Shortlist& list, const std::vector<std::vector<int32_t>>& batch,
                                          const GenerationConfig& g);

}  // namespace attend

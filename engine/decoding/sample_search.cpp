// engine/decoding/sample_search.cpp — transformers 4.30 sample() over a StepModel: logits
// processors on the raw logits (as greedy search), then the warpers (temperature, top-k, top-p,
// typical-p), then one draw from softmax with the counter-based RNG keyed by (seed, input
// stream, position); an input stops at its first EOS and its row is dropped from the model.
#include <cstdint>
#include <vector>

#include "attend/error.hpp"
#include "engine/decoding/logits_processors.hpp"
#include "engine/decoding/sampling.hpp"
#include "engine/decoding/search.hpp"

namespace attend {

std::vector<std::vector<Hypothesis>> sample_search(StepModel& model, const GenerationConfig& config,
                                                   const StepCallback& on_step, const SearchInputs& inputs) {
  const int vocab = model.vocab_size();
  LogitsWarperList warpers(config, vocab);
  return one_per_input_search(model, config, on_step, inputs, "sample search", [&](int b, int cur_len, float* row) {
    warpers.apply(row);
    const uint64_t stream = inputs.streams.empty() ? static_cast<uint64_t>(b) : inputs.streams[static_cast<size_t>(b)];
    const int32_t best = sample_from_scores(row, vocab, counter_uniform(config.seed, stream, static_cast<uint64_t>(cur_len)));
    if (best < 0) throw Error("sampling: every token was removed (all scores are -inf)");
    return best;
  });
}

}  // namespace attend

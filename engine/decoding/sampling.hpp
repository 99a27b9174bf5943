// engine/decoding/sampling.hpp — what multinomial sampling needs besides the logits processors:
// transformers 4.30's logits warpers (temperature, top-k, top-p, typical-p; min_tokens_to_keep 1,
// removed tokens -inf) and a counter-based random number generator, so a draw depends only on
// (seed, input, step) and never on batching or thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/decoding/generation_config.hpp"

namespace attend {

// The warpers a GenerationConfig enables, in transformers' order:
// temperature (!= 1) -> top_k (!= 0) -> top_p (< 1) -> typical_p (< 1). Not thread-safe
// (owns scratch buffers); one per thread.
class LogitsWarperList {
 public:
  LogitsWarperList(const GenerationConfig& config, int vocab_size);
  bool active() const { return temperature_ != 1.0f || top_k_ != 0 || top_p_ < 1.0f || typical_p_ < 1.0f; }
  void apply(float* scores);

 private:
  void top_k(float* scores);
  void top_p(float* scores);
  void typical(float* scores);
  int vocab_;
  float temperature_;
  int top_k_;
  float top_p_, typical_p_;
  std::vector<int32_t> order_;  // scratch: token ids sorted by a key
  std::vector<double> key_;     // scratch
};

// Counter-based generator: uniform(seed, stream, counter) is a pure function (splitmix64
// finalizer over the three words), uniform in [0, 1) with 53 random bits.
double counter_uniform(uint64_t seed, uint64_t stream, uint64_t counter);

// Draws a token from softmax(scores) (-inf entries have probability 0) with the uniform `u`:
// the first token (by id) whose cumulative probability exceeds u * total. Returns -1 when no
// score is finite.
int32_t sample_from_scores(const float* scores, int vocab, double u);

}  // namespace attend

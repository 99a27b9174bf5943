// attend/random_model.hpp — writes Attend model files with random weights in the shapes of
// well-known checkpoints (opus-mt, t5-small), for benchmarks and tests that need a model of
// realistic size without downloading one. Nothing here is meant to translate well.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace attend {

struct RandomModelOptions {
  uint64_t seed = 1;
  // Standard deviation of the weight matrices and embeddings (uniform distribution with this
  // standard deviation; norms are 1, biases 0, as Hugging Face initialises them).
  float stddev = 0.02f;
  // An Attend model file or HF checkpoint directory whose tokenizer files are stored in the new
  // model, so it can translate text; its token ids must fit the shape's vocabulary. "" = no
  // tokenizer (the model then takes token ids only).
  std::string tokenizer_from;
};

// The shapes write_random_model knows: "opus-mt" (Marian, d_model 512, 8 heads, FFN 2048,
// 6+6 layers, vocabulary 54,688), "t5-small" (T5 v1.0, 512, 8 heads, d_ff 2048, 6+6,
// vocabulary 32,128), and for long inputs "led-base" (allenai/led-base-16384: 768, 12 heads,
// FFN 3072, 6+6, window 1,024, 16,384 encoder positions) and "long-t5-tglobal-base" (768,
// 12 heads, gated-gelu d_ff 2048, 12+12, transient-global, radius 127, global blocks of 16).
std::vector<std::string> random_model_shapes();

// Writes the model to `path` (atomically). Throws attend::Error for an unknown shape, a
// tokenizer source that cannot be read or whose vocabulary does not fit, or a write failure.
void write_random_model(const std::string& shape, const std::string& path, const RandomModelOptions& options = {});

}  // namespace attend

// engine/decoding/generation_config.hpp — the settings of one generate() call, with transformers'
// resolution rules (model defaults from generation_config.json / config.json, then overrides).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace attend {

enum class EarlyStopping { False, True, Never };

struct GenerationConfig {
  int num_beams = 1;
  int num_return_sequences = 1;
  int max_length = 20;                    // output length limit incl. the decoder start token
  std::optional<int> max_new_tokens;      // when set, wins over max_length: limit = 1 + max_new_tokens
  int min_length = 0;                     // counts the decoder start token
  std::optional<int> min_new_tokens;
  EarlyStopping early_stopping = EarlyStopping::False;
  float length_penalty = 1.0f;
  int no_repeat_ngram_size = 0;
  float repetition_penalty = 1.0f;
  std::vector<std::vector<int32_t>> bad_words_ids;
  std::optional<int32_t> forced_bos_token_id;
  std::optional<int32_t> forced_eos_token_id;
  int32_t decoder_start_token_id = 0;
  std::vector<int32_t> eos_token_ids;     // HF allows an int or a list
  int32_t pad_token_id = 0;
  // Family quirk (MarianMTModel.adjust_logits_during_generation): beam search sets the pad
  // logit to -inf before log_softmax. Filled in from the architecture, not from HF configs.
  bool beam_suppress_pad_before_log_softmax = false;

  // --- Sampling (issue 17): transformers' sample() with its logits warpers, applied after the
  // processors in this order: temperature (active != 1) -> top_k (active != 0; HF's default is
  // 50) -> top_p (active < 1) -> typical_p (active < 1). `seed` keys the counter-based RNG.
  bool do_sample = false;
  float temperature = 1.0f;
  int top_k = 50;
  float top_p = 1.0f;
  float typical_p = 1.0f;
  uint64_t seed = 0;

  // With a target prefix of `prefix_length` decoder tokens (start token included), HF counts
  // max_new_tokens after the prefix: the limit is prefix_length + max_new_tokens.
  int resolved_max_length(int prefix_length = 1) const {
    return max_new_tokens ? prefix_length + *max_new_tokens : max_length;
  }
  int resolved_min_length() const { return min_new_tokens ? 1 + *min_new_tokens : min_length; }
  bool is_eos(int32_t id) const;

  // Applies the keys present in a HF generation-config-like JSON object (generation_config.json,
  // effective_generation_config of the fixtures, or user overrides). Unknown keys are ignored;
  // a known key with a wrong type throws attend::Error naming the key.
  void apply_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
  // Checks ranges (num_beams >= 1, num_return_sequences <= num_beams, ...); throws attend::Error.
  void validate() const;
};

}  // namespace attend

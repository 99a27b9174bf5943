// engine/decoding/generation_config.cpp — reading/writing GenerationConfig from/to HF-style JSON
// (generation_config.json, the fixtures' effective_generation_config, user overrides) and
// range checks.
#include "engine/decoding/generation_config.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"

namespace attend {
namespace {

using nlohmann::json;

[[noreturn]] void bad_type(const std::string& key, const char* expected) {
  throw Error("generation config: '" + key + "' must be " + expected);
}

int32_t as_int(const json& v, const std::string& key) {
  if (!v.is_number_integer()) bad_type(key, "an integer");
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) bad_type(key, "a 32-bit integer");
    return static_cast<int32_t>(u);
  }
  const auto i = v.get<int64_t>();
  if (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max())
    bad_type(key, "a 32-bit integer");
  return static_cast<int32_t>(i);
}

float as_float(const json& v, const std::string& key) {
  if (!v.is_number()) bad_type(key, "a number");
  return v.get<float>();
}

bool as_bool(const json& v, const std::string& key) {
  if (!v.is_boolean()) bad_type(key, "a boolean");
  return v.get<bool>();
}

std::vector<int32_t> as_int_list(const json& v, const std::string& key) {
  if (!v.is_array()) bad_type(key, "a list of integers");
  std::vector<int32_t> out;
  out.reserve(v.size());
  for (const auto& e : v) {
    if (!e.is_number_integer()) bad_type(key, "a list of integers");
    out.push_back(as_int(e, key));
  }
  return out;
}

}  // namespace

bool GenerationConfig::is_eos(int32_t id) const {
  return std::find(eos_token_ids.begin(), eos_token_ids.end(), id) != eos_token_ids.end();
}

void GenerationConfig::apply_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("generation config: expected a JSON object");
  bool pad_is_null = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    // Required-valued settings: null leaves the current value unchanged.
    if (key == "num_beams") {
      if (!v.is_null()) num_beams = as_int(v, key);
    } else if (key == "num_return_sequences") {
      if (!v.is_null()) num_return_sequences = as_int(v, key);
    } else if (key == "max_length") {
      if (!v.is_null()) max_length = as_int(v, key);
    } else if (key == "min_length") {
      if (!v.is_null()) min_length = as_int(v, key);
    } else if (key == "no_repeat_ngram_size") {
      if (!v.is_null()) no_repeat_ngram_size = as_int(v, key);
    } else if (key == "length_penalty") {
      if (!v.is_null()) length_penalty = as_float(v, key);
    } else if (key == "repetition_penalty") {
      if (!v.is_null()) repetition_penalty = as_float(v, key);
    } else if (key == "decoder_start_token_id") {
      if (!v.is_null()) decoder_start_token_id = as_int(v, key);
    } else if (key == "pad_token_id") {
      if (v.is_null()) pad_is_null = true;
      else pad_token_id = as_int(v, key);
    } else if (key == "beam_suppress_pad_before_log_softmax") {
      if (!v.is_null()) beam_suppress_pad_before_log_softmax = as_bool(v, key);
    } else if (key == "early_stopping") {
      if (v.is_null()) continue;
      if (v.is_boolean()) {
        early_stopping = v.get<bool>() ? EarlyStopping::True : EarlyStopping::False;
      } else if (v.is_string() && v.get<std::string>() == "never") {
        early_stopping = EarlyStopping::Never;
      } else {
        bad_type(key, "true, false or \"never\"");
      }
      // Optional settings: null means unset.
    } else if (key == "max_new_tokens") {
      max_new_tokens = v.is_null() ? std::nullopt : std::optional<int>(as_int(v, key));
    } else if (key == "min_new_tokens") {
      min_new_tokens = v.is_null() ? std::nullopt : std::optional<int>(as_int(v, key));
    } else if (key == "forced_bos_token_id") {
      forced_bos_token_id = v.is_null() ? std::nullopt : std::optional<int32_t>(as_int(v, key));
    } else if (key == "forced_eos_token_id") {
      if (v.is_null()) {
        forced_eos_token_id = std::nullopt;
      } else if (v.is_array()) {
        const auto ids = as_int_list(v, key);
        if (ids.size() != 1) bad_type(key, "an integer (or a list of exactly one)");
        forced_eos_token_id = ids[0];
      } else {
        forced_eos_token_id = as_int(v, key);
      }
    } else if (key == "eos_token_id") {
      if (v.is_null()) eos_token_ids.clear();
      else if (v.is_array()) eos_token_ids = as_int_list(v, key);
      else eos_token_ids = {as_int(v, key)};
    } else if (key == "bad_words_ids") {
      bad_words_ids.clear();
      if (v.is_null()) continue;
      if (!v.is_array()) bad_type(key, "a list of lists of integers");
      for (const auto& word : v) {
        if (!word.is_array()) bad_type(key, "a list of lists of integers");
        bad_words_ids.push_back(as_int_list(word, key));
      }
      // Known settings this engine does not implement: refuse them when they would change the
      // result instead of silently producing different tokens than transformers would.
    } else if (key == "do_sample") {
      if (!v.is_null()) do_sample = as_bool(v, key);
    } else if (key == "temperature") {
      if (!v.is_null()) temperature = as_float(v, key);
    } else if (key == "top_k") {
      if (!v.is_null()) top_k = as_int(v, key);
    } else if (key == "top_p") {
      if (!v.is_null()) top_p = as_float(v, key);
    } else if (key == "typical_p") {
      if (!v.is_null()) typical_p = as_float(v, key);
    } else if (key == "epsilon_cutoff" || key == "eta_cutoff") {
      if (!v.is_null() && as_float(v, key) != 0.0f)
        throw Error("generation config: '" + key + "' is not supported");
    } else if (key == "num_beam_groups") {
      if (!v.is_null() && as_int(v, key) != 1)
        throw Error("generation config: num_beam_groups != 1 is not supported");
    } else if (key == "renormalize_logits") {
      if (!v.is_null() && as_bool(v, key))
        throw Error("generation config: renormalize_logits=true is not supported");
    } else if (key == "encoder_no_repeat_ngram_size") {
      if (!v.is_null() && as_int(v, key) > 0)
        throw Error("generation config: encoder_no_repeat_ngram_size is not supported");
    } else if (key == "encoder_repetition_penalty") {
      if (!v.is_null() && as_float(v, key) != 1.0f)
        throw Error("generation config: encoder_repetition_penalty is not supported");
    } else if (key == "suppress_tokens" || key == "begin_suppress_tokens" || key == "forced_decoder_ids" ||
               key == "exponential_decay_length_penalty" || key == "constraints" ||
               key == "force_words_ids" || key == "sequence_bias") {
      if (!v.is_null() && !(v.is_array() && v.empty()))
        throw Error("generation config: '" + key + "' is not supported");
    }
    // Anything else (bos_token_id, temperature, top_k, output_* flags, ...) does not affect
    // greedy/beam search and is ignored.
  }
  // transformers: "Setting pad_token_id to eos_token_id for open-end generation".
  if (pad_is_null && !eos_token_ids.empty()) pad_token_id = eos_token_ids[0];
}

nlohmann::json GenerationConfig::to_json() const {
  json j;
  j["num_beams"] = num_beams;
  j["num_return_sequences"] = num_return_sequences;
  j["max_length"] = max_length;
  j["max_new_tokens"] = max_new_tokens ? json(*max_new_tokens) : json(nullptr);
  j["min_length"] = min_length;
  j["min_new_tokens"] = min_new_tokens ? json(*min_new_tokens) : json(nullptr);
  switch (early_stopping) {
    case EarlyStopping::False: j["early_stopping"] = false; break;
    case EarlyStopping::True: j["early_stopping"] = true; break;
    case EarlyStopping::Never: j["early_stopping"] = "never"; break;
  }
  j["length_penalty"] = length_penalty;
  j["no_repeat_ngram_size"] = no_repeat_ngram_size;
  j["repetition_penalty"] = repetition_penalty;
  j["bad_words_ids"] = bad_words_ids.empty() ? json(nullptr) : json(bad_words_ids);
  j["forced_bos_token_id"] = forced_bos_token_id ? json(*forced_bos_token_id) : json(nullptr);
  j["forced_eos_token_id"] = forced_eos_token_id ? json(*forced_eos_token_id) : json(nullptr);
  j["decoder_start_token_id"] = decoder_start_token_id;
  if (eos_token_ids.empty()) j["eos_token_id"] = nullptr;
  else if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
  else j["eos_token_id"] = eos_token_ids;
  j["pad_token_id"] = pad_token_id;
  j["beam_suppress_pad_before_log_softmax"] = beam_suppress_pad_before_log_softmax;
  j["do_sample"] = do_sample;
  j["temperature"] = temperature;
  j["top_k"] = top_k;
  j["top_p"] = top_p;
  j["typical_p"] = typical_p;
  j["seed"] = seed;
  j["resolved_max_length"] = resolved_max_length();
  return j;
}

void GenerationConfig::validate() const {
  auto fail = [](const std::string& what) { throw Error("generation config: " + what); };
  if (num_beams < 1) fail("num_beams must be >= 1");
  if (num_return_sequences < 1) fail("num_return_sequences must be >= 1");
  if (num_return_sequences > num_beams) fail("num_return_sequences must be <= num_beams");
  if (max_new_tokens && *max_new_tokens < 1) fail("max_new_tokens must be >= 1");
  if (!max_new_tokens && max_length < 2)
    fail("max_length must be >= 2 (it counts the decoder start token)");
  if (min_length < 0) fail("min_length must be >= 0");
  if (min_new_tokens && *min_new_tokens < 0) fail("min_new_tokens must be >= 0");
  if (no_repeat_ngram_size < 0) fail("no_repeat_ngram_size must be >= 0");
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty))
    fail("repetition_penalty must be a positive number");
  if (!std::isfinite(length_penalty)) fail("length_penalty must be finite");
  for (const auto& word : bad_words_ids) {
    if (word.empty()) fail("bad_words_ids entries must not be empty");
    for (int32_t id : word)
      if (id < 0) fail("bad_words_ids must not contain negative ids");
  }
  if (forced_bos_token_id && *forced_bos_token_id < 0) fail("forced_bos_token_id must be >= 0");
  if (forced_eos_token_id && *forced_eos_token_id < 0) fail("forced_eos_token_id must be >= 0");
  if (decoder_start_token_id < 0) fail("decoder_start_token_id must be >= 0");
  for (int32_t id : eos_token_ids)
    if (id < 0) fail("eos_token_id must be >= 0");
  if (pad_token_id < 0) fail("pad_token_id must be >= 0");
  // Sampling settings matter (and are checked, as transformers' warpers do) only with do_sample.
  if (do_sample) {
    if (num_beams != 1) fail("do_sample needs num_beams == 1 (beam sampling is not supported)");
    if (!(temperature > 0.0f) || !std::isfinite(temperature))
      fail("temperature must be a positive number (got " + std::to_string(temperature) + ")");
    if (top_k < 0) fail("top_k must be >= 0 (0: off)");
    if (!(top_p > 0.0f && top_p <= 1.0f)) fail("top_p must be in (0, 1] (got " + std::to_string(top_p) + ")");
    if (!(typical_p > 0.0f && typical_p <= 1.0f))
      fail("typical_p must be in (0, 1] (got " + std::to_string(typical_p) + ")");
  }
}

}  // namespace attend

// models/family.hpp — what a model family is to Attend: how a Hugging Face config becomes an
// ArchSpec, which HF tensor feeds each Attend tensor, the family's config defaults and its
// tokenizer. Families register themselves; the converter looks them up by model_type.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/arch_spec.hpp"

namespace attend {

struct TensorSource {
  std::string name;                  // Attend tensor name (weights_format.md)
  std::vector<std::string> hf_names; // candidates in order; the first present one is used
  bool optional = false;             // e.g. position tables that can be computed
};

struct FamilyModel {
  ArchSpec spec;
  std::vector<TensorSource> tensors;
  std::string tokenizer_kind;        // see tokenizer/tokenizer.hpp
};

struct Family {
  std::vector<std::string> model_types;  // config.json "model_type" values handled
  // Config values the HF config class has by default (applied under config.json's own keys).
  nlohmann::json config_defaults;
  FamilyModel (*build)(const nlohmann::json& config);
};

// All families, and the one for a model_type (nullptr if unsupported).
const std::vector<const Family*>& all_families();
const Family* find_family(const std::string& model_type);

// Reads a typed config value; throws attend::Error "config.json: field 'x' ..." when absent
// (and no fallback given) or of the wrong type.
int config_int(const nlohmann::json& c, const char* key);
int config_int(const nlohmann::json& c, const char* key, int fallback);
float config_float(const nlohmann::json& c, const char* key, float fallback);
bool config_bool(const nlohmann::json& c, const char* key, bool fallback);
std::string config_string(const nlohmann::json& c, const char* key, const std::string& fallback);

// Shared by the BART-shaped families (Marian, BART, mBART, Pegasus, M2M100): the config fields
// they all name alike, and their HF → Attend tensor naming with the given position-table and
// final-norm names ("" = none).
ArchSpec bart_like_spec(const nlohmann::json& config, const std::string& family);
// `hf_prefix` is the model's prefix ("model"; LED: "led").
std::vector<TensorSource> bart_like_tensors(const ArchSpec& spec, const std::string& positions_name,
                                            const std::string& final_norm_name, const std::string& hf_prefix = "model");

// Shared by T5 and LongT5: the config fields and the tensor naming (the encoder's attention
// module is "SelfAttention", "LocalSelfAttention" or "TransientGlobalSelfAttention").
ArchSpec t5_spec(const nlohmann::json& config);
std::vector<TensorSource> t5_tensors(const ArchSpec& spec, const std::string& encoder_attention_module);

Activation parse_activation(const std::string& hf_name);

}  // namespace attend

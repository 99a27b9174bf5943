// models/longt5.cpp — LongT5 (long-t5-local-*, long-t5-tglobal-*): T5 v1.1 with a `local`
// (radius local_radius) or `transient-global` (local + one aggregated key per block of
// global_block_size tokens) encoder self-attention; the decoder is T5's.
#include "attend/error.hpp"
#include "models/family.hpp"

namespace attend {
namespace {

FamilyModel build_longt5(const nlohmann::json& c) {
  ArchSpec s = t5_spec(c);
  s.family = "longt5";
  const std::string kind = config_string(c, "encoder_attention_type", "local");
  std::string module;
  if (kind == "local") {
    s.encoder_attention = EncoderAttention::LongT5Local;
    module = "LocalSelfAttention";
  } else if (kind == "transient-global") {
    s.encoder_attention = EncoderAttention::LongT5TransientGlobal;
    module = "TransientGlobalSelfAttention";
    s.global_block_size = config_int(c, "global_block_size", 16);
  } else {
    throw Error("config.json: unsupported encoder_attention_type '" + kind + "' (local or transient-global)");
  }
  s.local_radius = config_int(c, "local_radius", 127);
  // Relative positions bound nothing; the 16k checkpoints are trained on 16,384 input tokens.
  s.max_input_length = config_int(c, "n_positions", 16384);
  std::vector<TensorSource> t = t5_tensors(s, module);
  if (s.encoder_attention == EncoderAttention::LongT5TransientGlobal) {
    t.push_back({"encoder.global_relative_attention_bias.weight",
                 {"encoder.block.0.layer.0.TransientGlobalSelfAttention.global_relative_attention_bias.weight"},
                 false});
    for (int i = 0; i < s.encoder_layers; ++i) {
      t.push_back({"encoder.layers." + std::to_string(i) + ".self_attn.global_norm.weight",
                   {"encoder.block." + std::to_string(i) + ".layer.0.TransientGlobalSelfAttention.global_input_layer_norm.weight"},
                   false});
    }
  }
  return {s, t, "t5"};
}

}  // namespace

extern const Family kLongT5Family;
const Family kLongT5Family{{"longt5"}, nlohmann::json::object(), build_longt5};

}  // namespace attend

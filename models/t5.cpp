// models/t5.cpp — T5 v1.0 and v1.1/flan-T5: RMS norm, pre-norm, no biases, unscaled attention
// with bucketed relative position bias, relu or gated-gelu FFN, tied output with the
// d_model^-0.5 rescale or a separate lm_head.
#include <cmath>

#include "attend/error.hpp"
#include "models/family.hpp"

namespace attend {

ArchSpec t5_spec(const nlohmann::json& c) {
  ArchSpec s;
  s.family = "t5";
  s.d_model = config_int(c, "d_model");
  s.vocab_size = s.src_vocab_size = config_int(c, "vocab_size");
  s.encoder_layers = config_int(c, "num_layers");
  s.decoder_layers = config_int(c, "num_decoder_layers", s.encoder_layers);
  s.encoder_heads = s.decoder_heads = config_int(c, "num_heads");
  s.head_dim = config_int(c, "d_kv");
  s.encoder_ffn_dim = s.decoder_ffn_dim = config_int(c, "d_ff");
  s.pre_norm = true;
  s.norm = NormKind::RMSNorm;
  s.norm_eps = config_float(c, "layer_norm_epsilon", 1e-6f);
  s.encoder_final_norm = s.decoder_final_norm = true;
  s.positions = PositionKind::RelativeBuckets;
  s.relative_buckets = config_int(c, "relative_attention_num_buckets", 32);
  s.relative_max_distance = config_int(c, "relative_attention_max_distance", 128);
  s.attention_scaling = false;
  s.projection_bias = false;
  const std::string proj = config_string(c, "feed_forward_proj", "relu");
  const bool gated = proj.rfind("gated-", 0) == 0;
  s.gated_ffn = gated;
  s.activation = parse_activation(gated ? proj.substr(6) : proj);
  if (gated && s.activation == Activation::Gelu) s.activation = Activation::GeluTanh;  // T5 "gelu" is gelu_new
  const bool tied = config_bool(c, "tie_word_embeddings", true);
  if (tied) s.logits_scale = 1.0f / std::sqrt(static_cast<float>(s.d_model));
  s.pad_token_id = config_int(c, "pad_token_id", 0);
  return s;
}

std::vector<TensorSource> t5_tensors(const ArchSpec& s, const std::string& encoder_attention_module) {
  const bool gated = s.gated_ffn;
  const bool tied = s.logits_scale != 1.0f;
  std::vector<TensorSource> t;
  auto add = [&t](std::string name, std::vector<std::string> hf) { t.push_back({std::move(name), std::move(hf), false}); };
  add("encoder.embed_tokens.weight", {"encoder.embed_tokens.weight", "shared.weight"});
  add("decoder.embed_tokens.weight", {"decoder.embed_tokens.weight", "shared.weight"});
  add("lm_head.weight", tied ? std::vector<std::string>{"shared.weight"} : std::vector<std::string>{"lm_head.weight"});
  for (const char* side : {"encoder", "decoder"}) {
    const std::string e = side;
    const bool dec = e == "decoder";
    const std::string attn = dec ? std::string("SelfAttention") : encoder_attention_module;
    add(e + ".relative_attention_bias.weight", {e + ".block.0.layer.0." + attn + ".relative_attention_bias.weight"});
    add(e + ".final_norm.weight", {e + ".final_layer_norm.weight"});
    const int layers = dec ? s.decoder_layers : s.encoder_layers;
    for (int i = 0; i < layers; ++i) {
      const std::string el = e + ".layers." + std::to_string(i) + ".";
      const std::string hl = e + ".block." + std::to_string(i) + ".layer.";
      for (const char* p : {"q", "k", "v", "o"}) add(el + "self_attn." + p + ".weight", {hl + "0." + attn + "." + p + ".weight"});
      add(el + "self_attn_norm.weight", {hl + "0.layer_norm.weight"});
      if (dec) {
        for (const char* p : {"q", "k", "v", "o"}) add(el + "cross_attn." + p + ".weight", {hl + "1.EncDecAttention." + p + ".weight"});
        add(el + "cross_attn_norm.weight", {hl + "1.layer_norm.weight"});
      }
      const std::string f = hl + (dec ? "2" : "1");
      if (gated) {
        add(el + "ffn.wi.weight", {f + ".DenseReluDense.wi_0.weight"});
        add(el + "ffn.wi_lin.weight", {f + ".DenseReluDense.wi_1.weight"});
      } else {
        add(el + "ffn.wi.weight", {f + ".DenseReluDense.wi.weight"});
      }
      add(el + "ffn.wo.weight", {f + ".DenseReluDense.wo.weight"});
      add(el + "ffn_norm.weight", {f + ".layer_norm.weight"});
    }
  }
  return t;
}

namespace {

FamilyModel build_t5(const nlohmann::json& c) {
  ArchSpec s = t5_spec(c);
  return {s, t5_tensors(s, "SelfAttention"), "t5"};
}

}  // namespace

extern const Family kT5Family;
const Family kT5Family{{"t5", "mt5"}, nlohmann::json::object(), build_t5};

}  // namespace attend

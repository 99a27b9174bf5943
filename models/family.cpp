// models/family.cpp — family registry, typed config access and the BART-shaped tensor mapping
// that Marian, BART, mBART, Pegasus and M2M100 share.
#include "models/family.hpp"

#include <cmath>

#include "attend/error.hpp"

namespace attend {

extern const Family kMarianFamily;
extern const Family kBartFamily;
extern const Family kMBartFamily;
extern const Family kPegasusFamily;
extern const Family kM2M100Family;
extern const Family kT5Family;
extern const Family kLedFamily;
extern const Family kLongT5Family;

const std::vector<const Family*>& all_families() {
  static const std::vector<const Family*> families = {&kMarianFamily, &kBartFamily,   &kMBartFamily,  &kPegasusFamily,
                                                      &kM2M100Family, &kT5Family,     &kLedFamily,    &kLongT5Family};
  return families;
}

const Family* find_family(const std::string& model_type) {
  for (const Family* f : all_families()) {
    for (const auto& t : f->model_types) {
      if (t == model_type) return f;
    }
  }
  return nullptr;
}

namespace {
const nlohmann::json* field(const nlohmann::json& c, const char* key) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return nullptr;
  return &*it;
}
[[noreturn]] void bad_type(const char* key, const char* want) {
  throw Error(std::string("config.json: field '") + key + "' must be " + want);
}
}  // namespace

int config_int(const nlohmann::json& c, const char* key) {
  const auto* v = field(c, key);
  if (!v) throw Error(std::string("config.json: missing field '") + key + "'");
  if (!v->is_number_integer()) bad_type(key, "an integer");
  return v->get<int>();
}

int config_int(const nlohmann::json& c, const char* key, int fallback) {
  return field(c, key) ? config_int(c, key) : fallback;
}

float config_float(const nlohmann::json& c, const char* key, float fallback) {
  const auto* v = field(c, key);
  if (!v) return fallback;
  if (!v->is_number()) bad_type(key, "a number");
  return v->get<float>();
}

bool config_bool(const nlohmann::json& c, const char* key, bool fallback) {
  const auto* v = field(c, key);
  if (!v) return fallback;
  if (!v->is_boolean()) bad_type(key, "true or false");
  return v->get<bool>();
}

std::string config_string(const nlohmann::json& c, const char* key, const std::string& fallback) {
  const auto* v = field(c, key);
  if (!v) return fallback;
  if (!v->is_string()) bad_type(key, "a string");
  return v->get<std::string>();
}

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::Relu;
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "swish" || name == "silu") return Activation::Swish;
  throw Error("config.json: unsupported activation function '" + name + "'");
}

ArchSpec bart_like_spec(const nlohmann::json& c, const std::string& family) {
  ArchSpec s;
  s.family = family;
  s.d_model = config_int(c, "d_model");
  s.vocab_size = config_int(c, "vocab_size");
  s.src_vocab_size = s.vocab_size;
  s.encoder_layers = config_int(c, "encoder_layers");
  s.decoder_layers = config_int(c, "decoder_layers");
  s.encoder_heads = config_int(c, "encoder_attention_heads");
  s.decoder_heads = config_int(c, "decoder_attention_heads");
  if (s.encoder_heads <= 0 || s.d_model % s.encoder_heads != 0) {
    throw Error("config.json: d_model must be a multiple of encoder_attention_heads");
  }
  s.head_dim = s.d_model / s.encoder_heads;
  s.encoder_ffn_dim = config_int(c, "encoder_ffn_dim");
  s.decoder_ffn_dim = config_int(c, "decoder_ffn_dim");
  s.max_positions = config_int(c, "max_position_embeddings");
  s.activation = parse_activation(config_string(c, "activation_function", "gelu"));
  s.embed_scale = config_bool(c, "scale_embedding", false) ? std::sqrt(static_cast<float>(s.d_model)) : 1.0f;
  s.pad_token_id = config_int(c, "pad_token_id");
  s.norm_eps = 1e-5f;
  return s;
}

std::vector<TensorSource> bart_like_tensors(const ArchSpec& s, const std::string& positions_name,
                                            const std::string& final_norm_name, const std::string& hf_prefix) {
  const std::string mp = hf_prefix + ".";
  std::vector<TensorSource> t;
  auto add = [&t](std::string name, std::vector<std::string> hf, bool optional = false) {
    t.push_back({std::move(name), std::move(hf), optional});
  };
  auto add_wb = [&add](const std::string& name, const std::string& hf) {
    add(name + ".weight", {hf + ".weight"});
    add(name + ".bias", {hf + ".bias"});
  };
  add("encoder.embed_tokens.weight", {mp + "encoder.embed_tokens.weight", mp + "shared.weight"});
  add("decoder.embed_tokens.weight", {mp + "decoder.embed_tokens.weight", mp + "shared.weight"});
  add("lm_head.weight", {"lm_head.weight", mp + "decoder.embed_tokens.weight", mp + "shared.weight"});
  if (s.final_logits_bias) add("final_logits_bias", {"final_logits_bias"});
  for (const char* side : {"encoder", "decoder"}) {
    const std::string e = side, h = mp + side;
    if (!positions_name.empty()) {
      add(e + ".embed_positions.weight", {h + "." + positions_name},
          s.positions != PositionKind::Learned);
    }
    if (s.layernorm_embedding) add_wb(e + ".layernorm_embedding", h + ".layernorm_embedding");
    if (!final_norm_name.empty()) add_wb(e + ".final_norm", h + "." + final_norm_name);
    const int layers = e == "encoder" ? s.encoder_layers : s.decoder_layers;
    for (int i = 0; i < layers; ++i) {
      const std::string el = e + ".layers." + std::to_string(i) + ".";
      const std::string hl = h + ".layers." + std::to_string(i) + ".";
      const std::pair<const char*, const char*> proj[] = {{"q", "q_proj"}, {"k", "k_proj"}, {"v", "v_proj"}, {"o", "out_proj"}};
      for (const auto& [a, b] : proj) add_wb(el + "self_attn." + a, hl + "self_attn." + b);
      add_wb(el + "self_attn_norm", hl + "self_attn_layer_norm");
      if (e == "decoder") {
        for (const auto& [a, b] : proj) add_wb(el + "cross_attn." + a, hl + "encoder_attn." + b);
        add_wb(el + "cross_attn_norm", hl + "encoder_attn_layer_norm");
      }
      add_wb(el + "ffn.wi", hl + "fc1");
      add_wb(el + "ffn.wo", hl + "fc2");
      add_wb(el + "ffn_norm", hl + "final_layer_norm");
    }
  }
  return t;
}

}  // namespace attend

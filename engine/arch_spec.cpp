// engine/arch_spec.cpp — JSON (de)serialisation and validation of ArchSpec.
#include "engine/arch_spec.hpp"

#include <nlohmann/json.hpp>

#include "attend/error.hpp"

namespace attend {
namespace {

const char* norm_name(NormKind k) { return k == NormKind::LayerNorm ? "layer_norm" : "rms_norm"; }

const char* position_name(PositionKind k) {
  switch (k) {
    case PositionKind::SinusoidalMarian: return "sinusoidal";
    case PositionKind::SinusoidalFairseq: return "sinusoidal_fairseq";
    case PositionKind::Learned: return "learned";
    case PositionKind::RelativeBuckets: return "relative_buckets";
  }
  return "?";
}

template <typename T>
T get_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw Error(std::string("architecture: missing field '") + key + "'");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string("architecture: field '") + key + "' has the wrong type");
  }
}

void require_positive(int v, const char* key) {
  if (v <= 0 || v > (1 << 24)) {
    throw Error(std::string("architecture: field '") + key + "' out of range: " + std::to_string(v));
  }
}

}  // namespace

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Relu: return "relu";
    case Activation::Gelu: return "gelu";
    case Activation::GeluTanh: return "gelu_new";
    case Activation::Swish: return "swish";
  }
  return "?";
}

const char* encoder_attention_name(EncoderAttention a) {
  switch (a) {
    case EncoderAttention::Full: return "full";
    case EncoderAttention::LedSliding: return "led_sliding_window";
    case EncoderAttention::LongT5Local: return "longt5_local";
    case EncoderAttention::LongT5TransientGlobal: return "longt5_transient_global";
  }
  return "?";
}

nlohmann::json ArchSpec::to_json() const {
  return nlohmann::json{
      {"encoder_attention", encoder_attention_name(encoder_attention)},
      {"attention_window", attention_window},
      {"local_radius", local_radius},
      {"global_block_size", global_block_size},
      {"encoder_max_positions", encoder_max_positions},
      {"max_input_length", max_input_length},
      {"family", family},
      {"d_model", d_model},
      {"src_vocab_size", src_vocab_size},
      {"vocab_size", vocab_size},
      {"encoder_layers", encoder_layers},
      {"decoder_layers", decoder_layers},
      {"encoder_heads", encoder_heads},
      {"decoder_heads", decoder_heads},
      {"head_dim", head_dim},
      {"encoder_ffn_dim", encoder_ffn_dim},
      {"decoder_ffn_dim", decoder_ffn_dim},
      {"pre_norm", pre_norm},
      {"norm", norm_name(norm)},
      {"norm_eps", norm_eps},
      {"layernorm_embedding", layernorm_embedding},
      {"encoder_final_norm", encoder_final_norm},
      {"decoder_final_norm", decoder_final_norm},
      {"positions", position_name(positions)},
      {"max_positions", max_positions},
      {"position_offset", position_offset},
      {"padding_idx", padding_idx},
      {"relative_buckets", relative_buckets},
      {"relative_max_distance", relative_max_distance},
      {"embed_scale", embed_scale},
      {"attention_scaling", attention_scaling},
      {"projection_bias", projection_bias},
      {"activation", activation_name(activation)},
      {"gated_ffn", gated_ffn},
      {"final_logits_bias", final_logits_bias},
      {"logits_scale", logits_scale},
      {"pad_token_id", pad_token_id},
      {"beam_suppress_pad_before_log_softmax", beam_suppress_pad_before_log_softmax},
  };
}

ArchSpec ArchSpec::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("architecture: not a JSON object");
  ArchSpec s;
  s.family = get_field<std::string>(j, "family");
  s.d_model = get_field<int>(j, "d_model");
  s.src_vocab_size = get_field<int>(j, "src_vocab_size");
  s.vocab_size = get_field<int>(j, "vocab_size");
  s.encoder_layers = get_field<int>(j, "encoder_layers");
  s.decoder_layers = get_field<int>(j, "decoder_layers");
  s.encoder_heads = get_field<int>(j, "encoder_heads");
  s.decoder_heads = get_field<int>(j, "decoder_heads");
  s.head_dim = get_field<int>(j, "head_dim");
  s.encoder_ffn_dim = get_field<int>(j, "encoder_ffn_dim");
  s.decoder_ffn_dim = get_field<int>(j, "decoder_ffn_dim");
  s.pre_norm = get_field<bool>(j, "pre_norm");
  const auto norm = get_field<std::string>(j, "norm");
  if (norm == "layer_norm") s.norm = NormKind::LayerNorm;
  else if (norm == "rms_norm") s.norm = NormKind::RMSNorm;
  else throw Error("architecture: unknown norm '" + norm + "'");
  s.norm_eps = get_field<float>(j, "norm_eps");
  s.layernorm_embedding = get_field<bool>(j, "layernorm_embedding");
  s.encoder_final_norm = get_field<bool>(j, "encoder_final_norm");
  s.decoder_final_norm = get_field<bool>(j, "decoder_final_norm");
  const auto pos = get_field<std::string>(j, "positions");
  if (pos == "sinusoidal") s.positions = PositionKind::SinusoidalMarian;
  else if (pos == "sinusoidal_fairseq") s.positions = PositionKind::SinusoidalFairseq;
  else if (pos == "learned") s.positions = PositionKind::Learned;
  else if (pos == "relative_buckets") s.positions = PositionKind::RelativeBuckets;
  else throw Error("architecture: unknown positions '" + pos + "'");
  s.max_positions = get_field<int>(j, "max_positions");
  s.position_offset = get_field<int>(j, "position_offset");
  s.padding_idx = get_field<int>(j, "padding_idx");
  s.relative_buckets = get_field<int>(j, "relative_buckets");
  s.relative_max_distance = get_field<int>(j, "relative_max_distance");
  s.embed_scale = get_field<float>(j, "embed_scale");
  s.attention_scaling = get_field<bool>(j, "attention_scaling");
  s.projection_bias = get_field<bool>(j, "projection_bias");
  const auto act = get_field<std::string>(j, "activation");
  if (act == "relu") s.activation = Activation::Relu;
  else if (act == "gelu") s.activation = Activation::Gelu;
  else if (act == "gelu_new") s.activation = Activation::GeluTanh;
  else if (act == "swish") s.activation = Activation::Swish;
  else throw Error("architecture: unknown activation '" + act + "'");
  s.gated_ffn = get_field<bool>(j, "gated_ffn");
  s.final_logits_bias = get_field<bool>(j, "final_logits_bias");
  s.logits_scale = get_field<float>(j, "logits_scale");
  s.pad_token_id = get_field<int32_t>(j, "pad_token_id");
  s.beam_suppress_pad_before_log_softmax = get_field<bool>(j, "beam_suppress_pad_before_log_softmax");

  // Long-input fields: optional (model files written before they existed have none).
  const std::string ea = j.value("encoder_attention", std::string("full"));
  if (ea == "full") s.encoder_attention = EncoderAttention::Full;
  else if (ea == "led_sliding_window") s.encoder_attention = EncoderAttention::LedSliding;
  else if (ea == "longt5_local") s.encoder_attention = EncoderAttention::LongT5Local;
  else if (ea == "longt5_transient_global") s.encoder_attention = EncoderAttention::LongT5TransientGlobal;
  else throw Error("architecture: unknown encoder_attention '" + ea + "'");
  try {
    s.attention_window = j.value("attention_window", std::vector<int>{});
    s.local_radius = j.value("local_radius", 0);
    s.global_block_size = j.value("global_block_size", 0);
    s.encoder_max_positions = j.value("encoder_max_positions", 0);
    s.max_input_length = j.value("max_input_length", 0);
  } catch (const nlohmann::json::exception&) {
    throw Error("architecture: a long-input field (attention_window, local_radius, global_block_size, "
                "encoder_max_positions, max_input_length) has the wrong type");
  }

  require_positive(s.d_model, "d_model");
  require_positive(s.src_vocab_size, "src_vocab_size");
  require_positive(s.vocab_size, "vocab_size");
  require_positive(s.encoder_layers, "encoder_layers");
  require_positive(s.decoder_layers, "decoder_layers");
  require_positive(s.encoder_heads, "encoder_heads");
  require_positive(s.decoder_heads, "decoder_heads");
  require_positive(s.head_dim, "head_dim");
  require_positive(s.encoder_ffn_dim, "encoder_ffn_dim");
  require_positive(s.decoder_ffn_dim, "decoder_ffn_dim");
  if (s.positions != PositionKind::RelativeBuckets) require_positive(s.max_positions, "max_positions");
  if (s.positions == PositionKind::RelativeBuckets) {
    require_positive(s.relative_buckets, "relative_buckets");
    require_positive(s.relative_max_distance, "relative_max_distance");
    if (s.relative_buckets < 4) throw Error("architecture: relative_buckets must be >= 4");
  }
  if (s.position_offset < 0 || s.position_offset > 1024) throw Error("architecture: position_offset out of range");
  if (s.pad_token_id < 0 || s.pad_token_id >= s.vocab_size) {
    throw Error("architecture: pad_token_id " + std::to_string(s.pad_token_id) + " outside the vocabulary");
  }
  if (s.encoder_attention == EncoderAttention::LedSliding) {
    if (static_cast<int>(s.attention_window.size()) != s.encoder_layers)
      throw Error("architecture: attention_window needs one entry per encoder layer (" +
                  std::to_string(s.encoder_layers) + "), found " + std::to_string(s.attention_window.size()));
    for (int w : s.attention_window) {
      if (w <= 0 || w % 2 != 0 || w > (1 << 20))
        throw Error("architecture: attention_window " + std::to_string(w) + " must be a positive even number");
    }
  }
  if (s.encoder_attention == EncoderAttention::LongT5Local || s.encoder_attention == EncoderAttention::LongT5TransientGlobal) {
    if (s.positions != PositionKind::RelativeBuckets) throw Error("architecture: LongT5 attention needs relative_buckets positions");
    require_positive(s.local_radius, "local_radius");
  }
  if (s.encoder_attention == EncoderAttention::LongT5TransientGlobal) require_positive(s.global_block_size, "global_block_size");
  if (s.encoder_max_positions < 0 || s.encoder_max_positions > (1 << 24)) throw Error("architecture: encoder_max_positions out of range");
  if (s.max_input_length < 0 || s.max_input_length > (1 << 24)) throw Error("architecture: max_input_length out of range");
  if (!(s.norm_eps > 0.0f)) throw Error("architecture: norm_eps must be positive");
  return s;
}

}  // namespace attend

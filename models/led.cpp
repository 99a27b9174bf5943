// models/led.cpp — LED (Longformer-Encoder-Decoder, led-base/large-16384): BART with a
// sliding-window encoder self-attention (attention_window per layer) plus global tokens that
// use their own query/key/value projections; learned positions without offset, in separate
// encoder and decoder tables; everything else is the BART mapping under the "led." prefix.
#include <algorithm>

#include "attend/error.hpp"
#include "models/family.hpp"

namespace attend {
namespace {

FamilyModel build_led(const nlohmann::json& config) {
  nlohmann::json c = config;
  c["max_position_embeddings"] = config_int(config, "max_decoder_position_embeddings");
  ArchSpec s = bart_like_spec(c, "led");
  s.positions = PositionKind::Learned;
  s.position_offset = 0;
  s.layernorm_embedding = true;
  s.final_logits_bias = true;
  s.encoder_max_positions = config_int(config, "max_encoder_position_embeddings");
  s.encoder_attention = EncoderAttention::LedSliding;
  const auto it = config.find("attention_window");
  if (it == config.end() || it->is_null()) throw Error("config.json: missing field 'attention_window'");
  if (it->is_number_integer()) {
    s.attention_window.assign(s.encoder_layers, it->get<int>());
  } else if (it->is_array()) {
    for (const auto& v : *it) {
      if (!v.is_number_integer()) throw Error("config.json: field 'attention_window' must hold integers");
      s.attention_window.push_back(v.get<int>());
    }
  } else {
    throw Error("config.json: field 'attention_window' must be an integer or a list");
  }
  if (static_cast<int>(s.attention_window.size()) != s.encoder_layers)
    throw Error("config.json: 'attention_window' needs one entry per encoder layer");
  // HF pads the input to a multiple of the largest window; the padded length must fit the table.
  const int wmax = *std::max_element(s.attention_window.begin(), s.attention_window.end());
  if (wmax <= 0) throw Error("config.json: 'attention_window' must be positive");
  s.max_input_length = s.encoder_max_positions / wmax * wmax;

  std::vector<TensorSource> t = bart_like_tensors(s, "embed_positions.weight", "", "led");
  const std::pair<const char*, const char*> renames[] = {{"self_attn.q.", "longformer_self_attn.query."},
                                                          {"self_attn.k.", "longformer_self_attn.key."},
                                                          {"self_attn.v.", "longformer_self_attn.value."},
                                                          {"self_attn.o.", "output."}};
  for (TensorSource& ts : t) {
    if (ts.name.rfind("encoder.layers.", 0) != 0) continue;
    for (const auto& [from, to] : renames) {
      const size_t at = ts.name.find(from);
      if (at == std::string::npos) continue;
      const std::string layer = ts.name.substr(0, at);  // encoder.layers.N.
      const std::string what = ts.name.substr(at + std::string(from).size());  // weight | bias
      ts.hf_names = {"led." + layer + "self_attn." + to + what};
    }
  }
  for (int i = 0; i < s.encoder_layers; ++i) {
    const std::string el = "encoder.layers." + std::to_string(i) + ".self_attn.";
    const std::string hl = "led.encoder.layers." + std::to_string(i) + ".self_attn.longformer_self_attn.";
    for (const auto& [a, b] : {std::pair<const char*, const char*>{"q_global", "query_global"},
                               {"k_global", "key_global"},
                               {"v_global", "value_global"}}) {
      for (const char* w : {"weight", "bias"}) t.push_back({el + a + "." + w, {hl + b + "." + w}, false});
    }
  }
  return {s, t, "bart"};
}

}  // namespace

extern const Family kLedFamily;
const Family kLedFamily{{"led"},
                        {{"activation_function", "gelu"}, {"scale_embedding", false}, {"attention_window", 512},
                         {"max_encoder_position_embeddings", 16384}, {"max_decoder_position_embeddings", 1024}},
                        build_led};

}  // namespace attend

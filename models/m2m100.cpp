// models/m2m100.cpp — M2M100 / NLLB: pre-norm, final layer norms, scaled embeddings, fairseq
// sinusoidal positions from the token ids (padding offset), no final_logits_bias.
#include "models/family.hpp"

namespace attend {
namespace {

FamilyModel build_m2m100(const nlohmann::json& c) {
  ArchSpec s = bart_like_spec(c, "m2m100");
  s.positions = PositionKind::SinusoidalFairseq;
  s.padding_idx = s.pad_token_id;
  s.pre_norm = true;
  s.encoder_final_norm = s.decoder_final_norm = true;
  const std::string tok = c.value("tokenizer_class", std::string()) == "NllbTokenizer" ? "nllb" : "m2m100";
  return {s, bart_like_tensors(s, "embed_positions.weights", "layer_norm"), tok};
}

}  // namespace

extern const Family kM2M100Family;
const Family kM2M100Family{{"m2m_100", "nllb-moe"}, {{"activation_function", "relu"}, {"scale_embedding", true}}, build_m2m100};

}  // namespace attend

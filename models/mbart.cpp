// models/mbart.cpp — mBART / mBART-50: BART with pre-norm, final encoder/decoder layer norms
// and scaled embeddings; language codes come from the tokenizer.
#include "models/family.hpp"

namespace attend {
namespace {

FamilyModel build_mbart(const nlohmann::json& c) {
  ArchSpec s = bart_like_spec(c, "mbart");
  s.positions = PositionKind::Learned;
  s.position_offset = 2;
  s.pre_norm = true;
  s.layernorm_embedding = true;
  s.encoder_final_norm = s.decoder_final_norm = true;
  s.final_logits_bias = true;
  return {s, bart_like_tensors(s, "embed_positions.weight", "layer_norm"), "mbart50"};
}

}  // namespace

extern const Family kMBartFamily;
const Family kMBartFamily{{"mbart"}, {{"activation_function", "gelu"}, {"forced_eos_token_id", 2}, {"scale_embedding", false}}, build_mbart};

}  // namespace attend

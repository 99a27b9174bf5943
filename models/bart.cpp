// models/bart.cpp — BART (bart-large-cnn, distilbart): post-norm, layernorm_embedding, exact
// GELU, learned positions with an offset of 2, final_logits_bias, byte-level BPE tokenizer.
#include "models/family.hpp"

namespace attend {
namespace {

FamilyModel build_bart(const nlohmann::json& c) {
  ArchSpec s = bart_like_spec(c, "bart");
  s.positions = PositionKind::Learned;
  s.position_offset = 2;
  s.layernorm_embedding = true;
  s.final_logits_bias = true;
  return {s, bart_like_tensors(s, "embed_positions.weight", ""), "bart"};
}

}  // namespace

extern const Family kBartFamily;
const Family kBartFamily{{"bart"}, {{"activation_function", "gelu"}, {"forced_eos_token_id", 2}, {"scale_embedding", false}}, build_bart};

}  // namespace attend

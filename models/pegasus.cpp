// models/pegasus.cpp — Pegasus: pre-norm, final layer norms, scaled embeddings, Marian-style
// static sinusoidal positions (the stored table equals the formula), final_logits_bias.
#include "models/family.hpp"

namespace attend {
namespace {

FamilyModel build_pegasus(const nlohmann::json& c) {
  ArchSpec s = bart_like_spec(c, "pegasus");
  s.positions = PositionKind::SinusoidalMarian;
  s.pre_norm = true;
  s.encoder_final_norm = s.decoder_final_norm = true;
  s.final_logits_bias = true;
  return {s, bart_like_tensors(s, "embed_positions.weight", "layer_norm"), "pegasus"};
}

}  // namespace

extern const Family kPegasusFamily;
const Family kPegasusFamily{{"pegasus"}, {{"activation_function", "gelu"}, {"forced_eos_token_id", 1}, {"scale_embedding", false}}, build_pegasus};

}  // namespace attend

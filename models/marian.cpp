// models/marian.cpp — Marian / opus-mt: post-norm, swish, static sinusoidal positions (not in
// the checkpoint), scaled embeddings, final_logits_bias, decoding starts from pad, and the
// pad logit suppressed before log_softmax in beam search.
#include "models/family.hpp"

namespace attend {
namespace {

FamilyModel build_marian(const nlohmann::json& c) {
  ArchSpec s = bart_like_spec(c, "marian");
  s.vocab_size = config_int(c, "decoder_vocab_size", s.vocab_size);
  s.positions = PositionKind::SinusoidalMarian;
  s.final_logits_bias = true;
  s.beam_suppress_pad_before_log_softmax = true;
  return {s, bart_like_tensors(s, "embed_positions.weight", ""), "marian"};
}

}  // namespace

extern const Family kMarianFamily;
const Family kMarianFamily{{"marian"},
                           {{"activation_function", "gelu"}, {"forced_eos_token_id", 0}, {"scale_embedding", false}},
                           build_marian};

}  // namespace attend

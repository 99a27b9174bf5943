// engine/arch_spec.hpp — the switches in which the supported seq2seq families differ. One
// shared transformer implementation (engine/transformer.*) reads them; each family file in
// models/ fills them in from a Hugging Face config.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/kernels/op_kinds.hpp"

namespace attend {

enum class PositionKind {
  SinusoidalMarian,   // static table from position 0: [sin(even j) | cos(odd j)] (Marian, Pegasus)
  SinusoidalFairseq,  // M2M100/NLLB: from token ids, padding_idx + 1 + index, pad -> zero row
  Learned,            // learned table, row = position + position_offset (BART/mBART offset 2)
  RelativeBuckets,    // T5 bucketed relative position bias
};

// How encoder self-attention is computed (decoder attention is always full and causal).
enum class EncoderAttention {
  Full,                // every real token attends to every real token (blocked kernel, linear memory)
  LedSliding,          // Longformer: window attention_window[layer] (radius w/2) plus global tokens
  LongT5Local,         // LongT5 `local`: radius local_radius, T5 relative bias
  LongT5TransientGlobal,  // LongT5 `transient-global`: local + one aggregated key per global block
};
const char* encoder_attention_name(EncoderAttention a);

struct ArchSpec {
  std::string family;          // "marian", "bart", "mbart", "t5", "m2m100", "pegasus"
  int d_model = 0;
  int src_vocab_size = 0;      // rows of encoder.embed_tokens
  int vocab_size = 0;          // rows of decoder.embed_tokens and lm_head (the output size)
  int encoder_layers = 0, decoder_layers = 0;
  int encoder_heads = 0, decoder_heads = 0;
  int head_dim = 0;            // per-head size; heads * head_dim may differ from d_model (T5)
  int encoder_ffn_dim = 0, decoder_ffn_dim = 0;

  bool pre_norm = false;               // norm before each sub-layer (else after the residual add)
  NormKind norm = NormKind::LayerNorm;
  float norm_eps = 1e-5f;
  bool layernorm_embedding = false;    // LayerNorm after embeddings + positions
  bool encoder_final_norm = false;     // LayerNorm/RMSNorm at the end of each stack
  bool decoder_final_norm = false;

  PositionKind positions = PositionKind::SinusoidalMarian;
  int max_positions = 0;               // rows usable by absolute position schemes
  int position_offset = 0;             // Learned: row = position + offset
  int padding_idx = 0;                 // SinusoidalFairseq
  int relative_buckets = 32;           // RelativeBuckets
  int relative_max_distance = 128;

  float embed_scale = 1.0f;            // sqrt(d_model) or 1
  bool attention_scaling = true;       // scores = (q * head_dim^-0.5) . k ; false for T5
  bool projection_bias = true;         // q/k/v/o and FFN linear layers have biases (not T5)
  Activation activation = Activation::Relu;
  bool gated_ffn = false;              // T5 v1.1: act(x W0) * (x W1)

  bool final_logits_bias = false;
  float logits_scale = 1.0f;           // T5 tied: d_model^-0.5 applied before the LM head

  int32_t pad_token_id = 0;
  bool beam_suppress_pad_before_log_softmax = false;  // MarianMTModel quirk

  // Long-input encoders (issue 18). Absent from older model files: Full, no windows.
  EncoderAttention encoder_attention = EncoderAttention::Full;
  std::vector<int> attention_window;   // LedSliding: per encoder layer, even (radius w/2)
  int local_radius = 0;                // LongT5: keys within this distance (block_len = radius + 1)
  int global_block_size = 0;           // LongT5TransientGlobal: tokens per global block
  int encoder_max_positions = 0;       // encoder position rows when they differ from max_positions (LED)
  int max_input_length = 0;            // longest source in tokens the model takes (0 = not bounded)

  nlohmann::json to_json() const;
  // Reads and validates (positive sizes, known enum names); throws attend::Error naming the field.
  static ArchSpec from_json(const nlohmann::json& j);
};

const char* activation_name(Activation a);

}  // namespace attend

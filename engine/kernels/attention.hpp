// engine/kernels/attention.hpp — the attention core (scores, mask, position bias, softmax, weighted
// sum of values) for all heads of many rows at once. The projections around it are oneDNN
// matmuls (engine/dnnl_ops.hpp); this fused core works on the strided q/k/v they produce,
// skips masked keys (transformers adds finfo.min, which gives them weight exactly 0) and
// never materialises a mask tensor. Keys and values may be stored as float, bf16 (bf16 runs),
// IEEE half, or int8 with a scale per position and head (int8 runs).
#pragma once
#include <cstddef>
#include <cstdint>

namespace attend {

// Where the keys and values of one query row live.
struct KeyValueView {
  const float* k = nullptr;   // key of position j, head h: k + j * stride + h * head_dim
  const float* v = nullptr;   //   (+ slots[j] * slot_stride when slots is set)
  int64_t stride = 0;          // floats between consecutive positions
  int length = 0;              // number of positions
  const int32_t* mask = nullptr;  // optional [length], 0 = padded key (skipped)
  // Optional indirection (the decoder's self-attention cache): position j of this row lives
  // in slot slots[j] of position j's block, so beam reordering rewrites slot tables instead of
  // copying keys and values.
  const int32_t* slots = nullptr;
  int64_t slot_stride = 0;
  // 16-bit keys and values instead of k/v (same strides, in elements), widened to float on
  // load: bf16, or IEEE half when fp16 is set.
  const uint16_t* k16 = nullptr;
  const uint16_t* v16 = nullptr;
  bool fp16 = false;
  // 8-bit keys and values instead (kv8_store's entries): position j's entry starts at
  // k8 + j * stride (+ slots[j] * slot_stride), strides then counted in bytes.
  const int8_t* k8 = nullptr;
  const int8_t* v8 = nullptr;
  // Scores of 64-wide heads summed by a tree in registers (AVX-512) instead of lane by lane in
  // order: faster, rounded differently (Transformer::fast_scores says for which compute types).
  bool fast_scores = false;
};

// Additive score bias per (head, query position, key position), e.g. T5's relative bias:
// bias[h * bias_head_stride + j] for this query row.
struct ScoreBias {
  const float* data = nullptr;
  int64_t head_stride = 0;
};

// An 8-bit key or value entry of one position: its heads * head_dim elements as int8, then one
// float scale per head (element = int8 * scale; per head max |x| / 127, quantize_row's rule).
// kv8_entry_bytes is a multiple of 4 when heads * head_dim is; the entry must be 4-byte aligned.
inline size_t kv8_entry_bytes(int heads, int head_dim) {
  return static_cast<size_t>(heads) * static_cast<size_t>(head_dim) + sizeof(float) * static_cast<size_t>(heads);
}
void kv8_store(const float* x, int heads, int head_dim, int8_t* entry);
// int8 caches: a row's last block of up to 8 (4) keys shares one score fold among 2 (4) heads
// (the same bits either way; tests compare the two).
extern bool kPackScoreBlocks;

// One query row: ctx[h*head_dim + d] = sum_j softmax_j(scale * q_h . k_jh + bias_hj) v_jh[d].
// Keys and values are read once each, whole (all heads), in position order. `scratch` needs
// attend_row_scratch(heads, kv.length) floats. `probs` (optional, [heads][kv.length]) receives
// the softmax weights (masked keys exactly 0): the cross-attention weights users ask for
// (TranslateOptions::return_attention); null costs nothing.
void attend_row(const float* q, const KeyValueView& kv, const ScoreBias& bias, int heads, int head_dim,
                float scale, float* ctx, float* scratch, float* probs = nullptr);
inline size_t attend_row_scratch(int heads, int length) {
  return static_cast<size_t>(heads) * (static_cast<size_t>(length) + 1);
}
// Asks the caches to fetch the keys and values attend_row(kv) will read (positions [0, kv.length)
// but `skip_last` of them, unmasked), into the first-level cache: called for the next row while
// this one attends. A decoder step's caches come from memory (the weights streamed since they
// were last read evict them), and a row's entries lie in other rows' slots after beam
// reordering, where the hardware prefetchers do not follow.
void prefetch_kv(const KeyValueView& kv, int heads, int head_dim, int skip_last = 0);

}  // namespace attend

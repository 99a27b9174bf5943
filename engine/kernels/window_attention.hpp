// engine/kernels/window_attention.hpp — encoder self-attention over long inputs in linear
// memory. Queries are taken in blocks of kQueryBlock positions per head; each block meets only
// the keys it may see (a window of ±radius, all keys for full attention) in chunks of kKeyChunk
// keys, with an online softmax (running maximum and sum per query, output rescaled), so no
// query × key matrix larger than kQueryBlock × kKeyChunk ever exists. Additive position biases
// that depend only on the key-query offset (T5 / LongT5) come from a per-offset table, so no
// per-pair bias exists either. Extra keys every query sees (LED's global tokens, LongT5's global
// blocks) are one more chunk. The products are sgemm calls on strided q/k/v (oneDNN).
// Also LED's global query rows (full attention with their own projections).
#pragma once
#include <cstdint>

namespace attend {

constexpr int kQueryBlock = 64;
constexpr int kKeyChunk = 256;

// One sequence: position i's query at q + i*q_stride (head h at + h*head_dim), keys and values
// likewise with kv_stride. Output ctx + i*ctx_stride + h*head_dim.
struct WindowAttention {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t q_stride = 0, kv_stride = 0;
  int length = 0;
  int heads = 0, head_dim = 0;
  float scale = 1.0f;                  // applied to q . k
  int radius = 0;                      // key j is seen by query i when |i - j| <= radius
  const int32_t* key_ok = nullptr;     // [length]: 0 = not a window key (padding, LED global token)
  // Optional [heads][2*R + 1] with R = min(radius, length - 1): bias of offset j - i at j - i + R.
  const float* offset_bias = nullptr;
  // Extra keys/values seen by every query (after the window keys, same softmax).
  int extra = 0;
  const float* ek = nullptr;
  const float* ev = nullptr;
  int64_t e_stride = 0;
  // Optional [heads][2*extra - 1]: bias of extra e for query i at e - query_group[i] + extra - 1.
  const float* extra_bias = nullptr;
  const int32_t* query_group = nullptr;  // [length], with extra_bias
  float* ctx = nullptr;
  int64_t ctx_stride = 0;
  // Cross-attention: `queries` query rows (not positions of the key sequence), every one of
  // which sees every usable key (radius and offset bias unused). 0 = self-attention above.
  int queries = 0;
};

// Runs all heads and query blocks (OpenMP parallel inside). A query with no visible key gets 0.
void window_attention(const WindowAttention& a);

// Effective radius of a (its bias table has 2*R + 1 columns).
inline int window_radius(const WindowAttention& a) { return a.radius < a.length - 1 ? a.radius : a.length - 1; }

// LED global query rows of one sequence: for each position g in `globals`, with x the layer's
// input rows (x + j*x_stride, d_model values), q = (Wq x_g + bq) * scale and, per head h,
// softmax over the real keys j (real[j] != 0) of q_h . (Wk x_j + bk)_h, output
// sum_j p_j (Wv x_j + bv)_h, written to ctx + g*ctx_stride. Computed as x_j . (Wk_hᵀ q_h) and
// Wv_h (sum_j p_j x_j) + bv_h, so neither the global keys nor values of all rows are formed.
// W* are [heads*head_dim, d_model] row-major.
struct GlobalRowsWeights {
  const float* wq; const float* bq;
  const float* wk; const float* bk;
  const float* wv; const float* bv;
};
void led_global_rows(const float* x, int64_t x_stride, int length, const int32_t* real, const int32_t* globals,
                     int n_globals, const GlobalRowsWeights& w, int d_model, int heads, int head_dim, float scale,
                     float* ctx, int64_t ctx_stride);

}  // namespace attend

// engine/kernels/attention.cpp — fused attention core for one query row and all heads (each key and
// value read once, contiguously, for all heads). The dot
// products and the weighted sum are SIMD loops compiled for several ISAs and picked at load
// time (target_clones); the softmax's exp is engine/simd's (AVX-512 picked at run time).
#include "engine/kernels/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include "engine/kernels/simd.hpp"

namespace attend {

namespace {

inline float widen(float x) { return x; }
inline float widen(uint16_t b) {  // bf16 -> float: the bits are the float's upper half
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

#if defined(__GNUC__) && defined(__x86_64__)
#define ATTEND_SCORES_AVX512 1
#if !defined(__clang__)
// GCC 12's _mm512_reduce_add_ps starts from an _mm512_undefined value it then masks out:
// a false -Wmaybe-uninitialized (engine/kernels/simd.cpp does the same)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Scores of one query against keys [0, n) of a float cache for heads of 64 dimensions:
// scratch[h * n + j] = scale * (q_h . k_j,h) + bias. Per (key, head) the 64 products are summed
// in two 16-lane halves and a tree reduction in registers. The portable loop below sums the
// 16 lanes one after another through memory (a dependent chain of 16 scalar adds per score:
// half of a batch-32 decode's attention time); the two orders round differently (float sums).
__attribute__((target("avx512f,avx512dq"))) void scores64_avx512(const float* q, const float* kbase,
                                                              const KeyValueView& kv, const ScoreBias& bias,
                                                              int heads, float scale, float* scratch) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int n = kv.length;
  for (int j = 0; j < n; ++j) {
    if (kv.mask && kv.mask[j] == 0) {
      for (int h = 0; h < heads; ++h) scratch[static_cast<size_t>(h) * n + j] = kNegInf;
      continue;
    }
    int64_t o = static_cast<int64_t>(j) * kv.stride;
    if (kv.slots) o += static_cast<int64_t>(kv.slots[j]) * kv.slot_stride;
    const float* kj = kbase + o;
    for (int h = 0; h < heads; ++h) {
      const float* qh = q + static_cast<int64_t>(h) * 64;
      const float* kh = kj + static_cast<int64_t>(h) * 64;
      __m512 a = _mm512_mul_ps(_mm512_loadu_ps(qh), _mm512_loadu_ps(kh));
      __m512 b = _mm512_mul_ps(_mm512_loadu_ps(qh + 16), _mm512_loadu_ps(kh + 16));
      a = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 32), _mm512_loadu_ps(kh + 32), a);
      b = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 48), _mm512_loadu_ps(kh + 48), b);
      float sc = _mm512_reduce_add_ps(_mm512_add_ps(a, b)) * scale;
      if (bias.data) sc += bias.data[h * bias.head_stride + j];
      scratch[static_cast<size_t>(h) * n + j] = sc;
    }
  }
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// T: float, or uint16_t holding bf16 (widened to float on load).
template <class T>
inline __attribute__((always_inline)) void attend_row_impl(const float* q, const T* kbase, const T* vbase,
                                                           const KeyValueView& kv, const ScoreBias& bias, int heads,
                                                           int head_dim, float scale, float* ctx, float* scratch,
                                                           float* probs) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int n = kv.length;
  auto offset = [&kv](int j) {
    int64_t o = static_cast<int64_t>(j) * kv.stride;
    if (kv.slots) o += static_cast<int64_t>(kv.slots[j]) * kv.slot_stride;
    return o;
  };
  float* inv = scratch + static_cast<size_t>(heads) * n;  // per head: 1 / sum of its weights
  // scores[h * n + j]: key j read once for all heads (contiguous), masked keys -inf
#ifdef ATTEND_SCORES_AVX512
  if (std::is_same<T, float>::value && head_dim == 64 && kv.fast_scores && simd::has_avx512()) {
    scores64_avx512(q, reinterpret_cast<const float*>(kbase), kv, bias, heads, scale, scratch);
  } else
#endif
  for (int j = 0; j < n; ++j) {
    if (kv.mask && kv.mask[j] == 0) {
      for (int h = 0; h < heads; ++h) scratch[static_cast<size_t>(h) * n + j] = kNegInf;  // exp -> 0
      continue;
    }
    const T* kj = kbase + offset(j);
    for (int h = 0; h < heads; ++h) {
      const int64_t hoff = static_cast<int64_t>(h) * head_dim;
      const float* qh = q + hoff;
      const T* kh = kj + hoff;
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int d = 0; d < head_dim; ++d) s += qh[d] * widen(kh[d]);
      s *= scale;
      if (bias.data) s += bias.data[h * bias.head_stride + j];
      scratch[static_cast<size_t>(h) * n + j] = s;
    }
  }
  // softmax per head; a head whose keys are all masked gets weight 0 everywhere (HF would
  // average them; cannot occur for real rows)
  for (int h = 0; h < heads; ++h) {
    float* sh = scratch + static_cast<size_t>(h) * n;
    float mx = kNegInf;
    for (int j = 0; j < n; ++j) mx = std::max(mx, sh[j]);
    inv[h] = 0.0f;
    if (mx == kNegInf) {
      std::fill(sh, sh + n, 0.0f);
      continue;
    }
    const float sum = simd::exp_shifted_sum(sh, n, mx);  // sh[j] = exp(s_j - mx)
    if (sum > 0.0f) inv[h] = 1.0f / sum;
  }
  if (probs) {  // the weights themselves, as used below (w = exp * inv)
    for (int h = 0; h < heads; ++h) {
      const float* sh = scratch + static_cast<size_t>(h) * n;
      float* ph = probs + static_cast<size_t>(h) * n;
      for (int j = 0; j < n; ++j) ph[j] = (kv.mask && kv.mask[j] == 0) ? 0.0f : sh[j] * inv[h];
    }
  }
  if (head_dim == 64) {
    // The common head size: per head, its 64 sums stay in registers over all positions (the
    // same additions in the same order as below, so the same bits); each value row is then
    // read once per head, from cache.
    for (int h = 0; h < heads; ++h) {
      const int64_t hoff = static_cast<int64_t>(h) * 64;
      const float* sh = scratch + static_cast<size_t>(h) * n;
      float acc[64] = {};
      for (int j = 0; j < n; ++j) {
        if (kv.mask && kv.mask[j] == 0) continue;
        const float w = sh[j] * inv[h];
        const T* vh = vbase + offset(j) + hoff;
#pragma omp simd
        for (int d = 0; d < 64; ++d) acc[d] += w * widen(vh[d]);
      }
      std::copy(acc, acc + 64, ctx + hoff);
    }
    return;
  }
  // weighted sum of values: value j read once for all heads, positions in order
  std::fill(ctx, ctx + static_cast<int64_t>(heads) * head_dim, 0.0f);
  for (int j = 0; j < n; ++j) {
    if (kv.mask && kv.mask[j] == 0) continue;
    const T* vj = vbase + offset(j);
    for (int h = 0; h < heads; ++h) {
      const int64_t hoff = static_cast<int64_t>(h) * head_dim;
      const float w = scratch[static_cast<size_t>(h) * n + j] * inv[h];
      const T* vh = vj + hoff;
      float* out = ctx + hoff;
#pragma omp simd
      for (int d = 0; d < head_dim; ++d) out[d] += w * widen(vh[d]);
    }
  }
}

}  // namespace

ATTEND_MULTIVERSION
void attend_row(const float* q, const KeyValueView& kv, const ScoreBias& bias, int heads, int head_dim,
                float scale, float* ctx, float* scratch, float* probs) {
  if (kv.k16) attend_row_impl(q, kv.k16, kv.v16, kv, bias, heads, head_dim, scale, ctx, scratch, probs);
  else attend_row_impl(q, kv.k, kv.v, kv, bias, heads, head_dim, scale, ctx, scratch, probs);
}

}  // namespace attend

// engine/kernels/attention.cpp — fused attention core for one query row and all heads, over a float,
// bf16, IEEE-half or int8 cache. For 64-wide heads on AVX-512 CPUs (picked at run time) the scores go
// 16 keys at a time and the weighted sum four heads at a time; otherwise the dot products and the
// weighted sum are loops compiled for several ISAs and picked at load time (target_clones). The
// softmax's exp is engine/simd's.
#include "engine/kernels/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include "engine/kernels/half.hpp"
#include "engine/kernels/lane_sum.hpp"
#include "engine/kernels/quantize.hpp"
#include "engine/kernels/simd.hpp"

namespace attend {

bool kPackScoreBlocks = true;

namespace {

// The cache's element formats: T is how an element is stored, widen() makes it a float.
struct F32 {
  using T = float;
  static float widen(float x) { return x; }
};
struct BF16 {  // bf16: the bits are the float's upper half
  using T = uint16_t;
  static float widen(uint16_t b) { return bf16_to_float(b); }
};
struct F16 {  // IEEE half
  using T = uint16_t;
  static float widen(uint16_t h) { return half_to_float(h); }
};
struct I8 {  // int8, times its entry's scale for the head (kv8_store)
  using T = int8_t;
  static float widen(int8_t x) { return static_cast<float>(x); }
};

// Where position j's entry starts from the view's base, in elements (bytes for int8): j strides,
// plus its slot's when the view has a slot table.
inline int64_t entry_offset(const KeyValueView& kv, int j) {
  int64_t o = static_cast<int64_t>(j) * kv.stride;
  if (kv.slots) o += static_cast<int64_t>(kv.slots[j]) * kv.slot_stride;
  return o;
}

// The per-head scales of the entry at e (int8 cache: after its `inner` elements), or null: the
// other formats' elements are their values.
template <class F>
inline const float* entry_scales(const typename F::T* e, int inner) {
  if constexpr (std::is_same<F, I8>::value) return reinterpret_cast<const float*>(e + inner);
  (void)e, (void)inner;
  return nullptr;
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
// 16 consecutive key or value elements as floats, from a float, bf16 or IEEE-half cache.
__attribute__((target("avx512f"))) inline __m512 load16(F32, const float* p) { return _mm512_loadu_ps(p); }
__attribute__((target("avx512f"))) inline __m512 load16(BF16, const uint16_t* p) {
  const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
__attribute__((target("avx512f"))) inline __m512 load16(F16, const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
__attribute__((target("avx512f"))) inline __m512 load16(I8, const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// Pairwise sums of two vectors' neighbouring lanes: lanes 0-7 from x, 8-15 from y.
__attribute__((target("avx512f"))) inline __m512 fold_pairs(__m512 x, __m512 y) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  return _mm512_add_ps(_mm512_permutex2var_ps(x, even, y), _mm512_permutex2var_ps(x, odd, y));
}

// The keys of block [j0, j0 + m) of a row (key[i]: position j0 + i's entry, through the slot
// table) and the lanes of those not masked out.
template <class T>
__attribute__((target("avx512f"), always_inline)) inline __mmask16 block_keys(const T* kbase, const KeyValueView& kv,
                                                                               int j0, int m, const T** key) {
  for (int i = 0; i < m; ++i) key[i] = kbase + entry_offset(kv, j0 + i);
  const __mmask16 live = static_cast<__mmask16>((1u << m) - 1u);
  if (!kv.mask) return live;
  return _mm512_mask_cmpneq_epi32_mask(live, _mm512_maskz_loadu_epi32(live, kv.mask + j0), _mm512_setzero_si512());
}

// Scores of one query against keys [0, n) of a float or half cache (L) for heads of 64 dimensions:
// scratch[h * n + j] = scale * (q_h . k_j,h) + bias. Keys go 16 at a time: per (key, head) the
// 64 products land in one 16-lane vector, and the 16 keys' vectors are summed into one vector
// of 16 scores by four rounds of pairwise lane folds (15 adds and 30 permutes per 16 scores; a
// horizontal sum per score costs about as many per score). Scale, bias and the mask then go a
// vector at a time. The sums are rounded in a different order than the portable loop below
// (which sums the lanes one after another: the order bf16 runs keep).
template <class L>
__attribute__((target("avx512f,avx512dq"))) void scores64_avx512(const float* q, const typename L::T* kbase,
                                                              const KeyValueView& kv, const ScoreBias& bias,
                                                              int heads, float scale, float* scratch) {
  const int n = kv.length;
  const __m512 vscale = _mm512_set1_ps(scale), neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const typename L::T* key[16];
  for (int j0 = 0; j0 < n; j0 += 16) {
    const int m = std::min(16, n - j0);
    const __mmask16 live = static_cast<__mmask16>((1u << m) - 1u);
    const __mmask16 keep = block_keys(kbase, kv, j0, m, key);
    for (int h = 0; h < heads; ++h) {
      const float* qh = q + static_cast<int64_t>(h) * 64;
      const __m512 q0 = _mm512_loadu_ps(qh), q1 = _mm512_loadu_ps(qh + 16), q2 = _mm512_loadu_ps(qh + 32),
                   q3 = _mm512_loadu_ps(qh + 48);
      __m512 acc[16];
      for (int i = 0; i < 16; ++i) {
        if (i >= m) {
          acc[i] = _mm512_setzero_ps();
          continue;
        }
        const typename L::T* kh = key[i] + static_cast<int64_t>(h) * 64;
        __m512 a = _mm512_mul_ps(q0, load16(L{}, kh));
        __m512 b = _mm512_mul_ps(q1, load16(L{}, kh + 16));
        a = _mm512_fmadd_ps(q2, load16(L{}, kh + 32), a);
        b = _mm512_fmadd_ps(q3, load16(L{}, kh + 48), b);
        acc[i] = _mm512_add_ps(a, b);
      }
      for (int w = 8; w >= 1; w /= 2)
        for (int i = 0; i < w; ++i) acc[i] = fold_pairs(acc[2 * i], acc[2 * i + 1]);
      __m512 sc = _mm512_mul_ps(acc[0], vscale);
      if (bias.data) sc = _mm512_add_ps(sc, _mm512_maskz_loadu_ps(live, bias.data + h * bias.head_stride + j0));
      sc = _mm512_mask_blend_ps(keep, neg_inf, sc);
      _mm512_mask_storeu_ps(scratch + static_cast<size_t>(h) * n + j0, live, sc);
    }
  }
}

// Pairwise sums of two int32 vectors' neighbouring lanes: lanes 0-7 from x, 8-15 from y.
__attribute__((target("avx512f"))) inline __m512i fold_pairs_epi32(__m512i x, __m512i y) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  return _mm512_add_epi32(_mm512_permutex2var_epi32(x, even, y), _mm512_permutex2var_epi32(x, odd, y));
}

// Scores of an int16 query (quantize_query16) against keys [0, n) of an int8 cache for heads of
// 64 dimensions, 16 keys at a time as scores64_avx512 does, but the dot products are exact int32
// sums (vpmaddwd), so the order of their additions does not matter: the same bits as the
// portable loop's ((dot * key scale) * query scale) * scale. A block of W keys per head (the
// last block of a row: W = 8 or 4 when its keys fit) shares one 16-lane fold among 16 / W heads
// (lane g * W + i: head h + g, key i), so short blocks do not pay a whole fold per head.
template <int W>
__attribute__((target("avx512f,avx512bw,avx512dq"), always_inline)) inline void scores64_i8_block(
    const int16_t* q16, const float* qs, const int8_t* const* key, int j0, int m, __mmask16 keep, const KeyValueView& kv,
    const ScoreBias& bias, int heads, float scale, float* scratch) {
  constexpr int G = 16 / W;  // heads per fold
  const int n = kv.length;
  const __m512 vscale = _mm512_set1_ps(scale), neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  // lanes of live and kept keys: the block's W-bit masks, once per head of the fold
  __mmask16 live_lanes = 0, keep_lanes = 0;
  for (int g = 0; g < G; ++g) {
    live_lanes = static_cast<__mmask16>(live_lanes | ((((1u << m) - 1u) & ((1u << W) - 1u)) << (g * W)));
    keep_lanes = static_cast<__mmask16>(keep_lanes | ((keep & ((1u << W) - 1u)) << (g * W)));
  }
  for (int h = 0; h < heads; h += G) {
    __m512i acc[16];
    alignas(64) float ks[16] = {}, qv[16], bv[16] = {};
    for (int g = 0; g < G; ++g) {
      const int16_t* qh = q16 + static_cast<int64_t>(h + g) * 64;
      const __m512i q0 = _mm512_loadu_si512(qh), q1 = _mm512_loadu_si512(qh + 32);
      for (int i = 0; i < W; ++i) {
        const int lane = g * W + i;
        qv[lane] = qs[h + g];
        if (i >= m) {
          acc[lane] = _mm512_setzero_si512();
          continue;
        }
        const int8_t* kh = key[i] + static_cast<int64_t>(h + g) * 64;
        const __m512i k0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(kh)));
        const __m512i k1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(kh + 32)));
        acc[lane] = _mm512_add_epi32(_mm512_madd_epi16(q0, k0), _mm512_madd_epi16(q1, k1));
        ks[lane] = entry_scales<I8>(key[i], heads * 64)[h + g];
        if (bias.data) bv[lane] = bias.data[(h + g) * bias.head_stride + j0 + i];
      }
    }
    for (int w = 8; w >= 1; w /= 2)
      for (int i = 0; i < w; ++i) acc[i] = fold_pairs_epi32(acc[2 * i], acc[2 * i + 1]);
    __m512 sc = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[0]), _mm512_load_ps(ks));
    sc = _mm512_mul_ps(_mm512_mul_ps(sc, _mm512_load_ps(qv)), vscale);
    if (bias.data) sc = _mm512_add_ps(sc, _mm512_load_ps(bv));
    sc = _mm512_mask_blend_ps(keep_lanes, neg_inf, sc);
    if constexpr (G == 1) {
      _mm512_mask_storeu_ps(scratch + static_cast<size_t>(h) * n + j0, live_lanes, sc);
    } else {
      alignas(64) float out[16];
      _mm512_store_ps(out, sc);
      for (int g = 0; g < G; ++g) std::memcpy(scratch + static_cast<size_t>(h + g) * n + j0, out + g * W, sizeof(float) * m);
    }
  }
}

__attribute__((target("avx512f,avx512bw,avx512dq"))) void scores64_i8_avx512(const int16_t* q16, const float* qs,
                                                                          const int8_t* kbase, const KeyValueView& kv,
                                                                          const ScoreBias& bias, int heads,
                                                                          float scale, float* scratch) {
  const int n = kv.length;
  const int8_t* key[16];
  for (int j0 = 0; j0 < n; j0 += 16) {
    const int m = std::min(16, n - j0);
    const __mmask16 keep = block_keys(kbase, kv, j0, m, key);
    if (m <= 4 && heads % 4 == 0 && kPackScoreBlocks) scores64_i8_block<4>(q16, qs, key, j0, m, keep, kv, bias, heads, scale, scratch);
    else if (m <= 8 && heads % 2 == 0 && kPackScoreBlocks) scores64_i8_block<8>(q16, qs, key, j0, m, keep, kv, bias, heads, scale, scratch);
    else scores64_i8_block<16>(q16, qs, key, j0, m, keep, kv, bias, heads, scale, scratch);
  }
}

// The weighted sum of values for 64-wide heads, four heads at a time: each value row is read
// once per four heads, contiguously (1 KB), and the 16 accumulators stay in registers over all
// positions. Per output element the same additions in the same order as the portable loop
// (positions in order), so the same bits.
template <class L>
__attribute__((target("avx512f"))) void values64_avx512(const typename L::T* vbase, const KeyValueView& kv,
                                                        const float* scratch, const float* inv, int heads,
                                                        float* ctx) {
  const int n = kv.length;
  for (int h0 = 0; h0 < heads; h0 += 4) {
    __m512 acc[16];
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_ps();
    for (int j = 0; j < n; ++j) {
      if (kv.mask && kv.mask[j] == 0) continue;
      const int64_t o = entry_offset(kv, j);
      const typename L::T* vj = vbase + o + static_cast<int64_t>(h0) * 64;
      const float* vs = entry_scales<L>(vbase + o, heads * 64);
      for (int g = 0; g < 4; ++g) {
        float wj = scratch[static_cast<size_t>(h0 + g) * n + j] * inv[h0 + g];
        if (vs) wj *= vs[h0 + g];
        const __m512 w = _mm512_set1_ps(wj);
        for (int c = 0; c < 4; ++c) acc[4 * g + c] = _mm512_fmadd_ps(w, load16(L{}, vj + 64 * g + 16 * c), acc[4 * g + c]);
      }
    }
    for (int i = 0; i < 16; ++i) _mm512_storeu_ps(ctx + static_cast<int64_t>(h0) * 64 + 16 * i, acc[i]);
  }
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

#ifdef ATTEND_SCORES_AVX512
#if !defined(__clang__)
#pragma GCC diagnostic push  // _mm512_reduce_max_ps: the false warning noted above
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Per 64-wide head h of x: scales[h] = max |x_h| / Max and out[h * 64 + i] = round(x / scales[h])
// (to nearest even, clamped to +-Max, NaN -> 0; a zero or non-finite head: scale 1, all 0):
// quantize_row's rule with Max = 127 (kv8_store), the query's int16 with Max = 32767. A head's
// 64 elements stay in registers between its maximum and its rounding.
template <class Out, int Max>
__attribute__((target("avx512f,avx512bw"))) void quantize_heads64_avx512(const float* x, int heads, Out* out,
                                                                        float* scales) {
  const __m512 hi = _mm512_set1_ps(static_cast<float>(Max)), lo = _mm512_set1_ps(-static_cast<float>(Max));
  for (int h = 0; h < heads; ++h) {
    const float* xh = x + static_cast<int64_t>(h) * 64;
    __m512 v[4];
    __m512 mx = _mm512_setzero_ps();
    for (int c = 0; c < 4; ++c) {
      v[c] = _mm512_loadu_ps(xh + 16 * c);
      mx = _mm512_max_ps(mx, _mm512_abs_ps(v[c]));
    }
    const float m = _mm512_reduce_max_ps(mx);
    const bool ok = m > 0.0f && std::isfinite(m);
    scales[h] = ok ? m / static_cast<float>(Max) : 1.0f;
    const __m512 vinv = _mm512_set1_ps(ok ? static_cast<float>(Max) / m : 0.0f);
    for (int c = 0; c < 4; ++c) {
      __m512 p = _mm512_mul_ps(v[c], vinv);
      const __mmask16 nan = _mm512_cmp_ps_mask(p, p, _CMP_UNORD_Q);
      p = _mm512_roundscale_ps(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      p = _mm512_mask_mov_ps(_mm512_min_ps(_mm512_max_ps(p, lo), hi), nan, _mm512_setzero_ps());
      Out* o = out + static_cast<int64_t>(h) * 64 + 16 * c;
      if constexpr (sizeof(Out) == 1)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(p)));
      else
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(p)));
    }
  }
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// A query row as int16 per head: q16 = round(q / qs[h]), qs[h] = max |q_h| / 32767 (1 for a zero head).
void quantize_query16(const float* q, int heads, int head_dim, int16_t* q16, float* qs) {
#ifdef ATTEND_SCORES_AVX512
  if (head_dim == 64 && simd::has_avx512()) return quantize_heads64_avx512<int16_t, 32767>(q, heads, q16, qs);
#endif
  for (int h = 0; h < heads; ++h) {
    const float* x = q + static_cast<int64_t>(h) * head_dim;
    float mx = 0.0f;
    for (int d = 0; d < head_dim; ++d) mx = std::max(mx, std::fabs(x[d]));
    const bool ok = mx > 0.0f && std::isfinite(mx);
    const float inv = ok ? 32767.0f / mx : 0.0f;
    qs[h] = ok ? mx / 32767.0f : 1.0f;
    int16_t* o = q16 + static_cast<int64_t>(h) * head_dim;
    for (int d = 0; d < head_dim; ++d) {
      const float p = x[d] * inv;
      o[d] = p != p ? int16_t{0} : static_cast<int16_t>(std::max(-32767.0f, std::min(32767.0f, std::nearbyint(p))));
    }
  }
}

// F: the cache's element format (F32, BF16, F16 or I8).
template <class F>
inline __attribute__((always_inline)) void attend_row_impl(const float* q, const typename F::T* kbase, const typename F::T* vbase,
                                                           const KeyValueView& kv, const ScoreBias& bias, int heads,
                                                           int head_dim, float scale, float* ctx, float* scratch,
                                                           float* probs, const int16_t* q16 = nullptr,
                                                           const float* qs = nullptr) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int n = kv.length;
  using T = typename F::T;
  const int inner = heads * head_dim;
  float* inv = scratch + static_cast<size_t>(heads) * n;  // per head: 1 / sum of its weights
  // scores[h * n + j]: key j read once for all heads (contiguous), masked keys -inf
  bool done = false;
#ifdef ATTEND_SCORES_AVX512
  if constexpr (std::is_same<F, I8>::value) {  // exact integer sums: any order, the same bits
    if (head_dim == 64 && simd::has_avx512()) {
      scores64_i8_avx512(q16, qs, kbase, kv, bias, heads, scale, scratch);
      done = true;
    }
  } else if constexpr (!std::is_same<F, BF16>::value) {  // bf16 runs keep the per-element loop below
    if (head_dim == 64 && kv.fast_scores && simd::has_avx512()) {
      scores64_avx512<F>(q, kbase, kv, bias, heads, scale, scratch);
      done = true;
    }
  }
#endif
  if (!done)
  for (int j = 0; j < n; ++j) {
    if (kv.mask && kv.mask[j] == 0) {
      for (int h = 0; h < heads; ++h) scratch[static_cast<size_t>(h) * n + j] = kNegInf;  // exp -> 0
      continue;
    }
    const T* kj = kbase + entry_offset(kv, j);
    for (int h = 0; h < heads; ++h) {
      const int64_t hoff = static_cast<int64_t>(h) * head_dim;
      const float* qh = q + hoff;
      const T* kh = kj + hoff;
      float s = 0.0f;
      if constexpr (std::is_same<F, I8>::value) {
        const int16_t* qi = q16 + hoff;
        int32_t dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int d = 0; d < head_dim; ++d) dot += static_cast<int32_t>(qi[d]) * kh[d];
        s = static_cast<float>(dot) * entry_scales<F>(kj, inner)[h] * qs[h];
        (void)qh;
      } else {
        s = lane_sum16<float>(head_dim, [&](int64_t d) { return qh[d] * F::widen(kh[d]); });
      }
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
#ifdef ATTEND_SCORES_AVX512
  if (head_dim == 64 && heads % 4 == 0 && simd::has_avx512()) {
    values64_avx512<F>(vbase, kv, scratch, inv, heads, ctx);
    return;
  }
#endif
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
        float w = sh[j] * inv[h];
        if (const float* vs = entry_scales<F>(vbase + entry_offset(kv, j), inner)) w *= vs[h];
        const T* vh = vbase + entry_offset(kv, j) + hoff;
#pragma omp simd
        for (int d = 0; d < 64; ++d) acc[d] += w * F::widen(vh[d]);
      }
      std::copy(acc, acc + 64, ctx + hoff);
    }
    return;
  }
  // weighted sum of values: value j read once for all heads, positions in order
  std::fill(ctx, ctx + static_cast<int64_t>(heads) * head_dim, 0.0f);
  for (int j = 0; j < n; ++j) {
    if (kv.mask && kv.mask[j] == 0) continue;
    const T* vj = vbase + entry_offset(kv, j);
    const float* vs = entry_scales<F>(vj, inner);
    for (int h = 0; h < heads; ++h) {
      const int64_t hoff = static_cast<int64_t>(h) * head_dim;
      float w = scratch[static_cast<size_t>(h) * n + j] * inv[h];
      if (vs) w *= vs[h];
      const T* vh = vj + hoff;
      float* out = ctx + hoff;
#pragma omp simd
      for (int d = 0; d < head_dim; ++d) out[d] += w * F::widen(vh[d]);
    }
  }
}

}  // namespace

ATTEND_MULTIVERSION
void attend_row(const float* q, const KeyValueView& kv, const ScoreBias& bias, int heads, int head_dim,
                float scale, float* ctx, float* scratch, float* probs) {
  if (kv.k8) {
    // the query as int16 per head (max |q_h| / 32767): exact integer dot products with the keys
    thread_local std::vector<int16_t> q16;
    thread_local std::vector<float> qs;
    q16.resize(static_cast<size_t>(heads) * head_dim);
    qs.resize(static_cast<size_t>(heads));
    quantize_query16(q, heads, head_dim, q16.data(), qs.data());
    attend_row_impl<I8>(q, kv.k8, kv.v8, kv, bias, heads, head_dim, scale, ctx, scratch, probs, q16.data(), qs.data());
  } else if (kv.k16 && kv.fp16) {
    attend_row_impl<F16>(q, kv.k16, kv.v16, kv, bias, heads, head_dim, scale, ctx, scratch, probs);
  } else if (kv.k16) {
    attend_row_impl<BF16>(q, kv.k16, kv.v16, kv, bias, heads, head_dim, scale, ctx, scratch, probs);
  } else {
    attend_row_impl<F32>(q, kv.k, kv.v, kv, bias, heads, head_dim, scale, ctx, scratch, probs);
  }
}

void prefetch_kv(const KeyValueView& kv, int heads, int head_dim, int skip_last) {
  const char* k;
  const char* v;
  int64_t unit;  // bytes per stride step
  size_t bytes;  // of one position's key (or value)
  const size_t elems = static_cast<size_t>(heads) * static_cast<size_t>(head_dim);
  if (kv.k8) {
    k = reinterpret_cast<const char*>(kv.k8), v = reinterpret_cast<const char*>(kv.v8), unit = 1;
    bytes = kv8_entry_bytes(heads, head_dim);
  } else if (kv.k16) {
    k = reinterpret_cast<const char*>(kv.k16), v = reinterpret_cast<const char*>(kv.v16), unit = 2;
    bytes = 2 * elems;
  } else {
    k = reinterpret_cast<const char*>(kv.k), v = reinterpret_cast<const char*>(kv.v), unit = 4;
    bytes = 4 * elems;
  }
  if (k == nullptr || v == nullptr) return;
  for (int j = 0; j < kv.length - skip_last; ++j) {
    if (kv.mask && kv.mask[j] == 0) continue;
    const int64_t o = entry_offset(kv, j) * unit;
    for (size_t b = 0; b < bytes; b += 64) {
      __builtin_prefetch(k + o + b, 0, 3);  // into L1: 4-5% fewer attention samples than into L2
      __builtin_prefetch(v + o + b, 0, 3);
    }
  }
}

void kv8_store(const float* x, int heads, int head_dim, int8_t* entry) {
#ifdef ATTEND_SCORES_AVX512
  if (head_dim == 64 && simd::has_avx512())
    return quantize_heads64_avx512<int8_t, 127>(x, heads, entry, reinterpret_cast<float*>(entry + static_cast<int64_t>(heads) * 64));
#endif
  float* scales = reinterpret_cast<float*>(entry + static_cast<int64_t>(heads) * head_dim);
  for (int h = 0; h < heads; ++h) {
    const int64_t o = static_cast<int64_t>(h) * head_dim;
    quantize_row(x + o, head_dim, entry + o, &scales[h]);
  }
}

}  // namespace attend

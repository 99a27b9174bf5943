// engine/kernels/simd.cpp — AVX-512 and portable versions of the decode's element-wise hot loops
// (int8 activation quantization, int8 matmul epilogues with ReLU/Swish, the attention softmax's exp,
// the int8 LM head's fused passes, float -> IEEE half), with the AVX-512 one chosen at run time.
// See simd.hpp for what each computes.
#include "engine/kernels/simd.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "engine/kernels/half.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define ATTEND_X86 1
#define ATTEND_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#endif

namespace attend {
namespace simd {

namespace {
std::atomic<bool> g_avx512_enabled{true};
}  // namespace

bool has_avx512() {
#if defined(ATTEND_X86)
  static const bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return cpu && g_avx512_enabled.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

bool set_avx512_enabled(bool enabled) { return g_avx512_enabled.exchange(enabled); }

namespace {

// ---- portable versions -------------------------------------------------------------------

float abs_max_ref(const float* x, int64_t n) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > m) m = a;
  }
  return m;
}

void quantize_ref(const float* x, int64_t n, float inv, int8_t* q) {
  for (int64_t i = 0; i < n; ++i) {
    const float p = x[i] * inv;
    if (p != p) {  // NaN (inf * 0 for a row without a finite scale)
      q[i] = 0;
      continue;
    }
    float v = std::nearbyint(p);  // default rounding mode: to nearest even
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[i] = static_cast<int8_t>(v);
  }
}

inline float act_ref(float v, Act act) { return activate(v, act); }

// acc[j] times the channel scale cs[j] when given (as oneDNN's output scales compute it).
inline float scaled_ref(const float* acc, const float* cs, int64_t j) { return cs ? acc[j] * cs[j] : acc[j]; }

void scale_bias_ref(const float* acc, float rs, const float* bias, int64_t n, Act act, float* y, const float* cs) {
  for (int64_t j = 0; j < n; ++j) y[j] = act_ref(scaled_ref(acc, cs, j) * rs + (bias ? bias[j] : 0.0f), act);
}

void scale_bias_add_ref(const float* acc, float rs, const float* bias, int64_t n, float* y, const float* cs) {
  for (int64_t j = 0; j < n; ++j) y[j] += scaled_ref(acc, cs, j) * rs + (bias ? bias[j] : 0.0f);
}

void scale_bias_act_mul_ref(const float* acc, float rs, const float* bias, const float* aux, int64_t n, Act act,
                            float* y, const float* cs) {
  for (int64_t j = 0; j < n; ++j) y[j] = act_ref(scaled_ref(acc, cs, j) * rs + (bias ? bias[j] : 0.0f), act) * aux[j];
}

float sum_exp_ref(const float* x, int64_t n, float mx) {
  double sum = 0.0;  // one running sum: float would drift by ~1e-4 over a 50k vocabulary
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
  return static_cast<float>(sum);
}

float scale_bias_max_ref(const float* acc, float rs, const float* bias, int64_t n, float* y, const float* cs) {
  scale_bias_ref(acc, rs, bias, n, Act::None, y, cs);
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) m = y[j] > m ? y[j] : m;
  return m;
}

float sum_exp_hits_ref(const float* x, int64_t n, float mx, float threshold, uint16_t* hits) {
  for (int64_t i = 0; hits && i < n; i += 16) {
    uint16_t h = 0;
    for (int64_t l = 0; l < 16 && i + l < n; ++l)
      if (0.0f + x[i + l] > threshold) h = static_cast<uint16_t>(h | (1u << l));
    hits[i / 16] = h;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isnan(x[i])) sum += std::exp(x[i] - mx);  // NaN adds nothing, as in the vector loop
  return static_cast<float>(sum);
}

float scale_bias_sum_exp_hits_ref(const float* acc, float rs, const float* bias, int64_t n, float ref, float threshold,
                                  uint16_t* hits, float* hit_values, float* max_out, const float* cs) {
  float m = -std::numeric_limits<float>::infinity();
  double sum = 0.0;
  float v[16];
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t lanes = std::min<int64_t>(16, n - i);
    uint16_t h = 0;
    for (int64_t l = 0; l < lanes; ++l) {
      v[l] = scaled_ref(acc, cs, i + l) * rs + (bias ? bias[i + l] : 0.0f);  // as scale_bias_max_ref
      if (0.0f + v[l] > threshold) h = static_cast<uint16_t>(h | (1u << l));
      if (std::isnan(v[l])) continue;  // NaN adds nothing and is no maximum, as in the vector loop
      m = v[l] > m ? v[l] : m;
      sum += std::exp(v[l] - ref);  // as sum_exp_hits_ref
    }
    hits[i / 16] = h;
    if (h) std::copy(v, v + lanes, hit_values + i);
  }
  *max_out = m;
  return static_cast<float>(sum);
}

// IEEE half, saturated at the largest finite half (NaN stays NaN).
void to_half_ref(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::isnan(x[i]) ? x[i] : std::min(std::max(x[i], -kHalfMax), kHalfMax);
    out[i] = float_to_half(v);
  }
}

int64_t first_above_ref(const float* x, int64_t from, int64_t n, float base, float threshold) {
  for (int64_t i = from; i < n; ++i)
    if (base + x[i] > threshold) return i;
  return n;
}

float exp_shifted_sum_ref(float* x, int n, float mx) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  return sum;
}

#if defined(ATTEND_X86)
// ---- AVX-512 versions ---------------------------------------------------------------------
// GCC 12 warns (-W[maybe-]uninitialized) inside its own intrinsic headers here: the unmasked
// intrinsics pass _mm512_undefined_*() as their pass-through operand. False positives.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

// body(i, k) for the 16-float vectors of [0, n): the whole ones with the constant mask 0xFFFF (once
// inlined, the compiler drops the masking: no mask to compute per vector), then a short last one
// under tail_mask. A masked operation with all lanes on is the plain one, so the same bits as one
// loop under tail_mask. (perf: the LM head's block pass 5.0-5.2% -> 3.3-4.0% of a run's samples.)
template <class Body>
ATTEND_AVX512 inline __attribute__((always_inline)) void for_vectors(int64_t n, Body&& body) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) body(i, static_cast<__mmask16>(0xFFFF));
  if (i < n) body(i, tail_mask(n - i));
}

ATTEND_AVX512 float abs_max_avx512(const float* x, int64_t n) {
  __m512 m = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t i, __mmask16 k) ATTEND_AVX512 {
    const __m512 v = _mm512_abs_ps(_mm512_maskz_loadu_ps(k, x + i));
    m = _mm512_mask_max_ps(m, k, v, m);  // max(v, m): NaN in v keeps m
  });
  return _mm512_reduce_max_ps(m);
}

ATTEND_AVX512 void quantize_avx512(const float* x, int64_t n, float inv, int8_t* q) {
  const __m512 vinv = _mm512_set1_ps(inv), hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
  for_vectors(n, [&](int64_t i, __mmask16 k) ATTEND_AVX512 {
    __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), vinv);
    const __mmask16 nan = _mm512_cmp_ps_mask(p, p, _CMP_UNORD_Q);
    p = _mm512_roundscale_ps(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    p = _mm512_min_ps(_mm512_max_ps(p, lo), hi);
    p = _mm512_mask_mov_ps(p, nan, _mm512_setzero_ps());  // NaN -> 0, as the portable loop
    _mm_mask_storeu_epi8(q + i, k, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(p)));
  });
}

// exp(d) for d <= 0: 2^n * p(r), n = round(d log2 e), r = d - n ln 2 (two-part ln 2), p Cephes'
// expf polynomial (|r| <= ln2/2, ~1 ulp); d < -87.3 (incl. -inf) gives 0, d > 88.7 gives
// FLT_MAX-ish (only Swish uses positive arguments, where that saturates correctly).
ATTEND_AVX512 inline __m512 exp_ps(__m512 d) {
  const __mmask16 tiny = _mm512_cmp_ps_mask(d, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
  d = _mm512_min_ps(_mm512_max_ps(d, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(d, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), d);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512 e = _mm512_scalef_ps(p, n);
  return _mm512_mask_mov_ps(e, tiny, _mm512_setzero_ps());
}

ATTEND_AVX512 inline __m512 act_avx512(__m512 v, Act act) {
  switch (act) {
    case Act::None: return v;
    case Act::Relu: return _mm512_max_ps(v, _mm512_setzero_ps());
    case Act::Gelu: break;  // not vectorized: the dispatchers below take the scalar loop
    case Act::GeluTanh: {
      // 0.5 v (1 + tanh(z)) = v / (1 + exp(-2z)), z = sqrt(2/pi) (v + 0.044715 v^3): no
      // cancellation for negative v, and exp_ps saturates where it overflows (result -> 0)
      const __m512 z = _mm512_mul_ps(_mm512_set1_ps(0.79788456080286536f),
                                     _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), v), _mm512_mul_ps(v, v), v));
      const __m512 one = _mm512_set1_ps(1.0f);
      return _mm512_div_ps(v, _mm512_add_ps(one, exp_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), z))));
    }
    case Act::Swish: {
      const __m512 one = _mm512_set1_ps(1.0f);
      return _mm512_div_ps(v, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), v))));
    }
  }
  return v;
}

// acc[j, j + 16) under mask k, times the channel scales cs when given (as oneDNN's output scales).
ATTEND_AVX512 inline __m512 scaled16(const float* acc, const float* cs, int64_t j, __mmask16 k) {
  const __m512 a = _mm512_maskz_loadu_ps(k, acc + j);
  return cs ? _mm512_mul_ps(a, _mm512_maskz_loadu_ps(k, cs + j)) : a;
}

ATTEND_AVX512 void scale_bias_avx512(const float* acc, float rs, const float* bias, int64_t n, Act act, float* y,
                                     const float* cs) {
  const __m512 vrs = _mm512_set1_ps(rs), zero = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t j, __mmask16 k) ATTEND_AVX512 {
    const __m512 b = bias ? _mm512_maskz_loadu_ps(k, bias + j) : zero;
    const __m512 v = _mm512_fmadd_ps(scaled16(acc, cs, j, k), vrs, b);
    _mm512_mask_storeu_ps(y + j, k, act_avx512(v, act));
  });
}

ATTEND_AVX512 void scale_bias_add_avx512(const float* acc, float rs, const float* bias, int64_t n, float* y,
                                         const float* cs) {
  const __m512 vrs = _mm512_set1_ps(rs), zero = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t j, __mmask16 k) ATTEND_AVX512 {
    const __m512 b = bias ? _mm512_maskz_loadu_ps(k, bias + j) : zero;
    const __m512 v = _mm512_fmadd_ps(scaled16(acc, cs, j, k), vrs, b);
    _mm512_mask_storeu_ps(y + j, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, y + j), v));
  });
}

ATTEND_AVX512 void scale_bias_act_mul_avx512(const float* acc, float rs, const float* bias, const float* aux, int64_t n,
                                             Act act, float* y, const float* cs) {
  const __m512 vrs = _mm512_set1_ps(rs), zero = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t j, __mmask16 k) ATTEND_AVX512 {
    const __m512 b = bias ? _mm512_maskz_loadu_ps(k, bias + j) : zero;
    const __m512 v = act_avx512(_mm512_fmadd_ps(scaled16(acc, cs, j, k), vrs, b), act);
    _mm512_mask_storeu_ps(y + j, k, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(k, aux + j)));
  });
}

ATTEND_AVX512 float exp_shifted_sum_avx512(float* x, int n, float mx) {
  const __m512 vmx = _mm512_set1_ps(mx);
  __m512 acc = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t i, __mmask16 k) ATTEND_AVX512 {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vmx));
    _mm512_mask_storeu_ps(x + i, k, e);
    acc = _mm512_mask_add_ps(acc, k, acc, e);
  });
  return _mm512_reduce_add_ps(acc);
}
ATTEND_AVX512 float sum_exp_avx512(const float* x, int64_t n, float mx) {
  const __m512 vmx = _mm512_set1_ps(mx);
  __m512 acc = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t i, __mmask16 k) ATTEND_AVX512 {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vmx));
    acc = _mm512_mask_add_ps(acc, k, acc, e);
  });
  return _mm512_reduce_add_ps(acc);
}

ATTEND_AVX512 void to_half_avx512(const float* x, int64_t n, uint16_t* out) {
  const __m512 hi = _mm512_set1_ps(kHalfMax), lo = _mm512_set1_ps(-kHalfMax);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    // max/min return their second operand when either is NaN: a NaN element stays NaN
    const __m512 v = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_maskz_loadu_ps(k, x + i)));
    _mm256_mask_storeu_epi16(out + i, k, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
}

ATTEND_AVX512 float scale_bias_max_avx512(const float* acc, float rs, const float* bias, int64_t n, float* y,
                                          const float* cs) {
  const __m512 vrs = _mm512_set1_ps(rs), zero = _mm512_setzero_ps();
  __m512 m = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for_vectors(n, [&](int64_t j, __mmask16 k) ATTEND_AVX512 {
    const __m512 b = bias ? _mm512_maskz_loadu_ps(k, bias + j) : zero;
    const __m512 v = _mm512_fmadd_ps(scaled16(acc, cs, j, k), vrs, b);  // as scale_bias_avx512
    _mm512_mask_storeu_ps(y + j, k, v);
    m = _mm512_mask_max_ps(m, k, v, m);  // max(v, m): NaN in v keeps m
  });
  return _mm512_reduce_max_ps(m);
}

// 2^t for t <= 0 in 10 instructions (exp_ps takes 16): n = round(t), 2^n by scalef, 2^(t - n)
// by a degree-5 minimax polynomial on [-1/2, 1/2] (relative error 2.3e-7). t < -126, -inf and
// NaN give 2^-126 p(.) ~ 1e-38: nothing, in a sum of terms up to 1.
ATTEND_AVX512 inline __m512 exp2_sum_term_ps(__m512 t) {
  t = _mm512_max_ps(t, _mm512_set1_ps(-126.0f));  // max returns its second operand for NaN
  const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(t, n);
  __m512 p = _mm512_set1_ps(1.3277939287945628e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.675757959485054e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550709739327431e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022114276885986e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931469440460205e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0000001192092896f));
  return _mm512_scalef_ps(p, n);
}

template <bool kHits>
ATTEND_AVX512 float sum_exp_hits_impl(const float* x, int64_t n, float mx, float threshold, uint16_t* hits) {
  // (x - mx) first, then times log2 e: x - mx is exact near the max (the terms that matter);
  // x log2 e - mx log2 e by one fmsub would carry mx log2 e's rounding (5e-6 relative at mx ~ 120)
  const __m512 vl = _mm512_set1_ps(1.44269504088896341f), vmx = _mm512_set1_ps(mx), vt = _mm512_set1_ps(threshold);
  __m512 acc = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t i, __mmask16 k) ATTEND_AVX512 {
    const __m512 v = _mm512_maskz_loadu_ps(k, x + i);
    if (kHits) hits[i / 16] = _mm512_mask_cmp_ps_mask(k, v, vt, _CMP_GT_OQ);  // as first_above (see below)
    acc = _mm512_mask_add_ps(acc, k, acc, exp2_sum_term_ps(_mm512_mul_ps(_mm512_sub_ps(v, vmx), vl)));  // exp(v - mx)
  });
  return _mm512_reduce_add_ps(acc);
}
ATTEND_AVX512 float sum_exp_hits_avx512(const float* x, int64_t n, float mx, float threshold, uint16_t* hits) {
  return hits ? sum_exp_hits_impl<true>(x, n, mx, threshold, hits) : sum_exp_hits_impl<false>(x, n, mx, threshold, hits);
}

// kRef: the softmax terms are taken against ref; without, ref is 0 and v - 0 is v, bit for bit
// (-0 - 0 is -0), so the subtraction is left out (the common case: sum_reference).
// The hit compare takes v itself where first_above compares 0 + v: the two differ only for
// v = -0 (0 + -0 is +0), and +-0 compare alike.
template <bool kRef>
ATTEND_AVX512 float scale_bias_sum_exp_hits_impl(const float* acc, float rs, const float* bias, int64_t n, float ref,
                                                 float threshold, uint16_t* hits, float* hit_values, float* max_out,
                                                 const float* cs) {
  const __m512 vrs = _mm512_set1_ps(rs), vl = _mm512_set1_ps(1.44269504088896341f), vref = _mm512_set1_ps(ref),
               vt = _mm512_set1_ps(threshold), zero = _mm512_setzero_ps();
  __m512 sum = zero, m = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for_vectors(n, [&](int64_t i, __mmask16 k) ATTEND_AVX512 {
    const __m512 b = bias ? _mm512_maskz_loadu_ps(k, bias + i) : zero;
    const __m512 v = _mm512_fmadd_ps(scaled16(acc, cs, i, k), vrs, b);  // as scale_bias_max_avx512
    m = _mm512_mask_max_ps(m, k, v, m);                                  // as scale_bias_max_avx512
    const __mmask16 h = _mm512_mask_cmp_ps_mask(k, v, vt, _CMP_GT_OQ);   // as first_above
    hits[i / 16] = h;
    if (h) _mm512_mask_storeu_ps(hit_values + i, k, v);
    const __m512 d = kRef ? _mm512_sub_ps(v, vref) : v;
    sum = _mm512_mask_add_ps(sum, k, sum, exp2_sum_term_ps(_mm512_mul_ps(d, vl)));  // as sum_exp_hits
  });
  *max_out = _mm512_reduce_max_ps(m);
  return _mm512_reduce_add_ps(sum);
}

ATTEND_AVX512 float scale_bias_sum_exp_hits_avx512(const float* acc, float rs, const float* bias, int64_t n, float ref,
                                                  float threshold, uint16_t* hits, float* hit_values, float* max_out,
                                                  const float* cs) {
  return ref == 0.0f ? scale_bias_sum_exp_hits_impl<false>(acc, rs, bias, n, ref, threshold, hits, hit_values, max_out, cs)
                     : scale_bias_sum_exp_hits_impl<true>(acc, rs, bias, n, ref, threshold, hits, hit_values, max_out, cs);
}

ATTEND_AVX512 int64_t first_above_avx512(const float* x, int64_t from, int64_t n, float base, float threshold) {
  const __m512 vb = _mm512_set1_ps(base), vt = _mm512_set1_ps(threshold);
  for (int64_t i = from; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512 s = _mm512_add_ps(vb, _mm512_maskz_loadu_ps(k, x + i));
    const __mmask16 hit = _mm512_mask_cmp_ps_mask(k, s, vt, _CMP_GT_OQ);
    if (hit) return i + __builtin_ctz(static_cast<unsigned>(hit));
  }
  return n;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

}  // namespace

#if defined(ATTEND_X86)
#define ATTEND_DISPATCH(name, ...) \
  return has_avx512() ? name##_avx512(__VA_ARGS__) : name##_ref(__VA_ARGS__)
#else
#define ATTEND_DISPATCH(name, ...) return name##_ref(__VA_ARGS__)
#endif

float abs_max(const float* x, int64_t n) { ATTEND_DISPATCH(abs_max, x, n); }
void quantize(const float* x, int64_t n, float inv, int8_t* q) { ATTEND_DISPATCH(quantize, x, n, inv, q); }
Act act_of(Activation a) {
  switch (a) {
    case Activation::Relu: return Act::Relu;
    case Activation::Gelu: return Act::Gelu;
    case Activation::GeluTanh: return Act::GeluTanh;
    case Activation::Swish: return Act::Swish;
  }
  return Act::None;
}

float activate(float v, Act act) {
  switch (act) {
    case Act::None: return v;
    case Act::Relu: return v > 0.0f ? v : 0.0f;
    case Act::Gelu: return 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f));
    case Act::GeluTanh: {
      const float c = 0.79788456080286536f;  // sqrt(2/pi)
      return 0.5f * v * (1.0f + std::tanh(c * (v + 0.044715f * v * v * v)));
    }
    case Act::Swish: return v / (1.0f + std::exp(-v));
  }
  return v;
}

namespace {
bool vector_act(Act act) { return act != Act::Gelu; }
}  // namespace

void scale_bias(const float* acc, float rs, const float* bias, int64_t n, Act act, float* y, const float* cs) {
  if (!vector_act(act)) return scale_bias_ref(acc, rs, bias, n, act, y, cs);
  ATTEND_DISPATCH(scale_bias, acc, rs, bias, n, act, y, cs);
}
void scale_bias_add(const float* acc, float rs, const float* bias, int64_t n, float* y, const float* cs) {
  ATTEND_DISPATCH(scale_bias_add, acc, rs, bias, n, y, cs);
}
void scale_bias_act_mul(const float* acc, float rs, const float* bias, const float* aux, int64_t n, Act act, float* y,
                        const float* cs) {
  if (!vector_act(act)) return scale_bias_act_mul_ref(acc, rs, bias, aux, n, act, y, cs);
  ATTEND_DISPATCH(scale_bias_act_mul, acc, rs, bias, aux, n, act, y, cs);
}
float exp_shifted_sum(float* x, int n, float mx) { ATTEND_DISPATCH(exp_shifted_sum, x, n, mx); }
float sum_exp(const float* x, int64_t n, float mx) { ATTEND_DISPATCH(sum_exp, x, n, mx); }

ATTEND_MULTIVERSION
float max_value(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}
int64_t first_above(const float* x, int64_t from, int64_t n, float base, float threshold) {
  ATTEND_DISPATCH(first_above, x, from, n, base, threshold);
}
void to_half(const float* x, int64_t n, uint16_t* out) { ATTEND_DISPATCH(to_half, x, n, out); }
float scale_bias_max(const float* acc, float rs, const float* bias, int64_t n, float* y, const float* cs) {
  ATTEND_DISPATCH(scale_bias_max, acc, rs, bias, n, y, cs);
}
float sum_exp_hits(const float* x, int64_t n, float mx, float threshold, uint16_t* hits) {
  ATTEND_DISPATCH(sum_exp_hits, x, n, mx, threshold, hits);
}
float scale_bias_sum_exp_hits(const float* acc, float rs, const float* bias, int64_t n, float ref, float threshold,
                              uint16_t* hits, float* hit_values, float* max_out, const float* cs) {
  ATTEND_DISPATCH(scale_bias_sum_exp_hits, acc, rs, bias, n, ref, threshold, hits, hit_values, max_out, cs);
}

}  // namespace simd
}  // namespace attend

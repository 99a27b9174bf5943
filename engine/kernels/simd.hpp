// engine/kernels/simd.hpp — the element-wise hot loops of the decode written once with AVX-512
// intrinsics and once portably, the AVX-512 version picked at run time by cpuid (the build
// targets generic x86-64, so nothing here assumes the CPU at build time). Also
// ATTEND_MULTIVERSION, for simple loops left to the compiler's vectorizer.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

#include "engine/kernels/op_kinds.hpp"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
// target_clones: one copy per ISA, chosen by the loader from cpuid
#define ATTEND_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ATTEND_MULTIVERSION
#endif

namespace attend {
namespace simd {

// AVX-512 F+BW+DQ+VL present and enabled by the OS (cpuid, checked once), and not switched off
// with set_avx512_enabled(false).
bool has_avx512();
// Tests and benchmarks: false forces the portable loops; returns the previous setting.
bool set_avx512_enabled(bool enabled);

// max_i |x[i]| (0 for n == 0); NaN entries are ignored.
float abs_max(const float* x, int64_t n);

// q[i] = clamp(round_to_nearest_even(x[i] * inv), -127, 127). The same result on every
// ISA (the product is rounded to float, then to an integer).
void quantize(const float* x, int64_t n, float inv, int8_t* q);

// The one activation table of every epilogue (int8 and bf16 rows; the fp32 path uses oneDNN's
// eltwise post-ops with the same formulas): None v, ReLU max(v, 0), GELU 0.5 v (1 + erf(v / sqrt 2)),
// GELU-tanh 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))), Swish v / (1 + exp(-v)).
// ReLU, Swish and GELU-tanh (as v / (1 + exp(-2z))) have AVX-512 loops; exact GELU runs the
// scalar formula on every ISA.
enum class Act { None, Relu, Gelu, GeluTanh, Swish };
Act act_of(Activation a);
// act(v) by the table above (the scalar reference every vector loop is tested against).
float activate(float v, Act act);

// int8 matmul epilogues for one row: v = (acc[j] * cs[j]) * rs + bias[j] (bias may be null; cs,
// the weights' channel scales, may be null: then acc[j] as it is; the product acc[j] * cs[j] is
// rounded as oneDNN's output scales would round it), then
//   store:      y[j] = act(v)
//   accumulate: y[j] += v
//   act_mul:    y[j] = act(v) * aux[j]
void scale_bias(const float* acc, float rs, const float* bias, int64_t n, Act act, float* y, const float* cs = nullptr);
void scale_bias_add(const float* acc, float rs, const float* bias, int64_t n, float* y, const float* cs = nullptr);
void scale_bias_act_mul(const float* acc, float rs, const float* bias, const float* aux, int64_t n, Act act, float* y,
                        const float* cs = nullptr);

// In place x[i] = exp(x[i] - mx) for the n entries, returns their sum (float accumulation in
// index order per lane). Accurate to ~2 ulp; x[i] - mx must be <= 0 (or -inf -> 0).
float exp_shifted_sum(float* x, int n, float mx);

// The largest of x[0, n) (-inf for n == 0; NaN entries are skipped).
float max_value(const float* x, int64_t n);

// std::nextafter(x, -inf) without the library call (the largest float below x; NaN and -inf
// stay): the top-k passes' threshold, taken per row and block.
inline float next_below(float x) {
  if (x != x || x == -std::numeric_limits<float>::infinity()) return x;
  if (x == 0.0f) return -std::numeric_limits<float>::denorm_min();
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u = x > 0.0f ? u - 1u : u + 1u;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// sum_i exp(x[i] - mx) in float (16 partial sums), x unchanged; x[i] - mx <= 0 (-inf -> 0).
// The beam search's log_softmax_fast and the int8 LM head's column blocks (the double-sum
// log_softmax of logits_processors serves models that ask for it, StepModel::exact_scores).
float sum_exp(const float* x, int64_t n, float mx);

// The first i in [from, n) with base + x[i] > threshold (the sum rounded to float, as a scalar
// loop computes it), or n if there is none. Top-k scans use it to skip rejected entries.
int64_t first_above(const float* x, int64_t from, int64_t n, float base, float threshold);

// The int8 LM head's column blocks in two passes over a row instead of four:
//   scale_bias_max: scale_bias(..., Act::None, y) and returns max_value(y, n)
//   sum_exp_hits:   returns sum_i exp(x[i] - mx) (x[i] - mx <= 0) and, unless hits is null,
//                   sets bit l of hits[i / 16] for each i = 16 * (i / 16) + l with
//                   0 + x[i] > threshold (first_above's test); hits needs (n + 15) / 16 entries
// scale_bias_max gives the same results, bit for bit, as scale_bias and max_value on the same
// ISA. sum_exp_hits computes its terms as 2^((x - mx) log2 e) by a shorter polynomial than
// sum_exp's (11 instructions per 16 terms instead of 17: this sum over 54,688 logits per row
// was most of an int8 batch's search time); relative error within 2e-6 of the exact sum for
// the logits' range (tested against a double reference). The LM head's int8 scores only.
// cs (both functions; null: none): the channel scales, as in scale_bias.
float scale_bias_max(const float* acc, float rs, const float* bias, int64_t n, float* y, const float* cs = nullptr);
float sum_exp_hits(const float* x, int64_t n, float mx, float threshold, uint16_t* hits);
// Both in one pass, the row never stored (most of the LM head's blocks: the later blocks of a
// row whose softmax already has a reference): v_i = acc[i] * rs + bias[i], rounded as
// scale_bias_max rounds it; returns sum_i exp(v_i - ref) for the caller's reference `ref` (any
// value with every v_i - ref <= 80, so that no term overflows; terms far below it underflow to
// ~1e-38), sets *max_out to the largest v_i (NaN skipped) and hits as sum_exp_hits does for v;
// for each 16-group with a hit its v go to hit_values (same offsets; other entries untouched).
// Same sum, maximum and hits, bit for bit, as scale_bias_max then sum_exp_hits with mx = ref.
float scale_bias_sum_exp_hits(const float* acc, float rs, const float* bias, int64_t n, float ref, float threshold,
                              uint16_t* hits, float* hit_values, float* max_out, const float* cs = nullptr);

// out[i] = x[i] as IEEE half, round to nearest even, saturated at +-65504 (the largest finite
// half; NaN stays NaN): the int8 runs' attention keys and values (KeyValueView::fp16).
constexpr float kHalfMax = 65504.0f;
void to_half(const float* x, int64_t n, uint16_t* out);

}  // namespace simd
}  // namespace attend

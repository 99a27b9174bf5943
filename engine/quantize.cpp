// engine/quantize.cpp — per-channel / per-row symmetric int8 quantization and bf16 rounding.
// The hot loops are compiled for several ISAs and picked at load time (target_clones), so a
// generic x86-64 build still runs AVX-512 code where the CPU has it.
#include "engine/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/half.hpp"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define ATTEND_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ATTEND_MULTIVERSION
#endif

namespace attend {
namespace {

ATTEND_MULTIVERSION
float abs_max(const float* x, int64_t n) {
  float m = 0.0f;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

ATTEND_MULTIVERSION
void quantize_row(const float* x, int64_t n, float inv_scale, int8_t* q) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    // |x * inv_scale| <= 127: adding and removing 1.5 * 2^23 rounds to nearest even, like
    // nearbyint, but vectorizes
    float v = (x[i] * inv_scale + 12582912.0f) - 12582912.0f;
    v = std::min(127.0f, std::max(-127.0f, v));
    q[i] = static_cast<int8_t>(v);
  }
}

// scale and reciprocal for a row whose largest magnitude is `amax`
void row_scale(float amax, float* scale, float* inv) {
  if (!(amax > 0.0f) || !std::isfinite(amax)) {  // zero row (or non-finite input: quantize to 0)
    *scale = 1.0f;
    *inv = 0.0f;
    return;
  }
  *scale = amax / 127.0f;
  *inv = 127.0f / amax;
}

}  // namespace

void quantize_per_channel(const float* w, int64_t out, int64_t in, int8_t* q, float* scale) {
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < out; ++o) {
    float inv;
    row_scale(abs_max(w + o * in, in), &scale[o], &inv);
    quantize_row(w + o * in, in, inv, q + o * in);
  }
}

void dequantize_per_channel(const int8_t* q, const float* scale, int64_t out, int64_t in, float* w) {
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < out; ++o) {
    const float s = scale[o];
    for (int64_t i = 0; i < in; ++i) w[o * in + i] = static_cast<float>(q[o * in + i]) * s;
  }
}

void quantize_rows(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scale) {
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t r = 0; r < rows; ++r) {
    float inv;
    row_scale(abs_max(x + r * cols, cols), &scale[r], &inv);
    quantize_row(x + r * cols, cols, inv, q + r * cols);
  }
}

ATTEND_MULTIVERSION
void to_bf16(const float* x, size_t n, uint16_t* out) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, &x[i], 4);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    out[i] = (u & 0x7fffffffu) > 0x7f800000u ? static_cast<uint16_t>((u >> 16) | 0x40u)
                                              : static_cast<uint16_t>(rounded);
  }
}

}  // namespace attend

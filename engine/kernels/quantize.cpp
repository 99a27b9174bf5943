// engine/kernels/quantize.cpp — per-channel / per-row symmetric int8 quantization and bf16 rounding.
// The row loops are engine/simd's (AVX-512 picked at run time, a portable loop elsewhere).
#include "engine/kernels/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/kernels/half.hpp"
#include "engine/kernels/simd.hpp"

namespace attend {
namespace {

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
    row_scale(simd::abs_max(w + o * in, in), &scale[o], &inv);
    simd::quantize(w + o * in, in, inv, q + o * in);
  }
}

void dequantize_per_channel(const int8_t* q, const float* scale, int64_t out, int64_t in, float* w) {
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < out; ++o) {
    const float s = scale[o];
    for (int64_t i = 0; i < in; ++i) w[o * in + i] = static_cast<float>(q[o * in + i]) * s;
  }
}

void quantize_row(const float* x, int64_t cols, int8_t* q, float* scale) {
  float inv;
  row_scale(simd::abs_max(x, cols), scale, &inv);
  simd::quantize(x, cols, inv, q);
}

void quantize_rows(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scale) {
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t r = 0; r < rows; ++r) quantize_row(x + r * cols, cols, q + r * cols, &scale[r]);
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

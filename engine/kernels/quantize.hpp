// engine/kernels/quantize.hpp — the numeric conversions behind reduced precision: symmetric int8
// weights with one scale per output channel (what `attend convert --quantize int8` stores and
// what int8 compute runs), symmetric int8 activations with one scale per row (quantized
// dynamically before each int8 matmul), and float -> bfloat16 rows.
#pragma once
#include <cstddef>
#include <cstdint>

namespace attend {

// w is [out, in] row-major; q gets round(w / scale[o]) in [-127, 127] with
// scale[o] = max_i |w[o, i]| / 127 (1 for an all-zero row, which then stays 0).
// Dequantization: w ≈ q * scale, error per element at most scale[o] / 2.
void quantize_per_channel(const float* w, int64_t out, int64_t in, int8_t* q, float* scale);
void dequantize_per_channel(const int8_t* q, const float* scale, int64_t out, int64_t in, float* w);

// Same rule per row of an activation matrix x [rows, cols] (scale[r] = max |x[r, :]| / 127).
void quantize_rows(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scale);
// One row of that (callable inside the caller's own parallel region).
void quantize_row(const float* x, int64_t cols, int8_t* q, float* scale);

// float -> bfloat16, round to nearest even (NaN kept as a quiet NaN).
void to_bf16(const float* x, size_t n, uint16_t* out);

}  // namespace attend

// engine/attention.cpp — fused attention core for one query row and all heads. The dot
// products and the weighted sum are SIMD loops compiled for several ISAs and picked at load
// time (target_clones); the softmax's exp is engine/simd's (AVX-512 picked at run time).
#include "engine/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/simd.hpp"

namespace attend {

ATTEND_MULTIVERSION
void attend_row(const float* q, const KeyValueView& kv, const ScoreBias& bias, int heads, int head_dim,
                float scale, float* ctx, float* scratch) {
  const int n = kv.length;
  auto offset = [&kv](int j) {
    int64_t o = static_cast<int64_t>(j) * kv.stride;
    if (kv.slots) o += static_cast<int64_t>(kv.slots[j]) * kv.slot_stride;
    return o;
  };
  for (int h = 0; h < heads; ++h) {
    const int64_t hoff = static_cast<int64_t>(h) * head_dim;
    const float* qh = q + hoff;
    const float* bh = bias.data ? bias.data + h * bias.head_stride : nullptr;
    float mx = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < n; ++j) {
      if (kv.mask && kv.mask[j] == 0) {
        scratch[j] = -std::numeric_limits<float>::infinity();  // exp -> 0
        continue;
      }
      const float* kj = kv.k + offset(j) + hoff;
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int d = 0; d < head_dim; ++d) s += qh[d] * kj[d];
      s *= scale;
      if (bh) s += bh[j];
      scratch[j] = s;
      mx = std::max(mx, s);
    }
    float* out = ctx + hoff;
    std::fill(out, out + head_dim, 0.0f);
    // every key masked: HF would average them; cannot occur for real rows
    if (mx == -std::numeric_limits<float>::infinity()) continue;
    const float sum = simd::exp_shifted_sum(scratch, n, mx);  // scratch[j] = exp(s_j - mx)
    if (!(sum > 0.0f)) continue;
    const float inv = 1.0f / sum;
    for (int j = 0; j < n; ++j) {
      if (kv.mask && kv.mask[j] == 0) continue;
      const float w = scratch[j] * inv;
      const float* vj = kv.v + offset(j) + hoff;
#pragma omp simd
      for (int d = 0; d < head_dim; ++d) out[d] += w * vj[d];
    }
  }
}

}  // namespace attend

// engine/attention.cpp — fused attention core for one query row and all heads.
#include "engine/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attend {

void attend_row(const float* q, const KeyValueView& kv, const ScoreBias& bias, int heads, int head_dim,
                float scale, float* ctx, float* scratch) {
  for (int h = 0; h < heads; ++h) {
    const float* qh = q + static_cast<int64_t>(h) * head_dim;
    const float* bh = bias.data ? bias.data + h * bias.head_stride : nullptr;
    float mx = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < kv.length; ++j) {
      if (kv.mask && kv.mask[j] == 0) continue;
      const float* kj = kv.k + j * kv.stride + static_cast<int64_t>(h) * head_dim;
      float s = 0.0f;
      for (int d = 0; d < head_dim; ++d) s += qh[d] * kj[d];
      s *= scale;
      if (bh) s += bh[j];
      scratch[j] = s;
      mx = std::max(mx, s);
    }
    float sum = 0.0f;
    for (int j = 0; j < kv.length; ++j) {
      if (kv.mask && kv.mask[j] == 0) continue;
      const float e = std::exp(scratch[j] - mx);
      scratch[j] = e;
      sum += e;
    }
    float* out = ctx + static_cast<int64_t>(h) * head_dim;
    std::fill(out, out + head_dim, 0.0f);
    if (sum <= 0.0f) continue;  // every key masked: HF would average them; cannot occur for real rows
    const float inv = 1.0f / sum;
    for (int j = 0; j < kv.length; ++j) {
      if (kv.mask && kv.mask[j] == 0) continue;
      const float w = scratch[j] * inv;
      const float* vj = kv.v + j * kv.stride + static_cast<int64_t>(h) * head_dim;
      for (int d = 0; d < head_dim; ++d) out[d] += w * vj[d];
    }
  }
}

}  // namespace attend

// engine/positions.cpp — sinusoidal tables and T5 relative position buckets.
#include "engine/positions.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace attend {

std::vector<float> marian_sinusoidal_table(int rows, int dim) {
  std::vector<float> out(static_cast<size_t>(rows) * dim, 0.0f);
  const int sentinel = dim / 2 + dim % 2;
  for (int p = 0; p < rows; ++p) {
    float* row = out.data() + static_cast<size_t>(p) * dim;
    for (int j = 0; j < dim; ++j) {
      const double angle = p / std::pow(10000.0, 2.0 * (j / 2) / dim);
      if (j % 2 == 0) row[j / 2] = static_cast<float>(std::sin(angle));
      else row[sentinel + j / 2] = static_cast<float>(std::cos(angle));
    }
  }
  return out;
}

std::vector<float> fairseq_sinusoidal_table(int rows, int dim, int padding_idx) {
  const int half = dim / 2;
  std::vector<float> freq(half);
  const float step = std::log(10000.0f) / static_cast<float>(half - 1);
  for (int j = 0; j < half; ++j) freq[j] = std::exp(static_cast<float>(j) * -step);
  std::vector<float> out(static_cast<size_t>(rows) * dim, 0.0f);
  for (int r = 0; r < rows; ++r) {
    float* row = out.data() + static_cast<size_t>(r) * dim;
    if (r == padding_idx) continue;
    for (int j = 0; j < half; ++j) {
      const float a = static_cast<float>(r) * freq[j];
      row[j] = std::sin(a);
      row[half + j] = std::cos(a);
    }
  }
  return out;
}

int t5_relative_bucket(int relative_position, bool bidirectional, int num_buckets, int max_distance) {
  int bucket = 0;
  int n = num_buckets;
  int rel = relative_position;
  if (bidirectional) {
    n /= 2;
    if (rel > 0) bucket += n;
    rel = std::abs(rel);
  } else {
    rel = -std::min(rel, 0);
  }
  const int max_exact = n / 2;
  if (rel < max_exact) return bucket + rel;
  // float32 arithmetic in the order torch evaluates it
  const float ratio = static_cast<float>(rel) / static_cast<float>(max_exact);
  const float scale = static_cast<float>(std::log(static_cast<double>(max_distance) / max_exact));
  const float v = std::log(ratio) / scale * static_cast<float>(n - max_exact);
  int large = max_exact + static_cast<int>(v);
  large = std::min(large, n - 1);
  return bucket + large;
}

}  // namespace attend

// engine/kernels/lane_sum.hpp — sums whose order is written in the source: 16 lanes (term i into
// lane i % 16), then the lanes pairwise. The compiler may vectorize it (lane-wise adds need no
// reassociation) but cannot change its order, so the bits are the same at -O0 and -O3 and for
// every vector width (an `omp simd reduction` sums in whatever order the vectorizer picks).
#pragma once
#include <cstdint>

namespace attend {

template <class Acc, class Term>
inline Acc lane_sum16(int64_t n, Term term) {
  Acc lane[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l) lane[l] += term(i + l);
  for (int l = 0; i < n; ++i, ++l) lane[l] += term(i);
  for (int w = 8; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) lane[l] += lane[l + w];
  return lane[0];
}

}  // namespace attend

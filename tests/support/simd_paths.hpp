// tests/support/simd_paths.hpp — runs a kernel test once with the portable loops and once with
// the AVX-512 ones (where the CPU has them), restoring the process's choice afterwards.
#pragma once
#include <catch2/catch.hpp>

#include <type_traits>

#include "engine/kernels/simd.hpp"

namespace attend_test {

// body() or body(bool avx512), once per path.
template <class F>
void for_each_simd_path(F body) {
  const bool before = attend::simd::set_avx512_enabled(false);
  for (const bool avx512 : {false, true}) {
    attend::simd::set_avx512_enabled(avx512);
    if (avx512 && !attend::simd::has_avx512()) break;
    INFO((avx512 ? "AVX-512 loops" : "portable loops"));
    if constexpr (std::is_invocable_v<F, bool>) body(avx512);
    else body();
  }
  attend::simd::set_avx512_enabled(before);
}

}  // namespace attend_test

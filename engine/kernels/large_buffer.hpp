// engine/kernels/large_buffer.hpp — std::vector storage for the encoder's large activation
// buffers (a long input's hidden states, q|k|v, cross-attention keys/values: hundreds of MB).
// Such blocks are fresh pages on every encode; on this kind of (virtualised) machine faulting
// them in 4 KB at a time cost a quarter of a 16k-token encode. Blocks of 4 MB and more are
// 2 MB aligned and advised as transparent huge pages (one fault per 2 MB), and resize() leaves
// the elements uninitialised (every user writes before it reads), so nothing is zeroed twice.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace attend {

template <class T>
struct LargeAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t{2} << 20;
  LargeAllocator() = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    void* p = nullptr;
    if (bytes >= 2 * kHuge) {
      p = std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge);
      if (p) ::madvise(p, (bytes + kHuge - 1) / kHuge * kHuge, MADV_HUGEPAGE);  // advice only: failure is harmless
    } else {
      p = std::malloc(bytes ? bytes : 1);
    }
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { std::free(p); }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) ::new (static_cast<void*>(p)) U;  // default-init: no zero fill
    else ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  bool operator==(const LargeAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const LargeAllocator<U>&) const noexcept { return false; }
};

using LargeFloats = std::vector<float, LargeAllocator<float>>;

}  // namespace attend

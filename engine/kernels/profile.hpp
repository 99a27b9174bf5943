// engine/kernels/profile.hpp — cheap always-on wall-clock accumulators for the parts of a decode
// (oneDNN matmul executions, int8 quantize/epilogue passes, attention, norms, search), so
// `attend bench` can report the matmul share of the time from the same run it measures. Each
// timed section costs two steady_clock reads and one relaxed atomic add.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>

namespace attend {
namespace profile {

enum class Part : int {
  Matmul = 0,     // oneDNN matmul primitive execution (Linear::forward, stream wait included)
  LinearExtra,    // activation quantization / bf16 conversion and the int8 epilogue pass
  Attention,      // self- and cross-attention over the caches (scores, softmax, weighted sum)
  Norm,           // layer norm / RMS norm
  Search,         // log_softmax, logits processors, top-k, beam bookkeeping
  Count
};

// Nanoseconds and calls per part since the last reset (all threads together).
struct Totals {
  int64_t ns[static_cast<int>(Part::Count)] = {};
  int64_t calls[static_cast<int>(Part::Count)] = {};
};

void add(Part p, int64_t ns);
Totals totals();
void reset();

// While alive, the calling thread's sections are not counted (when `on`). For parallel regions
// in which every thread runs the same work on its own rows: one thread's times stand for the
// wall time (summing the threads would count it twice); the others mute themselves.
class Mute {
 public:
  explicit Mute(bool on);
  ~Mute();
  Mute(const Mute&) = delete;
  Mute& operator=(const Mute&) = delete;

 private:
  bool prev_;
};

// Times the enclosing scope into one part.
class Scope {
 public:
  explicit Scope(Part p) : p_(p), t0_(std::chrono::steady_clock::now()) {}
  ~Scope() {
    add(p_, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0_).count());
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Part p_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace profile
}  // namespace attend

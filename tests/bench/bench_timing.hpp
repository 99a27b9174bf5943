// tests/bench/bench_timing.hpp — timing for the benchmark programs (attend-bench-matmul,
// attend-bench-attention): a call repeated, its median wall time and its mean CPU time.
#pragma once
#include <time.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace bench {

// CPU time of the whole process (all threads), ms: less sensitive to other processes on a
// shared machine than wall time
inline double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct Timing {
  double median_ms = 0.0;  // wall time per call, median
  double cpu_ms = 0.0;     // CPU time per call (all threads), mean
};

// fn() `warmup` times untimed, then `repeat` (>= 1) times timed.
template <class Fn>
Timing time_calls(int warmup, int repeat, Fn fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  const double cpu0 = cpu_ms();
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  Timing t;
  t.cpu_ms = (cpu_ms() - cpu0) / repeat;
  std::sort(ms.begin(), ms.end());
  t.median_ms = ms[ms.size() / 2];
  return t;
}

}  // namespace bench

// engine/rowsplit/row_handoff.cpp — rows handed from a busy thread to an idle one inside a row-split
// decoder step (engine/rowsplit/row_handoff.hpp).
#include "engine/rowsplit/row_handoff.hpp"

#include <chrono>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ATTEND_PAUSE() _mm_pause()
#else
#define ATTEND_PAUSE() ((void)0)
#endif

namespace attend {

RowHandoff::RowHandoff(int threads, bool always) : active_(threads), always_(always) {}

int RowHandoff::offer(int r0, int n, int stage) {
  if (!always_ && waiting_.load(std::memory_order_relaxed) <= queued_.load(std::memory_order_relaxed)) return 0;
  if (aborted_.load(std::memory_order_relaxed)) return 0;
  const int give = n / 2 / kAlign * kAlign;
  if (give < kAlign || n - give < kAlign) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  // every waiting thread may have been served meanwhile
  if (!always_ && waiting_.load(std::memory_order_relaxed) <= static_cast<int>(queue_.size())) return 0;
  queue_.push_back(Task{r0 + n - give, give, stage});
  queued_.store(static_cast<int>(queue_.size()), std::memory_order_release);
  ++handoffs_;
  return give;
}

bool RowHandoff::next(Task& task) {
  active_.fetch_sub(1, std::memory_order_acq_rel);
  waiting_.fetch_add(1, std::memory_order_acq_rel);
  // Spin while a task may come; after a while also give the core up between looks (a thread
  // that waits is of no use to the one it waits for when both share a core).
  const auto start = std::chrono::steady_clock::now();
  for (int spins = 0;; ++spins) {
    if (queued_.load(std::memory_order_acquire) > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!queue_.empty()) {
        task = queue_.back();
        queue_.pop_back();
        queued_.store(static_cast<int>(queue_.size()), std::memory_order_release);
        // active again before no longer waiting: a thread checking "no one active, nothing queued"
        // never sees this one in between
        active_.fetch_add(1, std::memory_order_acq_rel);
        waiting_.fetch_sub(1, std::memory_order_acq_rel);
        return true;
      }
    }
    if (aborted_.load(std::memory_order_acquire) ||
        (active_.load(std::memory_order_acquire) == 0 && queued_.load(std::memory_order_acquire) == 0)) {
      waiting_.fetch_sub(1, std::memory_order_acq_rel);
      return false;
    }
    ATTEND_PAUSE();
    if ((spins & 255) == 255 && std::chrono::steady_clock::now() - start > std::chrono::microseconds(200)) {
      std::this_thread::yield();
    }
  }
}

void RowHandoff::abort() { aborted_.store(true, std::memory_order_release); }

}  // namespace attend

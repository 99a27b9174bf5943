// engine/rowsplit/row_handoff.hpp — rows handed from a busy thread to an idle one inside a row-split
// decoder step. RowBalance sizes each thread's rows from its past speed, but the vCPUs' speed
// also changes from step to step (the two threads of one step finished 7% apart on average on a
// shared 2-vCPU machine), so one thread still waited at the end of most steps. Rows are
// independent until the LM head and their state lives in buffers indexed by row, so a thread
// that has finished its rows can take over part of another's between two stages (sublayers):
// the busy thread keeps the lower part of its range and goes on with fewer rows; the idle one
// runs the upper part from that stage on. Which thread computes a row does not change its
// result (see row_balance.hpp), so this changes the time only.
#pragma once
#include <atomic>
#include <mutex>
#include <vector>

#include "engine/rowsplit/row_balance.hpp"

namespace attend {

class RowHandoff {
 public:
  // Rows [r0, r0 + n) from stage `stage` on.
  struct Task {
    int r0 = 0;
    int n = 0;
    int stage = 0;
  };
  // Ranges handed over are multiples of kAlign rows, RowBalance's step for moved bounds (each
  // row count a matmul meets costs a oneDNN primitive per layer), and a thread keeps at least kAlign.
  static constexpr int kAlign = RowBalance::kAlign;

  // `threads` threads each start on a range of their own. `always` (tests): offer() hands rows
  // over whether or not a thread waits, to whichever thread asks next (possibly the giver).
  explicit RowHandoff(int threads, bool always = false);
  RowHandoff(const RowHandoff&) = delete;
  RowHandoff& operator=(const RowHandoff&) = delete;

  // A thread running rows [r0, r0 + n) is about to start `stage`: when another thread waits for
  // work and the range is large enough, its upper half (kAlign rows at a time) becomes that
  // thread's task. Returns the rows given away (0: none); the caller goes on with n - given.
  // Cheap when no thread waits (one relaxed atomic load).
  int offer(int r0, int n, int stage);
  // A thread that has finished its range (or task) asks for the next task: true with `task`
  // set, or false when there will be none (every thread is done, or abort() was called). Spins
  // while another thread may still hand work over.
  bool next(Task& task);
  // After an error on any thread: no more handoffs, waiting threads return from next().
  void abort();

  // Tasks handed over so far.
  int handoffs() const { return handoffs_; }

 private:
  std::mutex mu_;
  std::vector<Task> queue_;     // under mu_
  int handoffs_ = 0;            // under mu_
  std::atomic<int> waiting_{0};  // threads in next() without a task
  std::atomic<int> queued_{0};   // queue_.size()
  std::atomic<int> active_;      // threads running a range or task
  std::atomic<bool> aborted_{false};
  const bool always_;
};

}  // namespace attend

// runtime/threads.hpp — the default thread count of a call on a machine other work may share
// (issue 12 item 5). With GNU OpenMP's default wait policy a waiting worker spins; when another
// process keeps a core busy, the spinning worker and the other process fight for it and the
// decode collapses (2.6x slower measured). Before each batch, the CPU time the rest of the
// machine used since the last look (/proc/stat minus this process's own CPU time) says how many
// cores are free; the call runs on at most that many threads (at least 1), restored afterwards.
// ATTEND_ADAPTIVE_THREADS=0 turns this off (the caller's thread count is used as is).
#pragma once

namespace attend {

// Cores of the machine's `online` cores that other processes kept busy recently (0 .. online),
// measured over the interval since the previous call (at least ~100 ms; the first call looks
// since start_busy_window(), or over a 50 ms window). Returns -1 where /proc/stat is unreadable.
double busy_cores_elsewhere();
// Takes the first look if none was taken yet (model load calls it, so the first batch's window
// spans the load instead of a wait).
void start_busy_window();

// Threads for a call asked to run on `requested`: min(requested, round(online - busy elsewhere)),
// at least 1; `requested` itself when adaptation is off or nothing can be measured.
int adaptive_thread_count(int requested);

// For the lifetime of the object, the calling thread's OpenMP thread count is
// adaptive_thread_count(its current count); the previous count is restored on destruction.
class CallThreads {
 public:
  CallThreads();
  ~CallThreads();
  CallThreads(const CallThreads&) = delete;
  CallThreads& operator=(const CallThreads&) = delete;
  int threads() const { return threads_; }

 private:
  int saved_ = 0, threads_ = 0;
};

}  // namespace attend

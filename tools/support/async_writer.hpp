// tools/support/async_writer.hpp — runs output jobs (atomic file writes, journal appends: each ending
// in an fsync) in order on one background thread, so that syncing outputs to disk overlaps the
// summarization instead of stalling it. Failures come back per job.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace attend_cli {

class AsyncWriter {
 public:
  struct Outcome {
    size_t id = 0;
    std::string error;  // "" = the job succeeded; else the attend::Error / exception message
  };

  explicit AsyncWriter(size_t max_queued = 256);
  ~AsyncWriter();  // waits for the queued jobs
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;

  // Queues a job (blocks while max_queued jobs are waiting). Jobs run in submission order.
  void submit(size_t id, std::function<void()> job);
  // Outcomes of the jobs finished since the last call.
  std::vector<Outcome> drain();
  // Waits until every submitted job has run; returns the outcomes not yet drained.
  std::vector<Outcome> finish();

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<size_t, std::function<void()>>> queue_;
  std::vector<Outcome> done_;
  size_t max_queued_;
  bool busy_ = false, stop_ = false;
  std::thread thread_;
};

}  // namespace attend_cli

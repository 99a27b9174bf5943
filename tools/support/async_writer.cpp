// tools/support/async_writer.cpp — the background output thread of file-batch commands.
#include "tools/support/async_writer.hpp"

#include <exception>

namespace attend_cli {

AsyncWriter::AsyncWriter(size_t max_queued) : max_queued_(max_queued ? max_queued : 1) {
  thread_ = std::thread([this] { loop(); });
}

AsyncWriter::~AsyncWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void AsyncWriter::submit(size_t id, std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return queue_.size() < max_queued_; });
  queue_.emplace_back(id, std::move(job));
  cv_.notify_all();
}

std::vector<AsyncWriter::Outcome> AsyncWriter::drain() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Outcome> out;
  out.swap(done_);
  return out;
}

std::vector<AsyncWriter::Outcome> AsyncWriter::finish() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
  std::vector<Outcome> out;
  out.swap(done_);
  return out;
}

void AsyncWriter::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ and nothing left
    auto [id, job] = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    cv_.notify_all();  // room in the queue
    lock.unlock();
    Outcome o{id, ""};
    try {
      job();
    } catch (const std::exception& e) {
      o.error = e.what();
      if (o.error.empty()) o.error = "write failed";
    }
    lock.lock();
    done_.push_back(std::move(o));
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace attend_cli

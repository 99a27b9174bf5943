// server/watch.hpp — cancellation of running requests: one thread watches the connections of
// the requests that are being computed and cancels a request's CancelToken when its client
// hangs up (the socket reports POLLRDHUP/POLLHUP), when its deadline passes, or when the
// server gives up draining. cpp-httplib 0.11 does not hand a handler its socket, so the socket
// is found from the request's addresses (connection_socket).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attend/attend.hpp"

namespace attend_server {

enum class StopReason { None = 0, ClientGone, Deadline, Shutdown };

class Watch {
 public:
  using Clock = std::chrono::steady_clock;

  // What a request holds while it runs: its token (pass it to the call) and why it was stopped.
  struct Entry {
    int fd = -1;                               // -1: no connection to watch
    Clock::time_point deadline;
    attend::CancelToken token;
    std::atomic<int> reason{0};                // StopReason
    void stop(StopReason why) {
      int none = 0;
      reason.compare_exchange_strong(none, static_cast<int>(why));
      token.cancel();
    }
    StopReason why() const { return static_cast<StopReason>(reason.load()); }
  };

  // Unregisters on destruction.
  class Ticket {
   public:
    Ticket(Watch* w, std::shared_ptr<Entry> e) : watch_(w), entry_(std::move(e)) {}
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Entry& operator*() const { return *entry_; }
    Entry* operator->() const { return entry_.get(); }

   private:
    Watch* watch_;
    std::shared_ptr<Entry> entry_;
  };

  explicit Watch(std::chrono::milliseconds interval = std::chrono::milliseconds(20));
  ~Watch();

  // Starts watching a request (fd may be -1).
  std::unique_ptr<Ticket> add(int fd, Clock::time_point deadline);
  // Stops every request being watched now (and those added later, with `forever`).
  void stop_all(StopReason why);
  size_t size() const;

 private:
  void run();
  void remove(const Entry* e);

  const std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Entry>> entries_;
  bool quit_ = false;
  StopReason stop_new_ = StopReason::None;
  std::thread thread_;
};

// The socket of the connection between (local_addr, local_port) and (remote_addr, remote_port)
// among this process's descriptors, or -1. The last one found is remembered per thread (a
// connection is served by one thread), so a keep-alive connection is looked up once.
int connection_socket(const std::string& local_addr, int local_port, const std::string& remote_addr, int remote_port);

}  // namespace attend_server

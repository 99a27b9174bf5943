// server/watch.cpp — the request watcher (client hang-ups, deadlines, shutdown) and the lookup
// of a request's socket (see watch.hpp).
#include "server/watch.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

namespace attend_server {

Watch::Ticket::~Ticket() { watch_->remove(entry_.get()); }

Watch::Watch(std::chrono::milliseconds interval) : interval_(interval) {
  thread_ = std::thread([this] { run(); });
}

Watch::~Watch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::unique_ptr<Watch::Ticket> Watch::add(int fd, Clock::time_point deadline) {
  auto e = std::make_shared<Entry>();
  e->fd = fd;
  e->deadline = deadline;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_new_ != StopReason::None) e->stop(stop_new_);
    entries_.push_back(e);
  }
  cv_.notify_all();
  return std::make_unique<Ticket>(this, std::move(e));
}

void Watch::remove(const Entry* e) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [e](const auto& p) { return p.get() == e; }),
                 entries_.end());
}

void Watch::stop_all(StopReason why) {
  std::lock_guard<std::mutex> lock(mu_);
  stop_new_ = why;
  for (auto& e : entries_) e->stop(why);
}

size_t Watch::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void Watch::run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<pollfd> fds;
  std::vector<std::shared_ptr<Entry>> polled;
  while (!quit_) {
    if (entries_.empty()) {
      cv_.wait(lock, [&] { return quit_ || !entries_.empty(); });
      continue;
    }
    const auto now = Clock::now();
    fds.clear();
    polled.clear();
    for (auto& e : entries_) {
      if (e->token.cancelled()) continue;
      if (now >= e->deadline) {
        e->stop(StopReason::Deadline);
        continue;
      }
      if (e->fd >= 0) {
        fds.push_back(pollfd{e->fd, POLLRDHUP, 0});
        polled.push_back(e);
      }
    }
    // The entries hold their sockets open (a ticket lives while its request is handled).
    if (!fds.empty() && ::poll(fds.data(), fds.size(), 0) > 0) {
      for (size_t i = 0; i < fds.size(); ++i)
        if (fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) polled[i]->stop(StopReason::ClientGone);
    }
    polled.clear();
    cv_.wait_for(lock, interval_);
  }
}

namespace {

// "address:port" of a socket address (IPv4 or IPv6), "" for other families.
std::string endpoint_of(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    if (!inet_ntop(AF_INET, &a->sin_addr, host, sizeof host)) return "";
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (!inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host)) return "";
    port = ntohs(a->sin6_port);
  } else {
    return "";
  }
  return std::string(host) + ":" + std::to_string(port);
}

bool socket_matches(int fd, const std::string& local, const std::string& remote) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 || endpoint_of(ss) != local) return false;
  len = sizeof ss;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 && endpoint_of(ss) == remote;
}

}  // namespace

int connection_socket(const std::string& local_addr, int local_port, const std::string& remote_addr, int remote_port) {
  const std::string local = local_addr + ":" + std::to_string(local_port);
  const std::string remote = remote_addr + ":" + std::to_string(remote_port);
  thread_local int cached = -1;
  if (cached >= 0 && socket_matches(cached, local, remote)) return cached;
  cached = -1;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return -1;
  const int skip = ::dirfd(dir);
  while (const dirent* d = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(d->d_name, &end, 10);
    if (end == d->d_name || *end != '\0' || fd == skip) continue;
    if (socket_matches(static_cast<int>(fd), local, remote)) {
      cached = static_cast<int>(fd);
      break;
    }
  }
  ::closedir(dir);
  return cached;
}

}  // namespace attend_server

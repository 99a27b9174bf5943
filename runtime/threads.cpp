// runtime/threads.cpp — adaptive per-call thread count from /proc/stat (runtime/threads.hpp).
#include "runtime/threads.hpp"

#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace attend {
namespace {

using Clock = std::chrono::steady_clock;

struct Sample {
  bool ok = false;
  double busy_s = 0.0;  // all CPUs: user+nice+system+irq+softirq+steal, seconds
  double own_s = 0.0;   // this process: user + system CPU seconds
  Clock::time_point at;
};

Sample take_sample() {
  Sample s;
  s.at = Clock::now();
  std::ifstream f("/proc/stat");
  std::string line;
  if (!std::getline(f, line) || line.rfind("cpu ", 0) != 0) return s;
  std::istringstream in(line.substr(4));
  unsigned long long v[8] = {};
  for (auto& x : v) {
    if (!(in >> x)) return s;
  }
  // user nice system idle iowait irq softirq steal
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  const long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) return s;
  s.busy_s = static_cast<double>(busy) / static_cast<double>(hz);
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return s;
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  s.own_s = sec(ru.ru_utime) + sec(ru.ru_stime);
  s.ok = true;
  return s;
}

double busy_between(const Sample& a, const Sample& b) {
  const double wall = std::chrono::duration<double>(b.at - a.at).count();
  if (wall <= 0.0) return 0.0;
  return std::max(0.0, ((b.busy_s - a.busy_s) - (b.own_s - a.own_s)) / wall);
}

bool adaptation_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("ATTEND_ADAPTIVE_THREADS");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return on;
}

std::mutex mu;
Sample last;           // the previous look
double last_busy = -1.0;

}  // namespace

double busy_cores_elsewhere() {
  std::lock_guard<std::mutex> lock(mu);
  if (!last.ok) {
    last = take_sample();
    if (!last.ok) return -1.0;
    // first look without a model load before it (which starts the window, start_busy_window):
    // a short one (jiffies are 10 ms: coarse, the next calls look over the time since this one)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const Sample now = take_sample();
  if (!now.ok) return -1.0;
  if (last_busy >= 0.0 && now.at - last.at < std::chrono::milliseconds(100)) return last_busy;
  last_busy = busy_between(last, now);
  last = now;
  return last_busy;
}

void start_busy_window() {
  if (!adaptation_enabled()) return;
  std::lock_guard<std::mutex> lock(mu);
  if (!last.ok) last = take_sample();
}

int adaptive_thread_count(int requested) {
  if (requested <= 1 || !adaptation_enabled()) return requested;
  const double busy = busy_cores_elsewhere();
  if (busy < 0.0) return requested;
  const int online = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  const int free_cores = static_cast<int>(std::lround(static_cast<double>(online) - busy));
  return std::max(1, std::min(requested, free_cores));
}

CallThreads::CallThreads() : saved_(omp_get_max_threads()) {
  threads_ = adaptive_thread_count(saved_);
  if (threads_ != saved_) omp_set_num_threads(threads_);
}

CallThreads::~CallThreads() {
  if (threads_ != saved_) omp_set_num_threads(saved_);
}

}  // namespace attend

// engine/kernels/profile.cpp — the process-wide accumulators behind profile.hpp.
#include "engine/kernels/profile.hpp"

namespace attend {
namespace profile {
namespace {

constexpr int kParts = static_cast<int>(Part::Count);

struct Counters {
  std::atomic<int64_t> ns[kParts];
  std::atomic<int64_t> calls[kParts];
  Counters() {
    for (int i = 0; i < kParts; ++i) {
      ns[i].store(0, std::memory_order_relaxed);
      calls[i].store(0, std::memory_order_relaxed);
    }
  }
};

Counters& counters() {
  static Counters c;
  return c;
}

thread_local bool muted = false;

}  // namespace

Mute::Mute(bool on) : prev_(muted) { muted = muted || on; }
Mute::~Mute() { muted = prev_; }

void add(Part p, int64_t ns) {
  if (muted) return;
  Counters& c = counters();
  const int i = static_cast<int>(p);
  c.ns[i].fetch_add(ns, std::memory_order_relaxed);
  c.calls[i].fetch_add(1, std::memory_order_relaxed);
}

Totals totals() {
  Counters& c = counters();
  Totals t;
  for (int i = 0; i < kParts; ++i) {
    t.ns[i] = c.ns[i].load(std::memory_order_relaxed);
    t.calls[i] = c.calls[i].load(std::memory_order_relaxed);
  }
  return t;
}

void reset() {
  Counters& c = counters();
  for (int i = 0; i < kParts; ++i) {
    c.ns[i].store(0, std::memory_order_relaxed);
    c.calls[i].store(0, std::memory_order_relaxed);
  }
}

}  // namespace profile
}  // namespace attend

// tests/decoder/test_row_handoff.cpp — RowHandoff (engine/rowsplit/row_handoff): rows handed from a busy thread
// to an idle one between the stages of a row-split step, simulated with std::threads that mark
// each (row, stage) they run. Every (row, stage) must be run exactly once, by one thread, after
// the row's previous stage; hand-overs only when a thread waits (or always, in the tests' mode),
// in multiples of kAlign rows; an abort releases the waiting threads. Also RowBalance learning
// from fractional rows (record_work).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "engine/rowsplit/row_balance.hpp"
#include "engine/rowsplit/row_handoff.hpp"

using attend::RowHandoff;

namespace {

constexpr int kStages = 18;

// runs[row * kStages + stage]: how often (row, stage) ran; order_ok false when a stage ran before
// the row's previous stage had.
struct Grid {
  explicit Grid(int rows) : runs(static_cast<size_t>(rows) * kStages) {}
  std::vector<std::atomic<int>> runs;
  std::atomic<bool> order_ok{true};
  void mark(int row, int stage) {
    if (stage > 0 && runs[static_cast<size_t>(row) * kStages + stage - 1].load() != 1) order_ok = false;
    runs[static_cast<size_t>(row) * kStages + stage].fetch_add(1);
  }
  bool each_once() const {
    for (const auto& r : runs)
      if (r.load() != 1) return false;
    return true;
  }
};

// Rows [r0, r0 + n) from stage `first` on, as a row-split thread runs them: an offer at each stage's
// start, then the stage for the rows it kept. before_stage(stage, n) runs first (the tests' hook;
// it may hand rows over itself and lower n).
void run_rows(RowHandoff& h, Grid& g, int r0, int n, int first, const std::function<void(int, int&)>& before_stage = {}) {
  for (int k = first; k < kStages; ++k) {
    if (before_stage) before_stage(k, n);
    const int given = h.offer(r0, n, k);
    CHECK(given % RowHandoff::kAlign == 0);
    CHECK(n - given >= 1);
    n -= given;
    for (int r = r0; r < r0 + n; ++r) g.mark(r, k);
  }
}

// One thread's part: its own rows, then the tasks it is handed until none can come.
void thread_body(RowHandoff& h, Grid& g, int r0, int n, std::atomic<int>& tasks_taken,
                 const std::function<void(int, int&)>& before_stage = {}) {
  run_rows(h, g, r0, n, 0, before_stage);
  RowHandoff::Task t;
  while (h.next(t)) {
    ++tasks_taken;
    run_rows(h, g, t.r0, t.n, t.stage);
  }
}

}  // namespace

TEST_CASE("row handoff: nothing is handed over while no thread waits", "[rowsplit][threads]") {
  RowHandoff h(2);
  CHECK(h.offer(0, 64, 0) == 0);
  CHECK(h.offer(0, 64, 5) == 0);
  CHECK(h.handoffs() == 0);
}

TEST_CASE("row handoff: an idle thread takes over the upper half of a busy thread's rows", "[rowsplit][threads]") {
  const int rows = 96;
  Grid g(rows);
  RowHandoff h(2);
  std::atomic<int> taken_a{0}, taken_b{0};
  std::atomic<bool> handed{false}, b_at_4{false};
  std::vector<int> kept;  // thread B's row count at each stage start
  // thread A: 16 rows, started once B is at stage 4 (so B hands nothing over before). Thread B:
  // 80 rows; at stage 4 it offers until A waits and takes the offer up, so the hand-over happens
  // in every run of this test.
  std::thread a([&] {
    while (!b_at_4) std::this_thread::yield();
    thread_body(h, g, 0, 16, taken_a);
  });
  std::thread b([&] {
    thread_body(h, g, 16, 80, taken_b, [&](int stage, int& n) {
      kept.push_back(n);
      if (stage != 4 || handed) return;
      b_at_4 = true;
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (std::chrono::steady_clock::now() < until) {
        const int given = h.offer(16, n, stage);  // rows [16 + n - given, 16 + n) from stage 4 on
        if (given > 0) {
          n -= given;
          handed = true;
          // until A has taken the task (else B, done first, could take its own rows back)
          while (taken_a == 0 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
          break;
        }
        std::this_thread::yield();
      }
    });
  });
  a.join();
  b.join();
  REQUIRE(handed);
  // the hook's offer handed 40 of B's 80 rows over; A ran them from stage 4 on (and may have
  // handed part of them back, or B part of its rest, if one finished first)
  CHECK(h.handoffs() >= 1);
  CHECK(taken_a + taken_b == h.handoffs());
  CHECK(taken_a >= 1);
  REQUIRE(kept.size() >= 5);
  CHECK(kept[4] == 80);
  CHECK(g.each_once());
  CHECK(g.order_ok);
}

TEST_CASE("row handoff: ranges too small to split stay whole", "[rowsplit][threads]") {
  RowHandoff h(1, true);
  CHECK(h.offer(0, 15, 0) == 0);  // 15 rows: half is below kAlign
  CHECK(h.offer(0, 8, 0) == 0);
  CHECK(h.offer(0, 16, 0) == 8);
  CHECK(h.offer(8, 40, 1) == 16);  // half of 40 is 20: 16 in multiples of 8
  CHECK(h.handoffs() == 2);
}

TEST_CASE("row handoff: always mode, one thread takes back everything it handed over", "[rowsplit][threads]") {
  const int rows = 72;
  Grid g(rows);
  RowHandoff h(1, true);
  std::atomic<int> taken{0};
  thread_body(h, g, 0, rows, taken);
  CHECK(h.handoffs() > 3);
  CHECK(taken == h.handoffs());
  CHECK(g.each_once());
  CHECK(g.order_ok);
}

TEST_CASE("row handoff: always mode on three threads covers every row and stage once", "[rowsplit][threads]") {
  for (int round = 0; round < 20; ++round) {
    const std::vector<int> bounds = {0, 24, 80, 136};
    Grid g(bounds.back());
    RowHandoff h(3, true);
    std::atomic<int> taken{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 3; ++i) ts.emplace_back([&, i] { thread_body(h, g, bounds[i], bounds[i + 1] - bounds[i], taken); });
    for (auto& t : ts) t.join();
    INFO("round " << round);
    CHECK(taken == h.handoffs());
    CHECK(g.each_once());
    CHECK(g.order_ok);
  }
}

TEST_CASE("row handoff: abort releases a waiting thread and stops hand-overs", "[rowsplit][threads]") {
  RowHandoff h(2);
  std::atomic<bool> got{true};
  std::thread waiter([&] {
    RowHandoff::Task t;
    got = h.next(t);  // the other thread is still active: waits until the abort
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  h.abort();
  waiter.join();
  CHECK_FALSE(got);
  CHECK(h.offer(0, 64, 3) == 0);
}

TEST_CASE("row balance learns from fractional rows (rows moved between threads within a step)", "[rowsplit]") {
  attend::RowBalance b(false);
  // thread 0 ran 40.5 rows' worth in 1 s, thread 1 87.5 in 1 s: shares move toward 40.5 / 128
  for (int i = 0; i < 40; ++i) b.record_work({40.5, 87.5}, {1.0, 1.0});
  CHECK(b.share(0, 2) == Approx(40.5 / 128).epsilon(1e-3));
  // a step with a thread that ran nothing teaches nothing
  b.record_work({0.0, 128.0}, {1.0, 1.0});
  CHECK(b.share(0, 2) == Approx(40.5 / 128).epsilon(1e-3));
}

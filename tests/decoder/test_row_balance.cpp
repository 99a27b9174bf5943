// tests/decoder/test_row_balance.cpp — RowBalance (engine/rowsplit/row_balance): the row ranges of a row-split
// decoder step from the threads' shares, and the shares learned from the threads' measured times
// (simulated here: each thread a fixed cost per row).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "attend/error.hpp"
#include "engine/rowsplit/row_balance.hpp"

using attend::RowBalance;

namespace {

// Steps of `rows` rows where thread i needs cost[i] seconds per row: the bounds they end with.
std::vector<int> learn(RowBalance& b, const std::vector<double>& cost, int rows, int steps) {
  const int threads = static_cast<int>(cost.size());
  for (int s = 0; s < steps; ++s) {
    const std::vector<int> bounds = b.bounds(rows, threads);
    std::vector<double> seconds;
    for (int i = 0; i < threads; ++i) seconds.push_back((bounds[i + 1] - bounds[i]) * cost[i]);
    b.record(bounds, seconds);
  }
  return b.bounds(rows, threads);
}

// Contiguous ranges in thread order covering [0, rows), each non-empty when rows >= threads.
void check_cover(const std::vector<int>& b, int rows, int threads) {
  REQUIRE(b.size() == static_cast<size_t>(threads) + 1);
  CHECK(b.front() == 0);
  CHECK(b.back() == rows);
  for (int i = 0; i < threads; ++i) {
    if (rows >= threads) CHECK(b[i + 1] > b[i]);
    else CHECK(b[i + 1] >= b[i]);
  }
}

}  // namespace

TEST_CASE("row balance: even shares give even ranges, fixed shares ranges on multiples of 8 rows", "[row_balance]") {
  RowBalance even(false);
  CHECK(even.bounds(128, 2) == std::vector<int>{0, 64, 128});
  CHECK(even.bounds(20, 2) == std::vector<int>{0, 10, 20});
  CHECK(even.bounds(7, 2) == std::vector<int>{0, 3, 7});
  CHECK(even.bounds(124, 3) == std::vector<int>{0, 41, 82, 124});
  CHECK(RowBalance::even_bounds(124, 3) == std::vector<int>{0, 41, 82, 124});
  CHECK(RowBalance::even_bounds(7, 2) == std::vector<int>{0, 3, 7});
  CHECK(even.share(1, 3) == Approx(1.0 / 3));

  RowBalance b(false);
  b.fix_shares({3, 7});
  CHECK(b.share(0, 2) == Approx(0.3));
  CHECK(b.bounds(128, 2) == std::vector<int>{0, 40, 128});  // 38.4 rows: the nearest multiple of 8
  CHECK(b.bounds(60, 2) == std::vector<int>{0, 30, 60});    // below kMinRows rows: even
  for (int rows = 1; rows <= 130; ++rows) {
    INFO(rows << " rows");
    const std::vector<int> r = b.bounds(rows, 2);
    check_cover(r, rows, 2);
    if (rows >= RowBalance::kMinRows) CHECK(r[1] % RowBalance::kAlign == 0);
    else CHECK(r[1] == rows / 2);
  }
  b.fix_shares({0.52, 0.48});  // less than half an alignment step from even at 128 rows: even
  CHECK(b.bounds(128, 2) == std::vector<int>{0, 64, 128});
  b.fix_shares({0.98, 0.01, 0.01});
  for (int rows = 1; rows <= 140; ++rows) {
    INFO(rows << " rows, 3 threads");
    const std::vector<int> r = b.bounds(rows, 3);
    check_cover(r, rows, 3);
    if (rows >= RowBalance::kMinRows) CHECK(r[3] - r[2] >= RowBalance::kAlign);  // every thread keeps 8 rows
  }
  // many threads, uneven shares: still contiguous, non-empty ranges
  for (int threads = 2; threads <= 9; ++threads) {
    std::vector<double> shares;
    for (int i = 0; i < threads; ++i) shares.push_back(1.0 + (i * 7919 % 13));
    RowBalance m(false);
    m.fix_shares(shares);
    for (int rows = threads; rows <= 300; ++rows) {
      INFO(threads << " threads, " << rows << " rows");
      check_cover(m.bounds(rows, threads), rows, threads);
    }
  }
  // fixed shares stay: record() does not move them
  b.record({0, 112, 120, 128}, {1.0, 100.0, 100.0});
  CHECK(b.share(0, 3) == Approx(0.98));
  CHECK_THROWS_AS(b.fix_shares({1.0, 0.0}), attend::Error);
  CHECK_THROWS_AS(b.fix_shares({1.0, std::nan("")}), attend::Error);
}

TEST_CASE("row balance: shares follow the threads' speeds, with a floor, and pass to the next balance", "[row_balance]") {
  {
    RowBalance b(false);
    // thread 1 25% slower per row: thread 0 should end with 128 * 1.25 / 2.25 = 71.1 rows
    const std::vector<int> r = learn(b, {1.0, 1.25}, 128, 30);
    CHECK(std::abs(r[1] - 71.1) <= RowBalance::kAlign / 2);
    CHECK(b.share(0, 2) == Approx(1.25 / 2.25).epsilon(0.03));
    // three threads, the middle one twice as slow: 40% / 20% / 40%
    RowBalance c(false);
    const std::vector<int> r3 = learn(c, {1.0, 2.0, 1.0}, 120, 30);
    CHECK(r3 == std::vector<int>{0, 48, 72, 120});
  }
  {
    // a thread 100x slower keeps half an even share (it is still measured)
    RowBalance b(false);
    learn(b, {1.0, 100.0}, 128, 40);
    CHECK(b.share(1, 2) == Approx(RowBalance::kMinShare / 2).epsilon(0.02));
    CHECK(b.bounds(128, 2)[1] <= 96);
  }
  {
    // steps that say nothing (a thread without rows or without time) change nothing
    RowBalance b(false);
    b.record({0, 0, 128}, {0.0, 1.0});
    b.record({0, 64, 128}, {0.0, 1.0});
    b.record({0, 64, 128}, {1.0, std::nan("")});
    b.record({0, 64}, {1.0, 1.0});
    CHECK(b.share(0, 2) == Approx(0.5));
  }
  // what one balance learned, the next one of the process starts from
  std::vector<int> learned;
  {
    RowBalance b(false);
    learned = learn(b, {1.5, 1.0}, 128, 30);
    CHECK(learned[1] < 64);
  }
  RowBalance next;
  CHECK(next.bounds(128, 2) == learned);
  RowBalance fresh(false);
  CHECK(fresh.bounds(128, 2) == std::vector<int>{0, 64, 128});
}

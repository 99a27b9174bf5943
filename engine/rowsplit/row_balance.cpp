// engine/rowsplit/row_balance.cpp — the row shares of row-split decoder steps (engine/rowsplit/row_balance.hpp).
#include "engine/rowsplit/row_balance.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <mutex>

#include "attend/error.hpp"

namespace attend {
namespace {

std::mutex last_mu;
std::vector<double>& last_shares() {  // what the last RowBalance ended with
  static std::vector<double> s;
  return s;
}

}  // namespace

RowBalance::RowBalance(bool inherit) {
  if (!inherit) return;
  std::lock_guard<std::mutex> lock(last_mu);
  share_ = last_shares();
}

RowBalance::~RowBalance() {
  if (share_.empty() || fixed_) return;
  std::lock_guard<std::mutex> lock(last_mu);
  last_shares() = share_;
}

double RowBalance::share(int i, int threads) const {
  if (static_cast<int>(share_.size()) != threads) return 1.0 / threads;
  return share_[static_cast<size_t>(i)];
}

std::vector<int> RowBalance::even_bounds(int rows, int threads) {
  std::vector<int> b(static_cast<size_t>(threads) + 1, 0);
  for (int i = 1; i <= threads; ++i) b[static_cast<size_t>(i)] = static_cast<int>(int64_t{rows} * i / threads);
  return b;
}

std::vector<int> RowBalance::bounds(int rows, int threads) const {
  std::vector<int> b = even_bounds(rows, threads);
  if (rows < kMinRows || rows < 2 * kAlign * threads) return b;  // even
  double cum = 0.0;
  for (int i = 1; i < threads; ++i) {
    cum += share(i - 1, threads);
    // the even bound unless the shares want it moved by half an alignment step or more: then
    // the nearest multiple of kAlign; kAlign rows kept for each thread
    const double want = cum * rows;
    int at = b[static_cast<size_t>(i)];
    if (std::abs(want - at) >= 0.5 * kAlign) at = static_cast<int>(std::lround(want / kAlign)) * kAlign;
    at = std::max(at, b[static_cast<size_t>(i) - 1] + kAlign);
    b[static_cast<size_t>(i)] = std::min(at, rows - kAlign * (threads - i));
  }
  return b;
}

void RowBalance::fix_shares(const std::vector<double>& shares) {
  double sum = 0.0;
  for (double s : shares) {
    if (!(s > 0.0) || !std::isfinite(s)) throw Error("row balance: shares must be positive");
    sum += s;
  }
  share_.clear();
  for (double s : shares) share_.push_back(s / sum);
  fixed_ = true;
}

void RowBalance::record(const std::vector<int>& bounds, const std::vector<double>& seconds) {
  if (static_cast<int>(bounds.size()) != static_cast<int>(seconds.size()) + 1) return;
  std::vector<double> rows(seconds.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = bounds[i + 1] - bounds[i];
  record_work(rows, seconds);
}

void RowBalance::record_work(const std::vector<double>& rows, const std::vector<double>& seconds) {
  const int threads = static_cast<int>(seconds.size());
  if (fixed_ || threads < 2 || rows.size() != seconds.size()) return;
  std::vector<double> speed(static_cast<size_t>(threads));
  double total = 0.0;
  for (int i = 0; i < threads; ++i) {
    const double n = rows[static_cast<size_t>(i)];
    const double s = seconds[static_cast<size_t>(i)];
    if (!(n > 0.0) || !(s > 0.0) || !std::isfinite(s)) return;  // nothing to learn from this step
    speed[static_cast<size_t>(i)] = n / s;
    total += speed[static_cast<size_t>(i)];
  }
  if (static_cast<int>(share_.size()) != threads) share_.assign(static_cast<size_t>(threads), 1.0 / threads);
  for (int i = 0; i < threads; ++i) {
    double& s = share_[static_cast<size_t>(i)];
    s = (1.0 - kStep) * s + kStep * speed[static_cast<size_t>(i)] / total;
  }
  // shares below the floor raised to it, the others scaled down to make room (repeated while that
  // pushes another one below)
  const double floor = kMinShare / threads;
  std::vector<bool> at_floor(static_cast<size_t>(threads), false);
  for (bool moved = true; moved;) {
    moved = false;
    double free_sum = 0.0, floored = 0.0;
    for (int i = 0; i < threads; ++i) {
      double& s = share_[static_cast<size_t>(i)];
      if (!at_floor[static_cast<size_t>(i)] && s < floor) at_floor[static_cast<size_t>(i)] = moved = true;
      if (at_floor[static_cast<size_t>(i)]) s = floor, floored += floor;
      else free_sum += s;
    }
    for (int i = 0; i < threads; ++i)
      if (!at_floor[static_cast<size_t>(i)]) share_[static_cast<size_t>(i)] *= (1.0 - floored) / free_sum;
  }
}

}  // namespace attend

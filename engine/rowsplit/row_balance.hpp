// engine/rowsplit/row_balance.hpp — how a row-split decoder step divides its rows among the threads. The
// threads do the same work per row, but on a shared virtual machine their cores do not run at the
// same speed: one vCPU measured 10-40% slower than the other for whole runs, and an even split
// left the faster thread waiting at the end of every step for that long. RowBalance gives each
// thread a share of the rows proportional to its measured speed (rows per second of its own busy
// time in the recent steps). Which thread computes a row does not change the row's result (every
// pass is per row, and the matmuls' sums per output element do not depend on the row count:
// tests/decoder/test_row_split), so the balance changes the time only.
#pragma once
#include <vector>

namespace attend {

class RowBalance {
 public:
  // Each row count a matmul meets costs a oneDNN primitive per layer (~45 KB; the even split
  // already meets one per step size): a bound leaves the even split only in steps of at least
  // kMinRows rows (and 2 * kAlign per thread), and then for a multiple of kAlign rows. Moving by
  // the rows ask for, in steps of 1 row, took the bundled model's int8 peak RSS from 107 to 145 MB.
  static constexpr int kMinRows = 64;
  static constexpr int kAlign = 8;
  // Each thread keeps at least this fraction of an even share, so its speed stays measured.
  static constexpr double kMinShare = 0.5;
  // Weight of the newest step in the running shares.
  static constexpr double kStep = 0.3;

  // Starts from the shares the last RowBalance of the process ended with when `inherit` (the speed
  // difference is the machine's and outlives a batch), else (or when there was none) even shares.
  explicit RowBalance(bool inherit = true);
  // Hands the shares on to the next RowBalance (see the constructor).
  ~RowBalance();
  RowBalance(const RowBalance&) = delete;
  RowBalance& operator=(const RowBalance&) = delete;

  // Thread i of `threads` gets rows [bounds[i], bounds[i + 1]) of `rows`: contiguous ranges in
  // thread order, bounds[0] = 0 and bounds[threads] = rows, every inner bound the even one (rows *
  // i / threads) or a multiple of kAlign, every thread at least one row when rows >= threads (and
  // kAlign rows when the bounds moved).
  std::vector<int> bounds(int rows, int threads) const;
  // The even split: bounds[i] = rows * i / threads (what bounds() moves from).
  static std::vector<int> even_bounds(int rows, int threads);
  // After a step run with `bounds` (as returned above): seconds[i] is thread i's busy time.
  void record(const std::vector<int>& bounds, const std::vector<double>& seconds);
  // The same from each thread's rows (fractions: rows times stages run over the step's stages,
  // when rows changed hands within the step, RowHandoff) and busy seconds.
  void record_work(const std::vector<double>& rows, const std::vector<double>& seconds);
  // Thread i's current share of the rows (even when nothing was recorded for `threads` threads).
  double share(int i, int threads) const;
  // Fixed shares (normalised to sum 1), which record() then leaves alone and which are not
  // handed on: uneven splits on any machine, for tests.
  void fix_shares(const std::vector<double>& shares);

 private:
  std::vector<double> share_;  // per thread, sums to 1; empty: even
  bool fixed_ = false;
};

}  // namespace attend

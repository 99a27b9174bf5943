// tools/support/progress.hpp — progress display for long file-batch commands on stderr: a redrawn bar
// (files done/total, tokens/s, ETA) when stderr is a terminal, plain log lines every few
// seconds otherwise; warnings are printed without garbling the bar.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace attend_cli {

class ProgressReporter {
 public:
  // `tty`: draw a bar (else log lines every `log_interval_s` seconds; <= 0 disables them).
  // `unit`: what `total` counts ("files", "lines").
  ProgressReporter(std::ostream& err, std::string label, size_t total, bool tty, double log_interval_s,
                   std::string unit = "files");
  // Files finished so far (done + failed, skipped ones excluded) and tokens processed.
  void update(size_t finished, int64_t tokens, bool force = false);
  // A line of its own (warning, error), keeping the bar intact.
  void message(const std::string& line);
  // Clears the bar (TTY) before the final report.
  void finish();

 private:
  std::string status_line() const;

  std::ostream& err_;
  std::string label_;
  std::string unit_;
  size_t total_;
  bool tty_;
  double interval_;
  size_t finished_ = 0;
  int64_t tokens_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// True when file descriptor `fd` is a terminal.
bool is_terminal(int fd);

}  // namespace attend_cli

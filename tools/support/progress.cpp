// tools/support/progress.cpp — the stderr progress bar / periodic log lines of file-batch commands.
#include "tools/support/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <ostream>
#include <sstream>

namespace attend_cli {

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

ProgressReporter::ProgressReporter(std::ostream& err, std::string label, size_t total, bool tty, double log_interval_s,
                                   std::string unit)
    : err_(err), label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(tty), interval_(log_interval_s) {
  start_ = last_ = std::chrono::steady_clock::now();
}

namespace {
std::string format_duration(double s) {
  if (s < 0) s = 0;
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}
}  // namespace

std::string ProgressReporter::status_line() const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(tokens_) / elapsed : 0.0;
  std::ostringstream s;
  if (tty_) {
    const int width = 24;
    const int filled = total_ ? static_cast<int>(width * finished_ / total_) : width;
    s << '[' << std::string(static_cast<size_t>(filled), '#') << std::string(static_cast<size_t>(width - filled), '.')
      << "] ";
  } else {
    s << label_ << ": ";
  }
  s << finished_ << '/' << total_ << ' ' << unit_ << ", ";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", rate);
  s << buf << " tok/s, elapsed " << format_duration(elapsed);
  if (finished_ > 0 && finished_ < total_)
    s << ", ETA " << format_duration(elapsed / static_cast<double>(finished_) * static_cast<double>(total_ - finished_));
  return s.str();
}

void ProgressReporter::update(size_t finished, int64_t tokens, bool force) {
  finished_ = finished;
  tokens_ = tokens;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (tty_) {
    if (!force && since < 0.1 && drawn_) return;
    err_ << "\r\033[K" << status_line() << std::flush;
    drawn_ = true;
  } else {
    if (interval_ <= 0 || (!force && since < interval_)) return;
    err_ << status_line() << "\n" << std::flush;
  }
  last_ = now;
}

void ProgressReporter::message(const std::string& line) {
  if (tty_ && drawn_) err_ << "\r\033[K";
  err_ << line << "\n";
  if (tty_ && drawn_) err_ << status_line();
  err_ << std::flush;
}

void ProgressReporter::finish() {
  if (tty_ && drawn_) err_ << "\r\033[K" << std::flush;
  drawn_ = false;
}

}  // namespace attend_cli

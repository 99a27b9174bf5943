// api/hub_progress.cpp — the default download display: a progress bar on a terminal, log lines
// otherwise (see hub_progress.hpp).
#include "api/hub_progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace attend::hub {
namespace {

std::string eta_text(double seconds) {
  if (!(seconds >= 0) || seconds > 360000) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// Bytes per second over this download (resumed bytes excluded).
double rate_of(const DownloadProgress& p) {
  return p.seconds > 0 ? static_cast<double>(p.bytes_done - p.bytes_resumed) / p.seconds : 0.0;
}

}  // namespace

std::string human_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) b /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

StderrProgress::StderrProgress(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {}

void StderrProgress::note(const std::string& line) {
  if (quiet_) return;
  if (bar_shown_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "attend: %s\n", line.c_str());
  bar_shown_ = false;
}

void StderrProgress::update(const DownloadProgress& p) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double rate = rate_of(p);
  const bool new_file = p.file != file_;
  if (new_file) {
    file_ = p.file;
    last_log_ = now;
    last_draw_ = {};
  }
  const std::string name = p.model_id + "/" + p.file;
  if (tty_) {
    if (!p.finished && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::string line = name;
    if (p.bytes_total > 0) {
      const int width = 24;
      const double frac = std::min(1.0, static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total));
      const int fill = static_cast<int>(frac * width);
      line += " [" + std::string(static_cast<size_t>(fill), '#') + std::string(static_cast<size_t>(width - fill), '.') +
              "] " + human_bytes(static_cast<double>(p.bytes_done)) + " / " +
              human_bytes(static_cast<double>(p.bytes_total));
    } else {
      line += " " + human_bytes(static_cast<double>(p.bytes_done));
    }
    line += "  " + human_bytes(rate) + "/s";
    if (p.finished) {
      line += "  done in " + eta_text(p.seconds);
    } else if (p.bytes_total > 0 && rate > 0) {
      line += "  ETA " + eta_text(static_cast<double>(p.bytes_total - std::min(p.bytes_total, p.bytes_done)) / rate);
    }
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), p.finished ? "\n" : "");
    bar_shown_ = !p.finished;
    std::fflush(stderr);
    return;
  }
  // Not a terminal: one line when a file is complete, and one every 10 s while it is long.
  if (p.finished) {
    std::fprintf(stderr, "attend: downloaded %s (%s in %.1f s, %s/s)\n", name.c_str(),
                 human_bytes(static_cast<double>(p.bytes_done - p.bytes_resumed)).c_str(), p.seconds,
                 human_bytes(rate).c_str());
  } else if (now - last_log_ >= std::chrono::seconds(10)) {
    last_log_ = now;
    std::string eta = p.bytes_total > 0 && rate > 0
                          ? ", ETA " + eta_text(static_cast<double>(p.bytes_total - std::min(p.bytes_total, p.bytes_done)) / rate)
                          : "";
    std::fprintf(stderr, "attend: downloading %s: %s of %s, %s/s%s\n", name.c_str(),
                 human_bytes(static_cast<double>(p.bytes_done)).c_str(),
                 p.bytes_total ? human_bytes(static_cast<double>(p.bytes_total)).c_str() : "?", human_bytes(rate).c_str(),
                 eta.c_str());
  }
}

}  // namespace attend::hub

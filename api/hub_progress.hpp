// api/hub_progress.hpp — what a download shows when the caller gave no on_progress: a redrawn
// bar on stderr (file, bytes, rate, ETA) when stderr is a terminal, log lines otherwise.
#pragma once
#include <chrono>
#include <string>

#include "attend/hub.hpp"

namespace attend::hub {

class StderrProgress {
 public:
  explicit StderrProgress(bool quiet);
  void update(const DownloadProgress& p);
  void note(const std::string& line);  // a line of its own ("attend: ..."), keeping a bar intact

 private:
  bool quiet_, tty_;
  bool bar_shown_ = false;
  std::string file_;
  std::chrono::steady_clock::time_point last_draw_{}, last_log_{};
};

// "1.5 MB", "312 kB", "17 B" (decimal units, as huggingface_hub's tqdm bars).
std::string human_bytes(double bytes);

}  // namespace attend::hub

// tests/cli/run_process.hpp — running the `attend` binary from tests: capture stdout/stderr and
// the exit status, optionally with a file size limit (RLIMIT_FSIZE, a "full disk") or as an
// unprivileged user; or start it in the background to kill it mid-run.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace attend_test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};

struct ProcessOptions {
  long long file_size_limit = -1;  // bytes; RLIMIT_FSIZE of the child (SIGXFSZ left as default)
  bool drop_privileges = false;    // when running as root: run the child as nobody (65534)
  std::string stdin_text;
};

// The attend binary under test (compiled in).
std::string attend_binary();

// Runs argv (argv[0] = program path) to completion; stdout/stderr are read through pipes.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});
// Starts argv with stdout/stderr to /dev/null; returns the pid.
pid_t start_process(const std::vector<std::string>& argv);
// Waits for pid; returns the raw wait status.
int wait_process(pid_t pid);

}  // namespace attend_test

// tests/support/child_process.hpp — the one way tests and test benchmarks run a program (mostly
// the `attend` command line) as a child process: stdin text, captured stdout/stderr, working
// directory, extra environment variables, a file size limit ("full disk"), running as an
// unprivileged user, or in the background to be killed mid-run. No Catch2 dependency (benchmark
// programs use it too): system-call failures throw std::runtime_error.
#pragma once
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace attend_test {

// How the child is started. The defaults: the parent's working directory and environment, no
// limits, empty standard input.
struct CommandOptions {
  std::string stdin_text;                                 // written to the child's stdin, which is then closed
  std::string cwd;                                        // working directory of the child ("" = ours)
  std::vector<std::pair<std::string, std::string>> env;   // set in the child (replacing inherited values)
  long long file_size_limit = -1;                         // bytes: RLIMIT_FSIZE, SIGXFSZ at its default action
  bool drop_privileges = false;                           // when running as root: run as nobody (65534)
  // BackgroundCommand only: files that receive the child's stdout / stderr ("" = /dev/null).
  std::string stdout_file, stderr_file;
};

// Result of a child process: its exit code (-1 if it did not exit normally), the signal that
// killed it (0 if none), stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  int signal = 0;
  std::string out, err;
};

// Runs `argv` (argv[0] a path) to completion and captures stdout and stderr separately.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options);
CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// A child started in the background with stdin on /dev/null and stdout/stderr on /dev/null or
// the files CommandOptions names (its work is judged by the files it writes). Killed with SIGKILL and reaped on destruction if still running.
class BackgroundCommand {
 public:
  explicit BackgroundCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});
  ~BackgroundCommand();
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;

  // Sends `sig`; false if the child could not be signalled (already reaped).
  bool kill(int sig);
  // Waits for the child to end: exit_code / signal set, out and err empty.
  CommandResult wait();

 private:
  pid_t pid_ = -1;
};

// Path of the `attend` executable under test (ATTEND_CLI_PATH, set by CMake for every target that
// compiles this file's .cpp); throws if the target did not set it.
std::string attend_cli();

}  // namespace attend_test

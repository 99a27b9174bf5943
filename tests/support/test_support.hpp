// tests/support/test_support.hpp — helpers shared by the Catch2 tests: where the shared fixtures
// are (and what to do when they are absent), temporary directories, whole-file I/O and running
// the `attend` command line as a child process.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace attend_test {

// $ATTEND_FIXTURES, else ../shared/fixtures from the working directory, else the same path
// relative to this source tree; the first candidate when none exists.
std::string fixtures_root();

// True when `dir` exists. Otherwise: under CI=true a test failure, elsewhere a WARN saying the
// test is skipped; the caller returns early on false.
bool fixtures_available(const std::string& dir);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "attend-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string read_file(const std::string& path);  // whole file as bytes; "" if it cannot be read
void write_file(const std::string& path, const std::string& bytes);  // REQUIREs success

// Result of a child process: its exit code (-1 if it did not exit normally), stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs `argv` (argv[0] a path) with `stdin_text` on its standard input; waits for it.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// Path of the `attend` executable under test (set by CMake as ATTEND_CLI_PATH).
std::string attend_cli();

}  // namespace attend_test

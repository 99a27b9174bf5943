// tests/support/test_support.hpp — helpers shared by the Catch2 tests: where the shared fixtures
// are (and what to do when they are absent), temporary directories, whole-file I/O, and (from
// child_process.hpp) running the `attend` command line as a child process.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

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

// Two encoder inputs of `length` deterministic ids in [2, src_vocab - 2], the second one padded
// after its first `second_real` tokens (mask 0): decoder tests' batches of unequal inputs.
struct TwoInputs {
  std::vector<std::vector<int32_t>> ids, mask;
};
TwoInputs two_inputs(int src_vocab, int length, int second_real);

std::string read_file(const std::string& path);  // whole file as bytes; "" if it cannot be read
void write_file(const std::string& path, const std::string& bytes);  // REQUIREs success

}  // namespace attend_test

// tests/support/test_support.cpp — implementation of the shared test helpers (fixture lookup,
// temporary directories, file I/O, child processes).
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <thread>

#ifndef ATTEND_CLI_PATH
#define ATTEND_CLI_PATH ""
#endif

namespace fs = std::filesystem;

namespace attend_test {

std::string fixtures_root() {
  if (const char* env = std::getenv("ATTEND_FIXTURES"); env && *env) return env;
  const std::vector<std::string> candidates = {
      "../shared/fixtures", (fs::path(__FILE__).parent_path() / ".." / ".." / ".." / "shared" / "fixtures").string()};
  for (const auto& c : candidates)
    if (fs::is_directory(c)) return c;
  return candidates.front();
}

bool fixtures_available(const std::string& dir) {
  if (fs::is_directory(dir)) return true;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") {
    FAIL("fixtures not found at " << dir << " (CI=true requires them; set ATTEND_FIXTURES)");
  } else {
    WARN("fixtures not found at " << dir << "; skipping this test (set ATTEND_FIXTURES)");
  }
  return false;
}

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  REQUIRE(::mkdtemp(buf.data()) != nullptr);
  path = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  REQUIRE(out.good());
}

namespace {

// Reads everything from `fd` until EOF into `out` (run on its own thread per pipe, so a child
// filling one pipe while we wait on the other cannot deadlock).
void drain(int fd, std::string* out) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) out->append(buf, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  ::close(fd);
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text) {
  REQUIRE(!argv.empty());
  std::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test by closing stdin
  int in_pipe[2], out_pipe[2], err_pipe[2];
  REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandResult r;
  std::thread out_reader(drain, out_pipe[0], &r.out);
  std::thread err_reader(drain, err_pipe[0], &r.err);
  size_t written = 0;
  while (written < stdin_text.size()) {
    const ssize_t n = ::write(in_pipe[1], stdin_text.data() + written, stdin_text.size() - written);
    if (n > 0) written += static_cast<size_t>(n);
    else if (n < 0 && errno == EINTR) continue;
    else break;  // the child closed its stdin
  }
  ::close(in_pipe[1]);
  out_reader.join();
  err_reader.join();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string attend_cli() {
  const std::string p = ATTEND_CLI_PATH;
  REQUIRE_FALSE(p.empty());
  return p;
}

}  // namespace attend_test

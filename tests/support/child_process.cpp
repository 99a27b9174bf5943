// tests/support/child_process.cpp — fork/exec of child processes for the tests (see
// child_process.hpp): pipes drained on their own threads, the environment and limits prepared
// before fork so the child only calls async-signal-safe functions.
#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

#ifndef ATTEND_CLI_PATH
#define ATTEND_CLI_PATH ""
#endif

namespace attend_test {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// argv and envp as the exec functions want them (pointers into `argv`/`env_storage`).
struct ExecArgs {
  std::vector<std::string> env_storage;
  std::vector<char*> args, envp;

  ExecArgs(const std::vector<std::string>& argv, const CommandOptions& options) {
    if (argv.empty()) throw std::invalid_argument("run_command: empty argv");
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (char** e = environ; *e; ++e) {
      const std::string entry = *e;
      bool replaced = false;
      for (const auto& kv : options.env) replaced = replaced || entry.rfind(kv.first + "=", 0) == 0;
      if (!replaced) env_storage.push_back(entry);
    }
    for (const auto& kv : options.env) env_storage.push_back(kv.first + "=" + kv.second);
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

// In the child after fork: standard streams, working directory, limits, user; then exec.
// Only async-signal-safe calls. Exit codes 121..127 say which step failed.
[[noreturn]] void exec_child(const ExecArgs& ex, const CommandOptions& options, int in_fd, int out_fd, int err_fd) {
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(121);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);  // the parent ignores them; the child gets the defaults
  ::sigaction(SIGXFSZ, &dfl, nullptr);
  if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(122);
  if (options.file_size_limit >= 0) {
    struct rlimit rl {};
    rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(options.file_size_limit);
    if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(126);
  }
  if (options.drop_privileges && ::geteuid() == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(125);
  }
  ::execve(ex.args[0], ex.args.data(), ex.envp.data());
  ::_exit(127);
}

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

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid");
  }
  return status;
}

void set_status(int status, CommandResult& r) {
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text) {
  CommandOptions options;
  options.stdin_text = stdin_text;
  return run_command(argv, options);
}

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  const ExecArgs ex(argv, options);
  std::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test by closing stdin
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    fail("pipe2");
  const pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) exec_child(ex, options, in_pipe[0], out_pipe[1], err_pipe[1]);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandResult r;
  std::thread out_reader(drain, out_pipe[0], &r.out);
  std::thread err_reader(drain, err_pipe[0], &r.err);
  const std::string& text = options.stdin_text;
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(in_pipe[1], text.data() + written, text.size() - written);
    if (n > 0) written += static_cast<size_t>(n);
    else if (n < 0 && errno == EINTR) continue;
    else break;  // the child closed its stdin
  }
  ::close(in_pipe[1]);
  out_reader.join();
  err_reader.join();
  set_status(wait_for(pid), r);
  return r;
}

BackgroundCommand::BackgroundCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  const ExecArgs ex(argv, options);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) fail("open /dev/null");
  auto open_out = [&](const std::string& path) {
    if (path.empty()) return null;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("open " + path);
    return fd;
  };
  const int out = open_out(options.stdout_file), err = open_out(options.stderr_file);
  pid_ = ::fork();
  if (pid_ == 0) exec_child(ex, options, null, out, err);
  const int fork_errno = errno;
  if (out != null) ::close(out);
  if (err != null) ::close(err);
  ::close(null);
  errno = fork_errno;
  if (pid_ < 0) fail("fork");
}

BackgroundCommand::~BackgroundCommand() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

bool BackgroundCommand::kill(int sig) { return pid_ > 0 && ::kill(pid_, sig) == 0; }

CommandResult BackgroundCommand::wait() {
  if (pid_ <= 0) throw std::logic_error("BackgroundCommand::wait: the child was already waited for");
  CommandResult r;
  set_status(wait_for(pid_), r);
  pid_ = -1;
  return r;
}

std::string attend_cli() {
  const std::string p = ATTEND_CLI_PATH;
  if (p.empty()) throw std::logic_error("attend_cli(): ATTEND_CLI_PATH was not set for this target");
  return p;
}

}  // namespace attend_test

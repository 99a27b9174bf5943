// server/bench.cpp — `attend bench-serve` (see bench.hpp): starts `attend serve` as a child
// process on 127.0.0.1 (or uses --url), measures each client count with one thread and one
// keep-alive connection per client, and compares with Model::translate in batches.
#include "server/bench.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"

extern char** environ;

namespace attend_server {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// `attend serve` as a child: its URL from its stdout; SIGTERM and reaped on destruction.
class ServerChild {
 public:
  explicit ServerChild(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe(fds) != 0) throw attend::Error("bench-serve: pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);  // the access log
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw attend::Error("bench-serve: cannot start " + argv[0]);
    }
    std::string out;
    char buf[256];
    while (out.find('\n') == std::string::npos) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    const size_t p = out.find("http://");
    if (p == std::string::npos) throw attend::Error("bench-serve: `attend serve` did not start: " + out);
    url_ = out.substr(p, out.find('\n', p) - p);
  }
  ~ServerChild() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  const std::string& url() const { return url_; }
  // Peak resident set (VmHWM) in MiB.
  double peak_rss_mib() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
  }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

struct Level {
  int clients = 0;
  double seconds = 0, p50 = 0, p99 = 0, rss = 0;
  size_t mismatches = 0, failures = 0;
};

// `n` requests from `clients` threads (one keep-alive connection each); latencies in seconds.
Level run_level(const std::string& host, int port, int clients, const std::vector<std::string>& requests,
                const std::vector<std::string>& expected, int beam_size) {
  Level lv;
  lv.clients = clients;
  std::vector<double> latency(requests.size(), 0.0);
  std::vector<std::string> got(requests.size());
  std::atomic<size_t> next{0};
  std::atomic<size_t> failures{0};
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (int c = 0; c < clients; ++c)
    pool.emplace_back([&] {
      httplib::Client cli(host, port);
      cli.set_read_timeout(300, 0);
      for (size_t i; (i = next.fetch_add(1)) < requests.size();) {
        json body{{"text", requests[i]}};
        if (beam_size > 0) body["beam_size"] = beam_size;
        const auto s = Clock::now();
        auto r = cli.Post("/v1/translate", body.dump(), "application/json");
        latency[i] = std::chrono::duration<double>(Clock::now() - s).count();
        if (!r || r->status != 200) {
          ++failures;
          continue;
        }
        got[i] = json::parse(r->body)["translations"][0]["text"].get<std::string>();
      }
    });
  for (auto& t : pool) t.join();
  lv.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  lv.p50 = percentile(latency, 0.50);
  lv.p99 = percentile(latency, 0.99);
  lv.failures = failures;
  for (size_t i = 0; i < requests.size(); ++i) lv.mismatches += got[i] == expected[i] ? 0 : 1;
  return lv;
}

}  // namespace

int bench_serve(const BenchServeOptions& o, std::ostream& out) {
  std::vector<std::string> sentences;
  {
    std::ifstream in(o.input);
    if (!in) throw attend::Error(o.input + ": cannot read the sentences");
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) sentences.push_back(line);
    if (sentences.empty()) throw attend::Error(o.input + ": no sentences");
  }
  std::vector<std::string> requests(static_cast<size_t>(o.requests));
  for (size_t i = 0; i < requests.size(); ++i) requests[i] = sentences[i % sentences.size()];

  // The batch path first (the server is not running yet): Model::translate, sorted batches.
  attend::LoadOptions lo;
  lo.threads = o.threads;
  auto model = attend::Model::load(o.model, lo);
  attend::TranslateOptions topt;
  topt.max_batch_size = o.batch_size;
  if (o.beam_size > 0) topt.generation.num_beams = o.beam_size;
  model->translate(std::vector<std::string>(requests.begin(), requests.begin() + std::min<size_t>(64, requests.size())),
                   topt);  // warm-up
  const auto t0 = Clock::now();
  const auto results = model->translate(requests, topt);
  const double batch_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<std::string> expected;
  for (const auto& r : results) expected.push_back(r.hypotheses.at(0).text);
  model.reset();

  std::unique_ptr<ServerChild> child;
  std::string url = o.url;
  if (url.empty()) {
    std::vector<std::string> argv = {o.attend_binary, "serve", "-m", o.model, "--port", "0",
                                     "--max-batch-size", std::to_string(o.batch_size),
                                     "--batch-wait-ms", std::to_string(o.wait_ms), "--max-queued", "100000",
                                     "--http-threads", "1024"};
    if (o.threads > 0) argv.insert(argv.end(), {"--threads", std::to_string(o.threads)});
    child = std::make_unique<ServerChild>(argv);
    url = child->url();
  }
  const size_t colon = url.rfind(':');
  const std::string host = url.substr(7, colon - 7);
  const int port = std::stoi(url.substr(colon + 1));

  out << "bench-serve: " << requests.size() << " requests of one sentence (" << std::min(requests.size(), sentences.size())
      << " distinct) per level, model " << o.model << ", beam " << (o.beam_size > 0 ? std::to_string(o.beam_size) : "default")
      << ", server " << url << (child ? " (started here)" : "") << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "batch path (Model::translate, batch %d, as attend translate): %.2f s, %.1f sentences/s\n",
                o.batch_size, batch_seconds, requests.size() / batch_seconds);
  out << line;
  out << "clients  seconds  req/s   vs batch  p50 ms   p99 ms   peak RSS MiB  failed  differ\n";
  std::vector<Level> levels;
  size_t bad = 0;
  for (int c : o.clients) {
    // Warm-up (untimed): as many requests as clients, so every connection is open.
    run_level(host, port, c, std::vector<std::string>(requests.begin(), requests.begin() + std::min<size_t>(c, requests.size())),
              std::vector<std::string>(expected.begin(), expected.begin() + std::min<size_t>(c, requests.size())), o.beam_size);
    Level lv = run_level(host, port, c, requests, expected, o.beam_size);
    lv.rss = child ? child->peak_rss_mib() : 0;
    bad += lv.mismatches + lv.failures;
    const double rate = requests.size() / lv.seconds;
    std::snprintf(line, sizeof line, "%7d  %7.2f  %6.1f  %7.0f%%  %7.1f  %7.1f  %12.0f  %6zu  %6zu\n", c, lv.seconds, rate,
                  100.0 * rate / (requests.size() / batch_seconds), lv.p50 * 1000, lv.p99 * 1000, lv.rss, lv.failures,
                  lv.mismatches);
    out << line << std::flush;
    levels.push_back(lv);
  }
  auto find = [&](int c) -> const Level* {
    for (const auto& l : levels)
      if (l.clients == c) return &l;
    return nullptr;
  };
  if (const Level* l64 = find(64)) {
    const double ratio = (requests.size() / l64->seconds) / (requests.size() / batch_seconds);
    std::snprintf(line, sizeof line, "goal: 64 clients >= 85%% of the batch path: %.0f%% (%s)\n", 100 * ratio,
                  ratio >= 0.85 ? "met" : "NOT met");
    out << line;
  }
  if (const Level* l1 = find(1); l1 && find(16)) {
    const double r = find(16)->p99 / l1->p50;
    std::snprintf(line, sizeof line, "goal: p99 at 16 clients <= 3x p50 at 1 client: %.1fx (%s)\n", r,
                  r <= 3.0 ? "met" : "NOT met");
    out << line;
  }
  out << "answers identical to the batch path: " << (bad ? "NO" : "yes") << "\n";
  return bad ? 1 : 0;
}

}  // namespace attend_server

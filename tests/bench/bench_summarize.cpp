// tests/bench/bench_summarize.cpp — throughput of `attend summarize` on many small files against
// the same texts summarized as one in-process batch (Model::summarize). Prints the median time of
// each over the repeats and the ratio (issue #5 wants the files within 10% of the batch).
// The batch runs in a fresh process of this program each time (as the file run does), so both
// start with cold caches (oneDNN creates and JIT-compiles its primitives per process); the
// warm in-process figure is printed too.
//
//   attend-bench-summarize MODEL_DIR [N_DOCS=200] [REPEATS=3] [THREADS=1] [-- extra summarize options]
//
// The texts are the `input_text`s of MODEL_DIR/cases.json (a text fixture model such as
// ../shared/fixtures/models/t5_text), cycled to N_DOCS documents. The file run goes through the
// real binary (process start, model load, reading and atomically writing every file included);
// the load time is measured and printed on its own.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "tests/support/child_process.hpp"

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds (user + system) used by finished child processes so far.
double children_cpu_seconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  // Child mode: --batch-child MODEL_DIR N_DOCS REPEATS THREADS [-- options]: one cold
  // Model::summarize call, prints its seconds (load excluded).
  const bool child = argc > 1 && std::string(argv[1]) == "--batch-child";
  if (child) {
    argv[1] = argv[0];
    ++argv;
    --argc;
  }
  if (argc < 2) {
    std::cerr << "usage: attend-bench-summarize MODEL_DIR [N_DOCS] [REPEATS] [THREADS] [-- options]\n";
    return 2;
  }
  const std::string model_dir = argv[1];
  const int n_docs = argc > 2 && std::string(argv[2]) != "--" ? std::atoi(argv[2]) : 200;
  const int repeats = argc > 3 && std::string(argv[3]) != "--" ? std::atoi(argv[3]) : 3;
  const int threads = argc > 4 && std::string(argv[4]) != "--" ? std::atoi(argv[4]) : 1;
  std::vector<std::string> extra;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--") extra.assign(argv + i + 1, argv + argc);
  if (n_docs < 1 || repeats < 1 || threads < 1) {
    std::cerr << "N_DOCS, REPEATS and THREADS must be positive\n";
    return 2;
  }

  std::vector<std::string> pool;
  try {
    std::ifstream in(fs::path(model_dir) / "cases.json");
    const auto cases = nlohmann::json::parse(in);
    for (const auto& c : cases.at("cases"))
      for (const auto& t : c.at("input_text")) pool.push_back(t.get<std::string>());
  } catch (const std::exception& e) {
    std::cerr << model_dir << "/cases.json: cannot read input texts: " << e.what() << "\n";
    return 1;
  }
  std::vector<std::string> texts;
  for (int i = 0; i < n_docs; ++i) texts.push_back(pool[static_cast<size_t>(i) % pool.size()]);

  // The CLI's options, mirrored for the library call (only what the bench supports).
  attend::SummarizeOptions opt;
  for (size_t i = 0; i + 1 < extra.size(); i += 2) {
    const std::string& k = extra[i];
    const int v = std::atoi(extra[i + 1].c_str());
    if (k == "--batch-size") opt.max_batch_size = v;
    else if (k == "--max-length") opt.generation.max_length = v;
    else if (k == "--min-length") opt.generation.min_length = v;
    else if (k == "--beam-size") opt.generation.num_beams = v;
    else {
      std::cerr << "unsupported option for the bench: " << k << "\n";
      return 2;
    }
  }

  attend::LoadOptions lo;
  lo.threads = threads;
  if (child) {
    auto model = attend::Model::load(model_dir, lo);
    const auto t0 = std::chrono::steady_clock::now();
    model->summarize(texts, opt);
    std::printf("%.6f\n", seconds_since(t0));
    return 0;
  }

  const fs::path dir = fs::temp_directory_path() / ("attend-bench-summarize-" + std::to_string(::getpid()));
  fs::create_directories(dir / "in");
  int64_t source_tokens = 0;
  for (int i = 0; i < n_docs; ++i) {
    std::ofstream f(dir / "in" / ("doc" + std::to_string(i) + ".txt"), std::ios::binary);
    f << texts[static_cast<size_t>(i)];
  }

  auto t0 = std::chrono::steady_clock::now();
  auto model = attend::Model::load(model_dir, lo);
  const double load_s = seconds_since(t0);

  std::vector<double> batch_s, batch_whole_s, warm_s, files_s, batch_cpu, files_cpu;
  std::vector<attend::SummaryResult> ref;
  for (int r = 0; r < repeats; ++r) {
    t0 = std::chrono::steady_clock::now();
    auto res = model->summarize(texts, opt);
    warm_s.push_back(seconds_since(t0));
    std::vector<std::string> child_args = {fs::read_symlink("/proc/self/exe").string(), "--batch-child", model_dir,
                                           std::to_string(n_docs), "1", std::to_string(threads), "--"};
    child_args.insert(child_args.end(), extra.begin(), extra.end());
    double cpu0 = children_cpu_seconds();
    t0 = std::chrono::steady_clock::now();
    auto c = attend_test::run_command(child_args);
    batch_whole_s.push_back(seconds_since(t0));
    batch_cpu.push_back(children_cpu_seconds() - cpu0);
    if (c.exit_code != 0) {
      std::cerr << "batch child failed:\n" << c.err;
      return 1;
    }
    batch_s.push_back(std::atof(c.out.c_str()));
    if (r == 0) {
      for (auto& x : res) source_tokens += x.source_tokens;
      ref = std::move(res);
    }

    std::vector<std::string> args = {attend_test::attend_cli(), "summarize", "-m", model_dir, (dir / "in").string(),
                                     "--out-dir", (dir / "out").string(), "--overwrite", "--threads",
                                     std::to_string(threads), "--progress", "none"};
    args.insert(args.end(), extra.begin(), extra.end());
    t0 = std::chrono::steady_clock::now();
    cpu0 = children_cpu_seconds();
    auto p = attend_test::run_command(args);
    files_s.push_back(seconds_since(t0));
    files_cpu.push_back(children_cpu_seconds() - cpu0);
    if (p.exit_code != 0) {
      std::cerr << "attend summarize failed:\n" << p.err;
      return 1;
    }
  }
  // Same summaries both ways.
  size_t same = 0;
  for (int i = 0; i < n_docs; ++i) {
    std::ifstream f(dir / "out" / ("doc" + std::to_string(i) + ".txt.summary.txt"), std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    same += s == ref[static_cast<size_t>(i)].summary + "\n";
  }
  fs::remove_all(dir);

  const double b = median(batch_whole_s), call = median(batch_s), f = median(files_s), w = median(warm_s);
  std::printf("summarize throughput, %d documents (%lld source tokens), %d thread(s), median of %d\n", n_docs,
              static_cast<long long>(source_tokens), threads, repeats);
  std::printf("  one batch (fresh process, all included):     %8.3f s  %8.1f docs/s  %9.0f source tok/s\n", b,
              n_docs / b, static_cast<double>(source_tokens) / b);
  std::printf("  one batch (fresh process, the call only):    %8.3f s  %8.1f docs/s  %9.0f source tok/s\n", call,
              n_docs / call, static_cast<double>(source_tokens) / call);
  std::printf("  one batch (Model::summarize, warm):          %8.3f s  %8.1f docs/s  %9.0f source tok/s\n", w,
              n_docs / w, static_cast<double>(source_tokens) / w);
  std::printf("  %d files (attend summarize, all included):    %8.3f s  %8.1f docs/s  %9.0f source tok/s  (load %.3f s)\n",
              n_docs, f, n_docs / f, static_cast<double>(source_tokens) / f, load_s);
  std::printf("  files / batch throughput: %.3f (files take %+.1f%% wall time)\n", b / f, (f / b - 1.0) * 100.0);
  const double bc = median(batch_cpu), fc = median(files_cpu);
  std::printf("  CPU time (user+sys, whole process): batch %.3f s, files %.3f s (files take %+.1f%% CPU)\n", bc, fc,
              (fc / bc - 1.0) * 100.0);
  std::printf("  identical summaries: %zu / %d\n", same, n_docs);
  return same == static_cast<size_t>(n_docs) ? 0 : 1;
}

// tools/cmd_bench_concurrent.cpp — `attend bench-concurrent`: throughput of N concurrent callers
// sharing one model through an attend::Translator (dynamic batching) against one caller making
// the same requests serially (and, for reference, N callers calling Model::translate directly).
// Prints per-run figures and medians (after an untimed warm-up); checks that every result equals
// the serial one.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

// Default requests: short English image captions (the bundled model's domain).
const char* const kDefaultSentences[] = {
    "A man in an orange hat starring at something.",
    "Two young girls are playing in the snow.",
    "A dog runs across the grass with a ball in its mouth.",
    "People are sitting at tables in a busy restaurant.",
    "A woman is riding a bicycle down the street.",
    "A little boy is eating an ice cream cone.",
    "Several men are working on a construction site.",
    "A black dog is swimming in a lake.",
    "A group of children are standing in front of a school.",
    "An old man is reading a newspaper on a bench.",
    "Two men are playing soccer on a field.",
    "A woman in a red dress is dancing on a stage.",
    "A girl is jumping into a swimming pool.",
    "A man is cooking food in a kitchen.",
    "The crowd is watching a concert.",
    "A cat sleeps on the couch.",
};

struct BenchArgs {
  std::string model, input;
  attend::HubOptions hub;
  int callers = 16, requests = 64, repeat = 3, beam_size = 0, threads = 0, wait_ms = 5, max_batch_size = 32;
  bool direct = true;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

using Clock = std::chrono::steady_clock;

// Runs requests[0..n) on `callers` threads, each taking the next request; returns seconds.
template <typename Call>
double run_callers(int callers, size_t n, std::vector<std::string>& out, Call&& call) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  std::vector<std::string> errors(static_cast<size_t>(callers));
  const auto t0 = Clock::now();
  for (int c = 0; c < callers; ++c) {
    pool.emplace_back([&, c] {
      try {
        for (size_t i; (i = next.fetch_add(1)) < n;) out[i] = call(i);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(c)] = e.what();
        next = n;
      }
    });
  }
  for (auto& t : pool) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  for (const auto& e : errors)
    if (!e.empty()) throw attend::Error("bench-concurrent: a caller failed: " + e);
  return s;
}

int run_bench(const BenchArgs& a) {
  attend::LoadOptions lo;
  lo.threads = a.threads;
  lo.hub = a.hub;
  auto model = attend::Model::load(model_path_or_default(a.model), lo);
  std::vector<std::string> sentences;
  if (!a.input.empty()) {
    for (auto& line : read_lines_from(a.input))
      if (!line.empty()) sentences.push_back(line);
    if (sentences.empty()) throw attend::Error(a.input + ": no non-empty lines");
  } else {
    sentences.assign(std::begin(kDefaultSentences), std::end(kDefaultSentences));
  }
  const size_t n = static_cast<size_t>(a.requests);
  std::vector<std::string> requests(n);
  for (size_t i = 0; i < n; ++i) requests[i] = sentences[i % sentences.size()];

  attend::TranslateOptions opt;
  if (a.beam_size > 0) opt.generation.num_beams = a.beam_size;
  attend::TranslatorOptions to;
  to.wait_ms = a.wait_ms;
  to.max_batch_size = a.max_batch_size;
  to.threads = a.threads;
  to.max_queued = std::max(a.callers, 1) * 4;
  attend::Translator translator(model, to);

  auto translate_one = [&](size_t i) { return model->translate({requests[i]}, opt).at(0).hypotheses.at(0).text; };
  auto batched_one = [&](size_t i) { return translator.translate({requests[i]}, opt).at(0).hypotheses.at(0).text; };

  std::printf("bench-concurrent: %zu requests of 1 sentence (%zu distinct), %d callers, beam %s, wait %d ms, "
              "max batch %d, compute threads %s, %d runs\n",
              n, std::min(n, sentences.size()), a.callers, a.beam_size > 0 ? std::to_string(a.beam_size).c_str() : "model default",
              a.wait_ms, a.max_batch_size, a.threads > 0 ? std::to_string(a.threads).c_str() : "default", a.repeat);
  std::vector<std::string> serial_out(n), batched_out(n), direct_out(n);
  std::vector<double> t_serial, t_batched, t_direct;
  size_t mismatches = 0;
  auto set_threads = [&] {
    if (a.threads > 0) attend::set_num_threads(a.threads);
  };
  // Warm-up (not timed): oneDNN makes its primitives for each new shape on first use.
  set_threads();
  for (const auto& sentence : sentences) model->translate({sentence}, opt);
  run_callers(a.callers, n, batched_out, batched_one);
  for (int r = 0; r < a.repeat; ++r) {
    set_threads();
    const auto t0 = Clock::now();
    for (size_t i = 0; i < n; ++i) serial_out[i] = translate_one(i);
    t_serial.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    const auto before = translator.stats();
    t_batched.push_back(run_callers(a.callers, n, batched_out, batched_one));
    const auto after = translator.stats();
    if (a.direct) t_direct.push_back(run_callers(a.callers, n, direct_out, [&](size_t i) {
      set_threads();
      return translate_one(i);
    }));
    for (size_t i = 0; i < n; ++i) {
      for (int mode = 0; mode < (a.direct ? 2 : 1); ++mode) {
        const std::string& got = mode == 0 ? batched_out[i] : direct_out[i];
        if (got == serial_out[i]) continue;
        if (++mismatches <= 5)
          std::printf("mismatch (%s), request %zu \"%s\":\n  serial: %s\n  got:    %s\n", mode == 0 ? "Translator" : "direct",
                      i, requests[i].c_str(), serial_out[i].c_str(), got.c_str());
      }
    }
    std::printf("run %d: serial %.3f s (%.1f req/s) | %d callers + Translator %.3f s (%.1f req/s, %zu batches, "
                "mean batch %.1f)",
                r + 1, t_serial.back(), n / t_serial.back(), a.callers, t_batched.back(), n / t_batched.back(),
                after.batches - before.batches,
                double(after.inputs - before.inputs) / double(std::max<size_t>(1, after.batches - before.batches)));
    if (a.direct) std::printf(" | %d callers direct %.3f s (%.1f req/s)", a.callers, t_direct.back(), n / t_direct.back());
    std::printf("\n");
  }
  const double ms = median(t_serial), mb = median(t_batched);
  std::printf("median: 1 caller %.1f req/s; %d callers + Translator %.1f req/s; ratio %.2fx", n / ms, a.callers, n / mb,
              ms / mb);
  if (a.direct) {
    const double md = median(t_direct);
    std::printf("; %d callers direct %.1f req/s (%.2fx)", a.callers, n / md, ms / md);
  }
  std::printf("\nresults identical to the serial ones: %s (%zu mismatches)\n", mismatches ? "NO" : "yes", mismatches);
  return mismatches ? 1 : 0;
}

const RegisterSubcommand registered(60, [](CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* b = app.add_subcommand("bench-concurrent",
                               "Throughput of N concurrent callers with dynamic batching vs one serial caller");
  b->add_option("-m,--model", a->model, std::string(kModelOptionHelp) + " (default: the bundled model)");
  add_hub_options(b, a->hub);
  b->add_option("-i,--input", a->input, "Sentences, one per line (default: 16 built-in captions)");
  b->add_option("--callers", a->callers, "Concurrent caller threads")->check(CLI::Range(1, 1024));
  b->add_option("--requests", a->requests, "Requests (one sentence each) per run")->check(CLI::Range(1, 1000000));
  b->add_option("--repeat", a->repeat, "Runs (medians are reported)")->check(CLI::Range(1, 100));
  b->add_option("--beam-size", a->beam_size, "Beam size (default: the model's)")->check(CLI::Range(1, 256));
  b->add_option("--threads", a->threads, "Compute threads per decoding thread (default: all cores)")->check(CLI::Range(1, 1024));
  b->add_option("--wait-ms", a->wait_ms, "Batch window of the Translator")->check(CLI::Range(0, 10000));
  b->add_option("--max-batch-size", a->max_batch_size, "Inputs per batch at most")->check(CLI::Range(1, 4096));
  b->add_flag("!--no-direct", a->direct, "Skip the N callers calling Model::translate directly");
  return Subcommand{b, [a] { return run_bench(*a); }};
});

}  // namespace
}  // namespace attend_cli

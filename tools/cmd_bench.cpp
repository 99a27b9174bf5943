// tools/cmd_bench.cpp — `attend bench`: translates a file through the public API and prints
// throughput (target tokens/s, sentences/s), batch latency percentiles, load time and peak
// memory, so Attend can be compared with other engines on the same workload. Tokenization and
// detokenization are inside the timed region, model load is not (as in
// ../shared/benchmarks/README.md).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "attend/shortlist.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

struct BenchArgs {
  std::string model, input, output, compute_type = "auto", batch_type = "examples";
  attend::HubOptions hub;
  int beam_size = 0, batch_size = 32, threads = 0, max_sentences = 0;
  int min_new_tokens = -1, max_new_tokens = -1, repeat = 3, warmup = 1;
  bool json = false;
  std::string attention = "off";  // cross-attention captured: off, mean (last layer), all (docs/attention.md)
  std::string shortlist;  // issue 17: vocabulary shortlist file ("" = none)
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// User + system CPU seconds of the process so far (all threads).
double cpu_seconds() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  // nearest rank
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::min(v.size(), std::max<size_t>(1, rank));
  return v[rank - 1];
}

// Peak resident set in MB: VmHWM from /proc/self/status, else getrusage's ru_maxrss (KB on Linux).
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) == 0) return static_cast<double>(ru.ru_maxrss) / 1024.0;
  return 0.0;
}

// The model's EOS ids (from its resolved generation defaults): not counted as target tokens.
std::vector<int32_t> eos_ids(const attend::Model& model) {
  std::vector<int32_t> out;
  const auto j = nlohmann::json::parse(model.info().generation_defaults, nullptr, false);
  if (j.is_object() && j.contains("eos_token_id")) {
    const auto& e = j["eos_token_id"];
    if (e.is_number_integer()) out.push_back(e.get<int32_t>());
    if (e.is_array()) {
      for (const auto& v : e) {
        if (v.is_number_integer()) out.push_back(v.get<int32_t>());
      }
    }
  }
  return out;
}

struct Pass {
  double seconds = 0.0;
  size_t tokens = 0, tokens_with_eos = 0;
  std::vector<double> batch_ms;
  std::vector<std::string> texts;
};

// One timed pass: tokenize everything, form the batches as translate() does, generate each.
// `limit_batches` > 0 stops after that many batches (warm-up).
Pass run_pass(const attend::Model& model, const std::vector<std::string>& lines, const attend::TranslateOptions& opt,
              const std::vector<int32_t>& eos, size_t limit_batches) {
  Pass p;
  p.texts.resize(lines.size());
  const auto start = Clock::now();
  std::vector<std::vector<int32_t>> ids(lines.size());
  std::vector<size_t> lengths(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    ids[i] = model.tokenize(lines[i]);
    lengths[i] = ids[i].size();
  }
  const auto batches = attend::plan_batches(lengths, opt);
  attend::TranslateOptions one = opt;  // each planned batch is decoded as one call
  one.batch_type = attend::BatchType::Examples;
  size_t done = 0;
  for (const auto& members : batches) {
    if (limit_batches && done++ == limit_batches) break;
    const auto bt = Clock::now();
    std::vector<std::vector<int32_t>> batch;
    batch.reserve(members.size());
    for (size_t i : members) batch.push_back(ids[i]);
    one.max_batch_size = static_cast<int>(members.size());
    auto results = model.generate(batch, one);
    for (size_t k = 0; k < members.size(); ++k) {
      const attend::Hypothesis& h = results[k].hypotheses.at(0);
      const size_t generated = h.ids.empty() ? 0 : h.ids.size() - 1;  // minus the decoder start token
      p.tokens_with_eos += generated;
      const bool ends_eos = generated > 0 && std::find(eos.begin(), eos.end(), h.ids.back()) != eos.end();
      p.tokens += generated - (ends_eos ? 1 : 0);
      p.texts[members[k]] = h.text;
    }
    p.batch_ms.push_back(seconds_since(bt) * 1000.0);
  }
  p.seconds = seconds_since(start);
  return p;
}

int run_bench(const BenchArgs& a) {
  attend::TranslateOptions opt;
  opt.max_batch_size = a.batch_size;
  opt.batch_type = a.batch_type == "tokens" ? attend::BatchType::Tokens : attend::BatchType::Examples;
  if (a.beam_size > 0) opt.generation.num_beams = a.beam_size;
  if (a.min_new_tokens >= 0) opt.generation.min_new_tokens = a.min_new_tokens;
  if (a.max_new_tokens >= 0) opt.generation.max_new_tokens = a.max_new_tokens;
  if (a.attention != "off") {
    opt.return_attention = true;
    opt.attention_all_layers = opt.attention_all_heads = a.attention == "all";
  }
  if (!a.shortlist.empty()) opt.shortlist = attend::Shortlist::load(a.shortlist);  // issue 17
  if (a.min_new_tokens >= 0 && a.max_new_tokens >= 0 && a.min_new_tokens > a.max_new_tokens) {
    throw attend::Error("--min-new-tokens must not exceed --max-new-tokens");
  }

  std::vector<std::string> lines = read_lines_from(a.input);
  if (a.max_sentences > 0 && lines.size() > static_cast<size_t>(a.max_sentences)) lines.resize(a.max_sentences);
  if (lines.empty()) throw attend::Error((a.input.empty() ? std::string("stdin") : a.input) + ": no input lines");

  attend::LoadOptions lo;
  lo.threads = a.threads;
  lo.compute_type = a.compute_type;
  lo.hub = a.hub;
  const auto t_load = Clock::now();
  auto model = attend::Model::load(model_path_or_default(a.model), lo);
  const double load_s = seconds_since(t_load);
  const auto eos = eos_ids(*model);

  if (a.warmup > 0) run_pass(*model, lines, opt, eos, static_cast<size_t>(a.warmup));
  std::vector<Pass> passes;
  const double cpu0 = cpu_seconds();
  attend::reset_engine_times();
  for (int r = 0; r < a.repeat; ++r) passes.push_back(run_pass(*model, lines, opt, eos, 0));
  const attend::EngineTimes et = attend::engine_times();
  // CPU time per timed run: less sensitive than wall time to other work on a shared machine
  // (but it counts OpenMP spin-waiting too, see OMP_WAIT_POLICY in docs/performance.md).
  const double cpu_per_run = (cpu_seconds() - cpu0) / a.repeat;

  std::vector<double> secs, all_ms;
  bool identical = true;
  for (const auto& p : passes) {
    secs.push_back(p.seconds);
    all_ms.insert(all_ms.end(), p.batch_ms.begin(), p.batch_ms.end());
    identical = identical && p.texts == passes[0].texts;
  }
  const double median_s = percentile(secs, 50.0);
  // Where the timed runs' wall time went (all runs together), as shares of it.
  double total_s = 0.0;
  for (double v : secs) total_s += v;
  auto share = [total_s](double v) { return total_s > 0.0 ? v / total_s : 0.0; };
  const double rest_s =
      std::max(0.0, total_s - et.matmul_s - et.linear_extra_s - et.attention_s - et.norm_s - et.search_s);
  const Pass& first = passes[0];
  const double tok_s = static_cast<double>(first.tokens) / median_s;
  const double tok_eos_s = static_cast<double>(first.tokens_with_eos) / median_s;
  const double sent_s = static_cast<double>(lines.size()) / median_s;
  const double rss = peak_rss_mb();
  const std::string threads = a.threads > 0 ? std::to_string(a.threads)
                                            : "default (" + std::to_string(std::thread::hardware_concurrency()) + " cores)";
  const attend::ModelInfo minfo = model->info();
  const std::string compute =
      minfo.compute_type + (minfo.compute_type_note.empty() ? "" : " (" + minfo.compute_type_note + ")");
  const std::string model_label = model_path_or_default(a.model);

  if (a.json) {
    nlohmann::json j = {{"model", model_label},
                        {"input", a.input},
                        {"sentences", lines.size()},
                        {"beam_size", a.beam_size},
                        {"batch_size", a.batch_size},
                        {"batch_type", a.batch_type},
                        {"threads", a.threads},
                        {"compute_type", compute},
                        {"cpu", minfo.cpu_model},
                        {"cpu_isa", minfo.cpu_isa},
                        {"repeat", a.repeat},
                        {"target_tokens", first.tokens},
                        {"target_tokens_with_eos", first.tokens_with_eos},
                        {"seconds", secs},
                        {"median_seconds", median_s},
                        {"target_tokens_per_s", tok_s},
                        {"target_tokens_with_eos_per_s", tok_eos_s},
                        {"sentences_per_s", sent_s},
                        {"batch_latency_p50_ms", percentile(all_ms, 50.0)},
                        {"batch_latency_p90_ms", percentile(all_ms, 90.0)},
                        {"batches", first.batch_ms.size()},
                        {"cpu_seconds_per_run", cpu_per_run},
                        {"load_seconds", load_s},
                        {"peak_rss_mb", rss},
                        {"matmul_share", share(et.matmul_s)},
                        {"profile_shares",
                         {{"matmul", share(et.matmul_s)},
                          {"quantize_and_epilogue", share(et.linear_extra_s)},
                          {"attention", share(et.attention_s)},
                          {"norm", share(et.norm_s)},
                          {"search", share(et.search_s)},
                          {"other", share(rest_s)}}},
                        {"matmul_calls_per_run", et.matmul_calls / a.repeat},
                        {"outputs_identical_across_repeats", identical}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("model:            %s\n", model_label.c_str());
    std::printf("workload:         %zu sentences, beam %s, batch %d %s, %zu batches\n", lines.size(),
                a.beam_size > 0 ? std::to_string(a.beam_size).c_str() : "(model default)", a.batch_size,
                a.batch_type.c_str(), first.batch_ms.size());
    std::printf("compute type:     %s\nthreads:          %s\n", compute.c_str(), threads.c_str());
    std::printf("cpu:              %s, %s\n", minfo.cpu_model.c_str(), minfo.cpu_isa.c_str());
    std::printf("runs:             %d timed (+ %d warm-up batch%s), seconds:", a.repeat, a.warmup,
                a.warmup == 1 ? "" : "es");
    for (double s : secs) std::printf(" %.3f", s);
    std::printf("\ntarget tokens:    %zu (%zu with EOS)\n", first.tokens, first.tokens_with_eos);
    std::printf("target tokens/s:  %.1f (median run; %.1f counting EOS)\n", tok_s, tok_eos_s);
    std::printf("sentences/s:      %.2f\n", sent_s);
    std::printf("matmul share:     %.1f%% of the timed wall time in oneDNN matmuls (%lld calls per run)\n",
                100.0 * share(et.matmul_s), et.matmul_calls / a.repeat);
    std::printf("rest of the time: quantize+epilogue %.1f%%, attention %.1f%%, norms %.1f%%, search %.1f%%, other %.1f%%\n",
                100.0 * share(et.linear_extra_s), 100.0 * share(et.attention_s), 100.0 * share(et.norm_s),
                100.0 * share(et.search_s), 100.0 * share(rest_s));
    std::printf("CPU time:         %.2f s per run (user + system, all threads; %.1f target tokens per CPU second)\n",
                cpu_per_run, static_cast<double>(first.tokens) / cpu_per_run);
    std::printf("batch latency:    p50 %.1f ms, p90 %.1f ms\n", percentile(all_ms, 50.0), percentile(all_ms, 90.0));
    std::printf("model load:       %.3f s\n", load_s);
    std::printf("peak RSS:         %.1f MB\n", rss);
    std::printf("outputs identical across runs: %s\n", identical ? "yes" : "NO");
  }
  if (!a.output.empty()) {
    std::string content;
    for (const auto& t : first.texts) content += t + "\n";
    write_file_atomically(a.output, content);
  }
  return identical ? 0 : 1;
}

const RegisterSubcommand registered(60, [](CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* b = app.add_subcommand("bench", "Measure translation speed and memory on a file of sentences");
  b->add_option("-m,--model", a->model, std::string(kModelOptionHelp) + " (default: the bundled model)");
  add_hub_options(b, a->hub);
  b->add_option("-i,--input", a->input, "Input file, one sentence per line")->required();
  b->add_option("-o,--output", a->output, "Write the translations (first timed run, input order) to this file");
  b->add_option("--beam-size", a->beam_size, "Beam size (default: the model's num_beams)")->check(CLI::Range(1, 256));
  b->add_option("--batch-size", a->batch_size, "Sentences (or tokens, with --batch-type tokens) per batch")
      ->check(CLI::Range(1, 1 << 20));
  b->add_option("--batch-type", a->batch_type, "What --batch-size counts: examples or tokens (padded)")
      ->check(CLI::IsMember({"examples", "tokens"}));
  b->add_option("--threads", a->threads, "Compute threads (default: all cores)")->check(CLI::Range(1, 1024));
  b->add_option("--compute-type", a->compute_type,
                 "Matmul arithmetic: auto (fastest on this CPU), default (as the file was quantized), fp32, bf16, int8")
      ->check(CLI::IsMember({"default", "auto", "fp32", "bf16", "int8"}));
  b->add_option("--max-sentences", a->max_sentences, "Use only the first N input lines")->check(CLI::Range(1, 1 << 30));
  b->add_option("--min-new-tokens", a->min_new_tokens, "Generate at least N tokens (EOS suppressed before)")
      ->check(CLI::Range(0, 100000));
  b->add_option("--max-new-tokens", a->max_new_tokens, "Generate at most N tokens (min = max: fixed output length)")
      ->check(CLI::Range(1, 100000));
  b->add_option("--repeat", a->repeat, "Timed runs over the whole input; the median is reported")
      ->check(CLI::Range(1, 1000));
  b->add_option("--warmup", a->warmup, "Untimed batches run first (primitive creation, caches)")
      ->check(CLI::Range(0, 1000));
  b->add_flag("--json", a->json, "Print the figures as one JSON object");
  b->add_option("--attention", a->attention, "Also return cross-attention: off, mean (last layer, mean over heads) "
                "or all (every layer and head)")->check(CLI::IsMember({"off", "mean", "all"}))->capture_default_str();
  b->add_option("--shortlist", a->shortlist, "Vocabulary shortlist file (attend shortlist build)");
  return Subcommand{b, [a] { return run_bench(*a); }};
});

}  // namespace
}  // namespace attend_cli

// tests/bench/bench_matmul.cpp — the matmul floor of one decoder step: times every Linear layer
// of a decoder step (6 layers, 3 for `bundled`: q|k|v, self-attention output, cross-attention query and output,
// FFN in and out, then the LM head) through engine/dnnl_ops' Linear, exactly as the decode runs
// them, with random weights of a reference shape. Prints the median time per step of each
// layer kind and the throughput the step's matmuls alone would allow (no attention, softmax,
// beam search or threading overhead): the ceiling the rest of the decode is measured against.
//
//   attend-bench-matmul [--shape opus-mt|t5-small|bundled] [--rows 128] [--beam 4]
//                       [--compute-type fp32|bf16|int8] [--threads 2] [--repeat 50]
//
// rows = batch × beam (128 = beam 4 × batch 32); one step yields rows / beam target tokens.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "engine/kernels/compute_type.hpp"
#include "engine/kernels/dnnl_ops.hpp"
#include "engine/kernels/quantize.hpp"
#include "engine/lm_head.hpp"
#include "tests/bench/bench_timing.hpp"

namespace {

struct Layer {
  std::string name;
  int64_t in, out;
  attend::Epilogue ep;
  int per_step;  // how many of this kind run per step (one per decoder layer; 1 for the LM head)
};

// One row of the table: a layer kind's median time per call, per step and throughput.
void report(const std::string& name, const bench::Timing& t, int per_step, double ops) {
  std::printf("  %-26s %8.3f ms  x%-2d = %8.3f ms per step  (%6.1f GOP/s; CPU %7.3f ms per call)\n", name.c_str(),
              t.median_ms, per_step, t.median_ms * per_step, ops / (t.median_ms * 1e6), t.cpu_ms);
}

int usage(const char* msg) {
  std::fprintf(stderr,
               "attend-bench-matmul: %s\nusage: attend-bench-matmul [--shape opus-mt|t5-small|bundled] [--rows N] "
               "[--beam N] [--compute-type fp32|bf16|int8] [--threads N] [--repeat N]\n",
               msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape = "opus-mt", ct_name = "int8";
  int rows = 128, beam = 4, threads = 2, repeat = 50;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + a).c_str());
    const char* v = argv[++i];
    if (a == "--shape") shape = v;
    else if (a == "--compute-type") ct_name = v;
    else if (a == "--rows") rows = std::atoi(v);
    else if (a == "--beam") beam = std::atoi(v);
    else if (a == "--threads") threads = std::atoi(v);
    else if (a == "--repeat") repeat = std::atoi(v);
    else return usage(("unknown option " + a).c_str());
  }
  if (rows <= 0 || beam <= 0 || threads <= 0 || repeat <= 0) return usage("numbers must be positive");
  // d_model, FFN width, decoder layers, vocabulary
  int64_t d = 512, ffn = 2048, layers = 6, vocab = 0;
  if (shape == "opus-mt") vocab = 54688;
  else if (shape == "t5-small") vocab = 32128;
  else if (shape == "bundled") d = 256, ffn = 1024, layers = 3, vocab = 15329;  // models/default
  else return usage(("unknown shape " + shape).c_str());
  attend::ComputeType ct;
  if (ct_name == "fp32") ct = attend::ComputeType::F32;
  else if (ct_name == "bf16") ct = attend::ComputeType::BF16;
  else if (ct_name == "int8") ct = attend::ComputeType::I8;
  else return usage(("unknown compute type " + ct_name).c_str());
  omp_set_num_threads(threads);

  auto dims = [](int64_t a, int64_t b) { return std::to_string(a) + "x" + std::to_string(b); };
  const std::string dd = dims(d, d);
  const std::vector<Layer> kinds = {
      {"self q|k|v      " + dims(d, 3 * d), d, 3 * d, attend::Epilogue::None, static_cast<int>(layers)},
      {"self out        " + dd, d, d, attend::Epilogue::Accumulate, static_cast<int>(layers)},
      {"cross q         " + dd, d, d, attend::Epilogue::None, static_cast<int>(layers)},
      {"cross out       " + dd, d, d, attend::Epilogue::Accumulate, static_cast<int>(layers)},
      {"ffn in          " + dims(d, ffn), d, ffn, attend::Epilogue::Activation, static_cast<int>(layers)},
      {"ffn out         " + dims(ffn, d), ffn, d, attend::Epilogue::Accumulate, static_cast<int>(layers)},
      {"lm head", d, vocab, attend::Epilogue::None, 1},
  };
  std::mt19937 gen(1);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::printf("shape %s, rows %d (beam %d: %d target tokens per step), compute type %s, %d threads, %d repeats\n",
              shape.c_str(), rows, beam, rows / beam, ct_name.c_str(), threads, repeat);
  double step_ms = 0.0, step_cpu_ms = 0.0;
  for (const Layer& k : kinds) {
    std::vector<float> w(static_cast<size_t>(k.in * k.out)), bias(static_cast<size_t>(k.out));
    for (float& x : w) x = dist(gen);
    for (float& x : bias) x = dist(gen);
    attend::Linear lin;
    lin.init(w.data(), k.out, k.in, bias.data(), k.ep, attend::Activation::Swish, ct);
    std::vector<float> x(static_cast<size_t>(rows * k.in)), y(static_cast<size_t>(rows * k.out), 0.0f);
    for (float& v : x) v = dist(gen) * 20.0f;
    const double ops = 2.0 * rows * k.in * k.out;
    // one untimed call: primitive creation, first touch
    const bench::Timing whole = bench::time_calls(1, repeat, [&] { lin.forward(x.data(), rows, y.data()); });
    report(k.name, whole, k.per_step, ops);
    if (k.per_step == 1 && ct == attend::ComputeType::I8 && k.out >= 2 * attend::LmHead::kBlockColumns) {
      // The engine runs an int8 LM head in column blocks, one block per thread, from rows
      // quantized once (engine/lm_head): that is its floor (the whole-layer row above is
      // kept for comparison).
      const int64_t B = attend::LmHead::kBlockColumns;
      std::vector<std::unique_ptr<attend::Linear>> blocks;
      for (int64_t c0 = 0; c0 < k.out; c0 += B) {
        blocks.push_back(std::make_unique<attend::Linear>());
        blocks.back()->init(w.data() + c0 * k.in, std::min(B, k.out - c0), k.in, bias.data() + c0, attend::Epilogue::None,
                            attend::Activation::Relu, ct);
      }
      std::vector<int8_t> q(static_cast<size_t>(rows * k.in));
      std::vector<float> rs(static_cast<size_t>(rows));
      const bench::Timing blocked = bench::time_calls(1, repeat, [&] {
        attend::quantize_rows(x.data(), rows, k.in, q.data(), rs.data());
#pragma omp parallel
        {
          std::vector<float> out(static_cast<size_t>(rows * B));
#pragma omp for schedule(dynamic, 1)
          for (size_t b = 0; b < blocks.size(); ++b) blocks[b]->forward_quantized(q.data(), rows, out.data());
        }
      });
      report("lm head, " + std::to_string(blocks.size()) + " blocks", blocked, 1, ops);
      step_ms += blocked.median_ms;
      step_cpu_ms += blocked.cpu_ms;
      continue;
    }
    step_ms += whole.median_ms * k.per_step;
    step_cpu_ms += whole.cpu_ms * k.per_step;
  }
  const double tokens_per_step = static_cast<double>(rows) / beam;
  std::printf("matmuls per step: %.3f ms -> at most %.1f target tokens/s from the matmuls alone\n", step_ms,
              tokens_per_step * 1000.0 / step_ms);
  std::printf("CPU time per step: %.3f ms (all threads; %.1f ms per step if the %d threads split it evenly)\n",
              step_cpu_ms, step_cpu_ms / threads, threads);
  return 0;
}

// tests/bench/bench_attention.cpp — the decoder's attention core (engine/kernels/attention's
// attend_row) alone, at the shapes of one beam-search step: `rows` query rows (batch × beam) of
// `heads` × 64, self-attention over a cache of `length` positions whose slots the beams of an
// input share (as beam reordering leaves them), and cross-attention over `source` keys shared by
// the beams of an input. Random data; prints the median time per layer of each kind on 1 thread
// and on `threads` threads (rows split as the decoder splits them), so attention kernels can be
// compared without the noise of a whole decode.
//
//   attend-bench-attention [--rows 128] [--beam 4] [--heads 8] [--length 17] [--source 20]
//                          [--threads 2] [--repeat 200] [--exact] [--fp16] [--int8] [--unpacked]
//
// --exact: the in-order score sums (KeyValueView::fast_scores off, as bf16 runs use).
// --fp16: keys and values stored as IEEE half (KeyValueView::fp16).
// --int8: keys and values stored as 8-bit entries (attend::kv8_store, KeyValueView::k8).
// --unpacked: int8 score blocks of up to 8 keys fold one head at a time (attend::kPackScoreBlocks off).
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/attention.hpp"
#include "engine/kernels/half.hpp"
#include "tests/bench/bench_timing.hpp"

namespace {

int usage(const char* msg) {
  std::fprintf(stderr,
               "attend-bench-attention: %s\nusage: attend-bench-attention [--rows N] [--beam N] [--heads N] "
               "[--length N] [--source N] [--threads N] [--repeat N] [--exact] [--fp16] [--int8] [--unpacked]\n",
               msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 128, beam = 4, heads = 8, length = 17, source = 20, threads = 2, repeat = 200;
  bool exact = false, half = false, int8 = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--unpacked") {
      attend::kPackScoreBlocks = false;
      continue;
    }
    if (a == "--exact" || a == "--fp16" || a == "--int8") {
      (a == "--exact" ? exact : a == "--fp16" ? half : int8) = true;
      continue;
    }
    if (i + 1 >= argc) return usage(("missing value after " + a).c_str());
    const int v = std::atoi(argv[++i]);
    if (v <= 0) return usage(("not a positive number after " + a).c_str());
    if (a == "--rows") rows = v;
    else if (a == "--beam") beam = v;
    else if (a == "--heads") heads = v;
    else if (a == "--length") length = v;
    else if (a == "--source") source = v;
    else if (a == "--threads") threads = v;
    else if (a == "--repeat") repeat = v;
    else return usage(("unknown option " + a).c_str());
  }
  constexpr int dh = 64;
  const int64_t inner = static_cast<int64_t>(heads) * dh;
  const int inputs = (rows + beam - 1) / beam;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto fill = [&](std::vector<float>& v) {
    for (float& x : v) x = normal(rng);
  };
  // self-attention cache [rows][length][inner] with per-row slot tables: each position of a row
  // comes from one of its input's beams' slots
  std::vector<float> kc(static_cast<size_t>(rows) * length * inner), vc(kc.size());
  fill(kc);
  fill(vc);
  std::vector<int32_t> slots(static_cast<size_t>(rows) * length);
  for (int r = 0; r < rows; ++r) {
    const int first = r / beam * beam;
    for (int j = 0; j < length; ++j) {
      const int s = first + static_cast<int>(rng() % static_cast<unsigned>(beam));
      slots[static_cast<size_t>(r) * length + j] = std::min(s, rows - 1);
    }
  }
  // cross-attention keys|values per input [inputs][source][2 * inner], mask all ones
  std::vector<float> ckv(static_cast<size_t>(inputs) * source * 2 * inner);
  fill(ckv);
  std::vector<int32_t> mask(static_cast<size_t>(source), 1);
  // the same caches as IEEE half (--fp16)
  std::vector<uint16_t> kc16(kc.size()), vc16(vc.size()), ckv16(ckv.size());
  for (size_t i = 0; i < kc.size(); ++i) kc16[i] = attend::float_to_half(kc[i]), vc16[i] = attend::float_to_half(vc[i]);
  for (size_t i = 0; i < ckv.size(); ++i) ckv16[i] = attend::float_to_half(ckv[i]);
  // and as 8-bit entries (--int8): one per position, key or value
  const int64_t entry = static_cast<int64_t>(attend::kv8_entry_bytes(heads, dh));
  std::vector<int8_t> kc8, vc8, ckv8;
  if (int8) {
    kc8.resize(static_cast<size_t>(rows) * length * entry), vc8.resize(kc8.size());
    ckv8.resize(static_cast<size_t>(inputs) * source * 2 * entry);
    for (int64_t p = 0; p < static_cast<int64_t>(rows) * length; ++p) {
      attend::kv8_store(kc.data() + p * inner, heads, dh, kc8.data() + p * entry);
      attend::kv8_store(vc.data() + p * inner, heads, dh, vc8.data() + p * entry);
    }
    for (int64_t p = 0; p < static_cast<int64_t>(inputs) * source * 2; ++p)
      attend::kv8_store(ckv.data() + p * inner, heads, dh, ckv8.data() + p * entry);
  }
  std::vector<float> q(static_cast<size_t>(rows) * inner), ctx(q.size());
  fill(q);
  const float scale = 0.125f;
  const size_t scratch_len = attend::attend_row_scratch(heads, std::max(length, source));

  auto run = [&](int nthreads, bool self) {
    std::vector<float> scratch(static_cast<size_t>(nthreads) * scratch_len);
    return bench::time_calls(5, repeat, [&] {
#pragma omp parallel for schedule(static) num_threads(nthreads)
      for (int r = 0; r < rows; ++r) {
        attend::KeyValueView kv;
        kv.fast_scores = !exact;
        kv.fp16 = half;
        if (self) {
          kv.k = kc.data();
          kv.v = vc.data();
          if (half) kv.k16 = kc16.data(), kv.v16 = vc16.data();
          kv.stride = inner;
          if (int8) kv.k8 = kc8.data(), kv.v8 = vc8.data(), kv.stride = entry;
          kv.slots = slots.data() + static_cast<size_t>(r) * length;
          kv.slot_stride = static_cast<int64_t>(length) * kv.stride;
          kv.length = length;
        } else {
          kv.k = ckv.data() + static_cast<size_t>(r / beam) * source * 2 * inner;
          kv.v = kv.k + inner;
          if (half) {
            kv.k16 = ckv16.data() + static_cast<size_t>(r / beam) * source * 2 * inner;
            kv.v16 = kv.k16 + inner;
          }
          kv.stride = 2 * inner;
          if (int8) {
            kv.k8 = ckv8.data() + static_cast<size_t>(r / beam) * source * 2 * entry;
            kv.v8 = kv.k8 + entry;
            kv.stride = 2 * entry;
          }
          kv.length = source;
          kv.mask = mask.data();
        }
        attend::attend_row(q.data() + static_cast<size_t>(r) * inner, kv, attend::ScoreBias{}, heads, dh, scale,
                           ctx.data() + static_cast<size_t>(r) * inner,
                           scratch.data() + static_cast<size_t>(omp_get_thread_num()) * scratch_len);
      }
    }).median_ms;
  };
  std::printf("attention core: %d rows (beam %d), %d heads x %d, self over %d positions, cross over %d keys%s%s\n", rows,
              beam, heads, dh, length, source, exact ? ", in-order score sums" : "", half ? ", fp16 cache" : int8 ? ", int8 cache" : "");
  for (int n : {1, threads}) {
    const double s = run(n, true), c = run(n, false);
    std::printf("  %d thread%s: self %.4f ms, cross %.4f ms per layer (%.1f ns per row-position)\n", n,
                n == 1 ? " " : "s", s, c, 1e6 * (s + c) * n / (static_cast<double>(rows) * (length + source)));
    if (n == threads) break;
  }
  double check = 0;  // keeps the results live
  for (float x : ctx) check += x;
  std::printf("  (checksum %.6g)\n", check);
  return 0;
}

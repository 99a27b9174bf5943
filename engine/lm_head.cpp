// engine/lm_head.cpp — the LM head, whole or in int8 column blocks finished per thread in cache
// (see the header).
#include "engine/lm_head.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "attend/error.hpp"
#include "engine/kernels/profile.hpp"
#include "engine/kernels/quantize.hpp"
#include "engine/kernels/simd.hpp"

namespace attend {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

using Clock = std::chrono::steady_clock;
inline int64_t ns_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
}

// Inserts (s, id) into a list of `count` entries sorted best first (higher value, then lower
// id), keeping at most k (the last one drops out when full; the caller checked it beats it).
// Returns the new count.
inline int insert_sorted(float s, int32_t id, int k, int count, int32_t* ids, float* vals) {
  int pos = count < k ? count : k - 1;  // slot that gets freed / filled
  while (pos > 0 && (vals[pos - 1] < s || (vals[pos - 1] == s && ids[pos - 1] > id))) {
    vals[pos] = vals[pos - 1];
    ids[pos] = ids[pos - 1];
    --pos;
  }
  vals[pos] = s;
  ids[pos] = id;
  return count < k ? count + 1 : count;
}

// Offers entry (s, id) to a running list of the k best (count filled, best first, equal values
// by lower id) that it passed the threshold scan of: -inf, NaN, an entry equal to a full list's
// k-th with a higher id and ids in the sorted ban range [ban, ban_end) stay out. Returns the new
// count.
inline int offer(float s, int32_t id, int k, const int32_t* ban, const int32_t* ban_end, int count, int32_t* ids,
                 float* vals) {
  if (s == kNegInf || std::isnan(s)) return count;
  if (count == k && s == vals[k - 1] && id > ids[k - 1]) return count;
  if (ban != ban_end && std::binary_search(ban, ban_end, id)) return count;
  return insert_sorted(s, id, k, count, ids, vals);
}

// Adds row[0, n) (column c0 + v) to a running list of the k best entries (count of them
// filled, best first, equal values by lower column) and returns the new count; columns in the
// sorted range [ban, ban_end), -inf and NaN never enter. Once the list is full,
// simd::first_above skips every entry below the k-th (most of the row). Blocks may come in any
// order: an entry equal to the k-th with a lower column still enters, so the list is the same
// whatever the order.
int add_top_k(const float* row, int64_t n, int32_t c0, int k, const int32_t* ban, const int32_t* ban_end, int count,
              int32_t* ids, float* vals) {
  for (int64_t v = 0; v < n; ++v) {
    if (count == k) {
      v = simd::first_above(row, v, n, 0.0f, simd::next_below(vals[k - 1]));
      if (v == n) break;
    }
    count = offer(row[v], c0 + static_cast<int32_t>(v), k, ban, ban_end, count, ids, vals);
  }
  return count;
}

// add_top_k for a row whose list was full (count == k) when sum_exp_hits marked, in `hits`, the
// entries above the k-th value of that moment: only those are visited (the threshold only
// rises, so every entry add_top_k's scan would stop at is among them), each checked against the
// threshold of its turn exactly as the scan does. Same list as add_top_k.
int add_top_k_hits(const float* row, const uint16_t* hits, int64_t n, int32_t c0, int k, const int32_t* ban,
                   const int32_t* ban_end, int count, int32_t* ids, float* vals) {
  const int64_t groups = (n + 15) / 16;
  for (int64_t g = 0; g < groups; ++g) {
    if (g % 4 == 0 && g + 4 <= groups) {  // four groups' masks at once: most blocks have no hit
      uint64_t four;
      std::memcpy(&four, hits + g, sizeof four);
      if (four == 0) {
        g += 3;
        continue;
      }
    }
    for (unsigned h = hits[g]; h != 0; h &= h - 1) {
      const int64_t v = g * 16 + __builtin_ctz(h);
      if (!(0.0f + row[v] > simd::next_below(vals[k - 1]))) continue;
      count = offer(row[v], c0 + static_cast<int32_t>(v), k, ban, ban_end, count, ids, vals);
    }
  }
  return count;
}

// The reference a block's softmax sum is taken against, from the block's max m alone (so the
// sum does not depend on which thread ran the block, or on which path): 0 — the terms are
// exp(v) itself — while m lies in [-40, 80], where no term overflows and the terms that
// underflow are below e^-47 of the largest; else m.
float sum_reference(float m) { return m >= -40.0f && m <= 80.0f ? 0.0f : m; }

// Per calling thread: the quantized rows and the per-block partial results of top_k.
struct Scratch {
  std::vector<int8_t> q;
  std::vector<float> row_scale;
  std::vector<float> part_max, part_ref, part_sum, part_vals;
  std::vector<int32_t> part_ids;
  std::vector<int> part_count;
  // the rows' banned lists back to back (row r: ban_ids[ban_at[r], ban_at[r + 1])): a few cache
  // lines every block reads, where the lists themselves lie in as many heap blocks as rows
  std::vector<int32_t> ban_ids;
  std::vector<size_t> ban_at;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}
// Per OpenMP thread: one row's hit masks (simd::sum_exp_hits) for blocks of up to n columns.
uint16_t* block_hits(int64_t n) {
  thread_local std::vector<uint16_t> h;
  if (h.size() < static_cast<size_t>((n + 15) / 16)) h.resize(static_cast<size_t>((n + 15) / 16));
  return h.data();
}
// Per OpenMP thread: one row's entries at its hits (simd::scale_bias_sum_exp_hits).
float* block_hit_values(int64_t n) {
  thread_local std::vector<float> v;
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}
// Per OpenMP thread: one block's product.
// A block row's maximum that leaves nothing to sum: every entry excluded (-inf) or NaN logits.
bool no_maximum(float m) { return m == kNegInf || std::isnan(m); }

std::vector<float>& block_out() {
  thread_local std::vector<float> y;
  return y;
}

}  // namespace

void LmHead::init(const float* weight, int64_t vocab, int64_t d, const float* bias, ComputeType ct,
                  const Linear::RowsDone& rows_done, int64_t block_columns) {
  vocab_ = vocab;
  d_ = d;
  blocks_.clear();
  block_ = block_columns > 0 ? block_columns : kBlockColumns;
  const int64_t min_blocks = ct == ComputeType::F32 && block_columns <= 0 ? kF32MinBlocks : 2;
  if ((ct == ComputeType::I8 || ct == ComputeType::F32) && vocab >= min_blocks * block_) {
    bool ok = true;
    for (int64_t c0 = 0; c0 < vocab && ok; c0 += block_) {
      const int64_t n = std::min(block_, vocab - c0);
      auto lin = std::make_unique<Linear>();
      Linear::RowsDone done;
      if (rows_done) done = [&rows_done, c0](int64_t r0, int64_t r1) { rows_done(c0 + r0, c0 + r1); };
      // int8: the channel scales in the row pass, so that the blocks share their primitives
      lin->init(weight + c0 * d, n, d, bias ? bias + c0 : nullptr, Epilogue::None, Activation::Relu, ct, done,
                ct == ComputeType::I8);
      ok = lin->compute_type() == ct;  // this CPU/oneDNN cannot: the whole layer decides
      blocks_.push_back(std::move(lin));
    }
    if (ok) return;
    blocks_.clear();
  }
  whole_.init(weight, vocab, d, bias, Epilogue::None, Activation::Relu, ct, rows_done);
}

template <class Fn>
void LmHead::run_blocks(const float* x, int64_t M, Fn fn) const {
  Scratch& sc = scratch();
  if (blocks_.front()->compute_type() == ComputeType::F32) {
    // fp32 blocks: the product is final (bias fused by oneDNN); a row scale of 1 leaves it so
    sc.row_scale.assign(static_cast<size_t>(M), 1.0f);
    run_blocks_with(M, sc.row_scale.data(), [x, M](const Linear& L, float* y) {
      profile::Mute mute(true);  // timed by run_blocks_with, not again by Linear::forward
      L.forward(x, M, y);
    }, fn);
    return;
  }
  {
    profile::Scope timed(profile::Part::LinearExtra);
    sc.q.resize(static_cast<size_t>(M * d_));
    sc.row_scale.resize(static_cast<size_t>(M));
    quantize_rows(x, M, d_, sc.q.data(), sc.row_scale.data());
  }
  run_blocks_quantized(sc.q.data(), sc.row_scale.data(), M, fn);
}

template <class Fn>
void LmHead::run_blocks_quantized(const int8_t* q, const float* rs, int64_t M, Fn fn) const {
  run_blocks_with(M, rs, [q, M](const Linear& L, float* y) { L.forward_quantized(q, M, y); }, fn);
}

template <class Product, class Fn>
void LmHead::run_blocks_with(int64_t M, const float* rs, Product product, Fn fn) const {
  const int64_t nblocks = static_cast<int64_t>(blocks_.size());
  int64_t matmul_ns = 0, rest_ns = 0;
  const auto t0 = Clock::now();
#pragma omp parallel reduction(+ : matmul_ns, rest_ns)
  {
    std::vector<float>& y = block_out();
    if (y.size() < static_cast<size_t>(M * block_)) y.resize(static_cast<size_t>(M * block_));
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < nblocks; ++b) {
      const Linear& L = *blocks_[static_cast<size_t>(b)];
      const auto a = Clock::now();
      product(L, y.data());
      const auto m = Clock::now();
      fn(b, b * block_, L.out_features(), y.data(), rs);
      matmul_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(m - a).count();
      rest_ns += ns_since(m);
    }
  }
  // The region's wall time, split by the threads' shares (summing the threads' own times
  // would count the same wall time twice).
  const int64_t wall = ns_since(t0);
  const int64_t busy = matmul_ns + rest_ns;
  const int64_t mm = busy > 0 ? static_cast<int64_t>(static_cast<double>(wall) * matmul_ns / busy) : 0;
  profile::add(profile::Part::Matmul, mm);
  profile::add(profile::Part::Search, wall - mm);
}

void LmHead::forward(const float* x, int64_t M, float* y) const {
  if (!blocked()) return whole_.forward(x, M, y);
  if (M <= 0) return;
  const int64_t V = vocab_;
  run_blocks(x, M, [&](int64_t b, int64_t c0, int64_t n, float* out, const float* rs) {
    const Linear& L = *blocks_[static_cast<size_t>(b)];
    const bool finish = L.compute_type() == ComputeType::I8;  // fp32 blocks: final already
    for (int64_t r = 0; r < M; ++r) {
      float* row = out + r * n;
      if (finish) L.finish_row(row, rs[r]);
      std::memcpy(y + r * V + c0, row, static_cast<size_t>(n) * sizeof(float));
    }
  });
}

bool LmHead::forward_deferred(const float* x, int64_t M, float* y, float* row_scale) const {
  if (!blocked()) return whole_.forward_deferred(x, M, y, row_scale);
  forward(x, M, y);
  return false;
}

void LmHead::finish_row(float* y_row, float row_scale) const {
  if (blocked()) throw Error("lm head: finish_row on a blocked head (its rows are final)");
  whole_.finish_row(y_row, row_scale);
}

void LmHead::top_k(const float* x, int64_t M, RowTopK& io) const { top_k_impl(x, nullptr, nullptr, M, io); }

void LmHead::top_k_quantized(const int8_t* q, const float* row_scale, int64_t M, RowTopK& io) const {
  top_k_impl(nullptr, q, row_scale, M, io);
}

// top_k from float rows x, or from quantized rows q (scales row_scale) when x is null.
void LmHead::top_k_impl(const float* x, const int8_t* q, const float* row_scale, int64_t M, RowTopK& io) const {
  if (!blocked()) throw Error("lm head: top_k needs the blocked head");
  if (q && blocks_.front()->compute_type() != ComputeType::I8) throw Error("lm head: quantized rows for an fp32 head");
  if (io.k <= 0) throw Error("lm head: top_k needs k > 0");
  if (io.banned && static_cast<int64_t>(io.banned->size()) != M) throw Error("lm head: one banned list per row");
  const int k = io.k;
  const size_t nb = blocks_.size();
  const size_t nthreads = static_cast<size_t>(std::max(1, omp_get_max_threads()));
  // per (row, block) the block's max and its sum of exp against a reference that depends on the
  // block alone (combined in block order below, so the result does not depend on which thread
  // ran which block); per (thread, row) a running list of the best k (its threshold carries
  // over from block to block)
  Scratch& sc = scratch();
  sc.part_max.resize(static_cast<size_t>(M) * nb);
  sc.part_ref.resize(static_cast<size_t>(M) * nb);
  sc.part_sum.resize(static_cast<size_t>(M) * nb);
  sc.part_count.assign(nthreads * static_cast<size_t>(M), 0);
  sc.part_ids.resize(nthreads * static_cast<size_t>(M) * k);
  sc.part_vals.resize(nthreads * static_cast<size_t>(M) * k);
  float* part_max = sc.part_max.data();
  float* part_ref = sc.part_ref.data();
  float* part_sum = sc.part_sum.data();
  int* part_count = sc.part_count.data();
  int32_t* part_ids = sc.part_ids.data();
  float* part_vals = sc.part_vals.data();
  const int32_t excluded = io.excluded;
  const bool banned = io.banned != nullptr;
  if (banned) {
    sc.ban_ids.clear();
    sc.ban_at.assign(1, 0);
    for (const std::vector<int32_t>& list : *io.banned) {
      sc.ban_ids.insert(sc.ban_ids.end(), list.begin(), list.end());
      sc.ban_at.push_back(sc.ban_ids.size());
    }
  }
  const int32_t* ban_ids = sc.ban_ids.data();
  const size_t* ban_at = sc.ban_at.data();
  auto block = [&](int64_t b, int64_t c0, int64_t n, float* out, const float* rs) {
    const Linear& L = *blocks_[static_cast<size_t>(b)];
    const int32_t first = static_cast<int32_t>(c0), last = static_cast<int32_t>(c0 + n);
    const bool has_excluded = excluded >= first && excluded < last;
    const size_t list0 = static_cast<size_t>(omp_get_thread_num()) * static_cast<size_t>(M);
    uint16_t* hits = block_hits(n);
    float* hit_values = block_hit_values(n);
    for (int64_t r = 0; r < M; ++r) {
      float* row = out + r * n;
      const size_t at = static_cast<size_t>(r) * nb + static_cast<size_t>(b);
      const int32_t* ban = nullptr;
      const int32_t* ban_end = nullptr;
      if (banned) {
        const int32_t* list_end = ban_ids + ban_at[r + 1];
        ban = std::lower_bound(ban_ids + ban_at[r], list_end, first);
        ban_end = std::lower_bound(ban, list_end, last);
      }
      const size_t li = list0 + static_cast<size_t>(r);
      int32_t* ids = part_ids + li * k;
      float* vals = part_vals + li * k;
      if (part_count[li] == k && !has_excluded) {
        // Most blocks: the row's epilogue, max, softmax sum and the entries above the current
        // k-th in one pass, the row itself never written (sum and hits as the path below
        // computes them, bit for bit).
        const float threshold = simd::next_below(vals[k - 1]);
        float m = kNegInf;
        float sum = L.finish_row_sum_exp_hits(row, rs[r], 0.0f, threshold, hits, hit_values, &m);
        const float ref = sum_reference(m);
        if (ref != 0.0f) sum = L.finish_row_sum_exp_hits(row, rs[r], ref, threshold, hits, hit_values, &m);
        part_max[at] = m;
        part_ref[at] = ref;
        part_sum[at] = no_maximum(m) ? 0.0f : sum;
        part_count[li] = add_top_k_hits(hit_values, hits, n, first, k, ban, ban_end, part_count[li], ids, vals);
        continue;
      }
      float m = L.finish_row_max(row, rs[r]);  // the row's epilogue and its max in one pass
      if (has_excluded) {
        row[excluded - first] = kNegInf;
        m = simd::max_value(row, n);
      }
      const float ref = sum_reference(m);
      part_max[at] = m;
      part_ref[at] = ref;
      const bool none = no_maximum(m);
      if (part_count[li] == k && !none) {
        // the softmax sum and the entries above the current k-th in one pass
        part_sum[at] = simd::sum_exp_hits(row, n, ref, simd::next_below(vals[k - 1]), hits);
        part_count[li] = add_top_k_hits(row, hits, n, first, k, ban, ban_end, part_count[li], ids, vals);
      } else {
        part_sum[at] = none ? 0.0f : simd::sum_exp_hits(row, n, ref, 0.0f, nullptr);
        part_count[li] = add_top_k(row, n, first, k, ban, ban_end, part_count[li], ids, vals);
      }
    }
  };
  if (x) run_blocks(x, M, block);
  else run_blocks_quantized(q, row_scale, M, block);
  // Per row: the softmax terms from the blocks' (max, sum) and the best k of the threads' lists.
  const auto t0 = Clock::now();
  io.max.assign(static_cast<size_t>(M), kNegInf);
  io.lse.assign(static_cast<size_t>(M), 0.0f);
  io.count.assign(static_cast<size_t>(M), 0);
  io.ids.assign(static_cast<size_t>(M) * k, -1);
  io.logits.assign(static_cast<size_t>(M) * k, kNegInf);
#pragma omp parallel for schedule(static) if (M > 8)
  for (int64_t r = 0; r < M; ++r) {
    const size_t base = static_cast<size_t>(r) * nb;
    float mx = kNegInf;
    bool nan = false;
    for (size_t b = 0; b < nb; ++b) {
      mx = std::max(mx, part_max[base + b]);
      nan = nan || std::isnan(part_max[base + b]);
    }
    if (nan) {  // NaN logits: no candidates, NaN scores
      io.max[static_cast<size_t>(r)] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    if (mx == kNegInf) continue;  // everything excluded: no candidates
    float sum = 0.0f;
    for (size_t b = 0; b < nb; ++b)
      if (part_max[base + b] != kNegInf)  // in double: exp(0 - mx) is no normal float for mx > 87
        sum += static_cast<float>(part_sum[base + b] * std::exp(static_cast<double>(part_ref[base + b]) - mx));
    io.max[static_cast<size_t>(r)] = mx;
    io.lse[static_cast<size_t>(r)] = std::log(sum);
    int32_t* ids = io.ids.data() + static_cast<size_t>(r) * k;
    float* vals = io.logits.data() + static_cast<size_t>(r) * k;
    int got = 0;
    for (size_t t = 0; t < nthreads; ++t) {
      const size_t li = t * static_cast<size_t>(M) + static_cast<size_t>(r);
      for (int i = 0; i < part_count[li]; ++i) {
        const float s = part_vals[li * k + i];
        const int32_t id = part_ids[li * k + i];
        if (got == k && !(s > vals[k - 1] || (s == vals[k - 1] && id < ids[k - 1]))) continue;
        got = insert_sorted(s, id, k, got, ids, vals);
      }
    }
    io.count[static_cast<size_t>(r)] = got;
  }
  profile::add(profile::Part::Search, ns_since(t0));
}

}  // namespace attend

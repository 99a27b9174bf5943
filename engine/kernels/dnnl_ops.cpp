// engine/kernels/dnnl_ops.cpp — oneDNN primitives for linear layers and normalisation.
#include "engine/kernels/dnnl_ops.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "attend/error.hpp"
#include "engine/kernels/lane_sum.hpp"
#include "engine/kernels/profile.hpp"
#include "engine/kernels/quantize.hpp"
#include "engine/kernels/simd.hpp"

namespace attend {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream s(cpu_engine());
  return s;
}

namespace {

dnnl::algorithm eltwise_alg(Activation a) {
  switch (a) {
    case Activation::Relu: return dnnl::algorithm::eltwise_relu;
    case Activation::Gelu: return dnnl::algorithm::eltwise_gelu_erf;
    case Activation::GeluTanh: return dnnl::algorithm::eltwise_gelu_tanh;
    case Activation::Swish: return dnnl::algorithm::eltwise_swish;
  }
  return dnnl::algorithm::eltwise_relu;
}

float eltwise_alpha(Activation a) { return a == Activation::Swish ? 1.0f : 0.0f; }

// Row count used to pick the blocked weight layout at load time: typical of a decoder step
// over a batch of beams, and large enough for the encoder's blocking to apply.
constexpr int64_t kLayoutRows = 64;

// Per-thread buffers of Linear::forward (bf16/int8 source copies, scratchpads, int8 outputs).
// They only grow, so after the first batches a forward() allocates nothing.
struct ThreadBuffers {
  std::vector<uint8_t> src;       // bf16 or s8 copy of x
  std::vector<float> row_scale;   // int8: one scale per row of x
  std::vector<float> tmp;         // int8 Accumulate: matmul output before it is added to y
  std::vector<uint8_t> scratch;   // oneDNN scratchpad (user mode)
};

ThreadBuffers& thread_buffers() {
  thread_local ThreadBuffers b;
  return b;
}

template <class T>
T* grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// int8 epilogue for one row: r = row_scale * acc + bias, then the layer's epilogue into y, all
// through simd's one activation table.
// cs: the channel scales when the primitive left them out (Linear::init's scales_in_epilogue).
void int8_epilogue_row(const float* acc, float rs, const float* bias, const float* cs, int64_t n, Epilogue ep,
                       Activation act, const float* aux, float* y) {
  switch (ep) {
    case Epilogue::None: simd::scale_bias(acc, rs, bias, n, simd::Act::None, y, cs); return;
    case Epilogue::Accumulate: simd::scale_bias_add(acc, rs, bias, n, y, cs); return;
    case Epilogue::Activation: simd::scale_bias(acc, rs, bias, n, simd::act_of(act), y, cs); return;
    case Epilogue::ActivateMul: simd::scale_bias_act_mul(acc, rs, bias, aux, n, simd::act_of(act), y, cs); return;
  }
}

}  // namespace

// One row count's primitive, with memory objects bound once so that forward() only swaps data
// handles. `busy` guards those objects; a thread that finds it taken builds its own (rare:
// two threads running the same layer with the same M at the same time).
struct Linear::Plan {
  int64_t M = 0;
  int threads = 0;  // OpenMP threads the primitive was made for (oneDNN fixes its split then)
  dnnl::matmul prim;
  size_t scratch_bytes = 0;
  std::mutex busy;
  memory src, dst, aux, scratch;
  std::unordered_map<int, memory> args;
};

dnnl::matmul::primitive_desc Linear::make_pd(int64_t M, const memory::desc& wdesc) const {
  const dt src_dt = ct_ == ComputeType::BF16 ? dt::bf16 : ct_ == ComputeType::I8 ? dt::s8 : dt::f32;
  memory::desc src({M, in_}, src_dt, tag::ab);
  memory::desc dst({M, out_}, dt::f32, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (ct_ == ComputeType::I8) {
    // channel scales only (none with scales_in_epilogue_); the rest is the row epilogue's
    if (!scales_in_epilogue_) attr.set_output_scales(2, col_scale_);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wdesc, dst), attr, cpu_engine());
  }
  dnnl::post_ops po;
  switch (epilogue_) {
    case Epilogue::None: break;
    case Epilogue::Activation: po.append_eltwise(1.0f, eltwise_alg(act_), eltwise_alpha(act_), 0.0f); break;
    case Epilogue::Accumulate: po.append_sum(1.0f); break;
    case Epilogue::ActivateMul:
      po.append_eltwise(1.0f, eltwise_alg(act_), eltwise_alpha(act_), 0.0f);
      po.append_binary(dnnl::algorithm::binary_mul, dst);
      break;
  }
  attr.set_post_ops(po);
  if (has_bias_) {
    memory::desc bias({1, out_}, dt::f32, tag::ab);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wdesc, bias, dst), attr, cpu_engine());
  }
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wdesc, dst), attr, cpu_engine());
}

// Output rows per conversion block of a large weight matrix: a multiple of the blocked layout's
// block along the output dimension (a sub-memory must start on a block boundary).
int64_t row_block_of(const memory::desc& md, int64_t out, int64_t in) {
  constexpr int64_t kBlockElems = int64_t{1} << 21;  // 2M weights (8 MB of float) per block
  if (out * in <= 2 * kBlockElems) return out;        // small: one piece
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind != dnnl_blocked) return out;
  int64_t blk = 1;
  for (int i = 0; i < d.format_desc.blocking.inner_nblks; ++i) {
    if (d.format_desc.blocking.inner_idxs[i] == 1) blk *= d.format_desc.blocking.inner_blks[i];
  }
  const int64_t rows = std::max<int64_t>(blk, kBlockElems / in / blk * blk);
  return rows >= out ? out : rows;
}

void Linear::init_weights(const float* weight, ComputeType compute, const RowsDone& rows_done) {
  auto& eng = cpu_engine();
  ct_ = compute;
  const dt wdt = ct_ == ComputeType::BF16 ? dt::bf16 : ct_ == ComputeType::I8 ? dt::s8 : dt::f32;
  memory::desc any_md({in_, out_}, wdt, tag::any);
  auto pd = make_pd(kLayoutRows, any_md);
  weights_ = memory(pd.weights_desc(), eng);
  // The HF [out, in] row-major matrix is the [in, out] weight matrix in "ba" order. Rows
  // [r0, r0 + n) of it are columns [r0, r0 + n) of that matrix: each block is reordered into
  // its sub-memory of the blocked weights (int8: quantized first, per channel as a whole).
  // int8 weights may carry a compensation buffer after the data (s8 x s8 on VNNI): no
  // sub-memory reorders then; the rows are quantized block by block into one int8 matrix
  // (a quarter of the float size) and reordered once.
  const bool has_extra = weights_.get_desc().data.extra.flags != 0;
  const int64_t block = row_block_of(weights_.get_desc(), out_, in_);
  if (ct_ == ComputeType::I8 && (has_extra || block == out_)) {
    std::vector<int8_t> q(static_cast<size_t>(out_ * in_));
    const int64_t qblock = block == out_ ? out_ : std::max<int64_t>(1, (int64_t{1} << 21) / in_);
    for (int64_t r0 = 0; r0 < out_; r0 += qblock) {
      const int64_t n = std::min(qblock, out_ - r0);
      quantize_per_channel(weight + r0 * in_, n, in_, q.data() + r0 * in_, col_scale_.data() + r0);
      if (rows_done) rows_done(r0, r0 + n);
    }
    memory user(memory::desc({in_, out_}, dt::s8, tag::ba), eng, q.data());
    dnnl::reorder(user, weights_).execute(thread_stream(), user, weights_);
    thread_stream().wait();
    return;
  }
  std::vector<int8_t> q;
  for (int64_t r0 = 0; r0 < out_; r0 += block) {
    const int64_t n = std::min(block, out_ - r0);
    memory dst = weights_;
    if (n != out_) {
      dst = memory(weights_.get_desc().submemory_desc({in_, n}, {0, r0}), eng, weights_.get_data_handle());
    }
    const float* w = weight + r0 * in_;
    if (ct_ == ComputeType::I8) {
      q.resize(static_cast<size_t>(n * in_));
      quantize_per_channel(w, n, in_, q.data(), col_scale_.data() + r0);
      memory user(memory::desc({in_, n}, dt::s8, tag::ba), eng, q.data());
      dnnl::reorder(user, dst).execute(thread_stream(), user, dst);
    } else {
      memory user(memory::desc({in_, n}, dt::f32, tag::ba), eng, const_cast<float*>(w));
      dnnl::reorder(user, dst).execute(thread_stream(), user, dst);  // f32 -> f32/bf16
    }
    thread_stream().wait();
    if (rows_done) rows_done(r0, r0 + n);
  }
}

void Linear::init(const float* weight, int64_t out, int64_t in, const float* bias, Epilogue epilogue,
                  Activation act, ComputeType compute, const RowsDone& rows_done, bool scales_in_epilogue) {
  if (out <= 0 || in <= 0) throw Error("linear layer with empty shape");
  scales_in_epilogue_ = scales_in_epilogue;
  out_ = out;
  in_ = in;
  has_bias_ = bias != nullptr;
  epilogue_ = epilogue;
  act_ = act;
  plans_.clear();
  auto& eng = cpu_engine();
  bias_host_.clear();
  col_scale_.assign(compute == ComputeType::I8 ? static_cast<size_t>(out) : 0, 1.0f);
  if (has_bias_) {
    bias_ = memory(memory::desc({1, out}, dt::f32, tag::ab), eng);
    std::copy(bias, bias + out, static_cast<float*>(bias_.get_data_handle()));
    bias_host_.assign(bias, bias + out);
  }
  try {
    init_weights(weight, compute, rows_done);
  } catch (const dnnl::error&) {
    if (compute == ComputeType::F32) throw;
    col_scale_.clear();
    init_weights(weight, ComputeType::F32, rows_done);  // this oneDNN/CPU cannot run it: plain fp32 (released pages read back)
  }
  if (ct_ != ComputeType::I8) {
    bias_host_.clear();
    scales_in_epilogue_ = false;
  }
}

std::shared_ptr<Linear::Plan> Linear::plan_for(int64_t M) const {
  // inside a parallel region oneDNN runs on the calling thread alone (no nested parallelism)
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < plans_.size(); ++i) {
    if (plans_[i]->M == M && plans_[i]->threads == threads) {
      if (i != 0) std::rotate(plans_.begin(), plans_.begin() + static_cast<std::ptrdiff_t>(i),
                              plans_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      return plans_[0];
    }
  }
  auto& eng = cpu_engine();
  auto plan = std::make_shared<Plan>();
  plan->M = M;
  plan->threads = threads;
  auto pd = make_pd(M, weights_.get_desc());
  plan->prim = dnnl::matmul(pd);
  plan->scratch_bytes = pd.scratchpad_desc().get_size();
  plan->src = memory(pd.src_desc(), eng, DNNL_MEMORY_NONE);
  plan->dst = memory(pd.dst_desc(), eng, DNNL_MEMORY_NONE);
  plan->args = {{DNNL_ARG_SRC, plan->src}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, plan->dst}};
  if (plan->scratch_bytes > 0) {
    plan->scratch = memory(pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    plan->args.emplace(DNNL_ARG_SCRATCHPAD, plan->scratch);
  }
  if (ct_ != ComputeType::I8) {
    if (has_bias_) plan->args.emplace(DNNL_ARG_BIAS, bias_);
    if (epilogue_ == Epilogue::ActivateMul) {
      plan->aux = memory(memory::desc({M, out_}, dt::f32, tag::ab), eng, DNNL_MEMORY_NONE);
      plan->args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, plan->aux);
    }
  }
  if (plans_.size() >= kMaxCachedShapes) plans_.pop_back();
  plans_.insert(plans_.begin(), plan);
  return plan;
}

size_t Linear::cached_shapes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return plans_.size();
}

void Linear::forward(const float* x, int64_t M, float* y, const float* aux) const { run(x, M, y, aux, nullptr); }

bool Linear::forward_deferred(const float* x, int64_t M, float* y, float* row_scale_out) const {
  const bool defer = ct_ == ComputeType::I8 && (epilogue_ == Epilogue::None || epilogue_ == Epilogue::Activation);
  run(x, M, y, nullptr, defer ? row_scale_out : nullptr);
  return defer;
}

void Linear::finish_row(float* y, float row_scale) const { finish_row_into(y, row_scale, y); }

void Linear::finish_row_into(const float* acc_row, float row_scale, float* y_row, const float* aux_row) const {
  if (ct_ != ComputeType::I8) throw Error("linear: finish_row_into on a layer that is not int8");
  if (epilogue_ == Epilogue::ActivateMul && aux_row == nullptr) throw Error("linear: gated epilogue without its input");
  int8_epilogue_row(acc_row, row_scale, host_bias(), epilogue_scales(), out_, epilogue_, act_, aux_row, y_row);
}

float Linear::finish_row_max(float* y, float row_scale) const {
  if (epilogue_ != Epilogue::None) throw Error("linear: finish_row_max needs epilogue None");
  return simd::scale_bias_max(y, row_scale, host_bias(), out_, y, epilogue_scales());
}

float Linear::finish_row_sum_exp_hits(const float* acc_row, float row_scale, float ref, float threshold, uint16_t* hits,
                                      float* hit_values, float* max_out) const {
  if (epilogue_ != Epilogue::None) throw Error("linear: finish_row_sum_exp_hits needs epilogue None");
  return simd::scale_bias_sum_exp_hits(acc_row, row_scale, host_bias(), out_, ref, threshold, hits, hit_values, max_out,
                                       epilogue_scales());
}

// forward(), or with `defer_row_scale` (I8, epilogue None/Activation only): y gets the product
// with the channel scales only, defer_row_scale[M] the row scales, finish_row() does the rest.
void Linear::run(const float* x, int64_t M, float* y, const float* aux, float* defer_row_scale) const {
  if (M <= 0) return;
  if (epilogue_ == Epilogue::ActivateMul && aux == nullptr) throw Error("linear: gated epilogue without its input");
  std::shared_ptr<Plan> plan = plan_for(M);
  ThreadBuffers& tb = thread_buffers();
  const size_t in_elems = static_cast<size_t>(M * in_);
  void* src_ptr = const_cast<float*>(x);
  float* row_scale = nullptr;
  if (ct_ != ComputeType::F32) {
    profile::Scope timed(profile::Part::LinearExtra);
    if (ct_ == ComputeType::BF16) {
      uint16_t* b = reinterpret_cast<uint16_t*>(grow(tb.src, in_elems * 2));
      to_bf16(x, in_elems, b);
      src_ptr = b;
    } else if (ct_ == ComputeType::I8) {
      int8_t* q = reinterpret_cast<int8_t*>(grow(tb.src, in_elems));
      row_scale = grow(tb.row_scale, static_cast<size_t>(M));
      quantize_rows(x, M, in_, q, row_scale);
      src_ptr = q;
    }
  }
  // int8 + Accumulate: the product must not overwrite y (it is added to y afterwards)
  float* dst_ptr = y;
  if (ct_ == ComputeType::I8 && epilogue_ == Epilogue::Accumulate) {
    dst_ptr = grow(tb.tmp, static_cast<size_t>(M * out_));
  }
  {
    profile::Scope timed(profile::Part::Matmul);
    execute(*plan, src_ptr, dst_ptr, aux);
  }
  if (defer_row_scale) {
    std::copy(row_scale, row_scale + M, defer_row_scale);
    return;
  }
  if (ct_ == ComputeType::I8) {
    profile::Scope timed(profile::Part::LinearExtra);
    const float* bias = host_bias();
    const int64_t n = out_;
    const Epilogue ep = epilogue_;
    const Activation act = act_;
    const float* cs = epilogue_scales();
#pragma omp parallel for schedule(static) if (M * n > 16384)
    for (int64_t r = 0; r < M; ++r) {
      int8_epilogue_row(dst_ptr + r * n, row_scale[r], bias, cs, n, ep, act, aux ? aux + r * n : nullptr, y + r * n);
    }
  }
}

void Linear::forward_quantized(const int8_t* q, int64_t M, float* y) const {
  if (M <= 0) return;
  if (ct_ != ComputeType::I8) throw Error("linear: forward_quantized on a layer that is not int8");
  execute(*plan_for(M), const_cast<int8_t*>(q), y, nullptr);
}

// Runs the plan's primitive on the calling thread's stream (a plan another thread is running
// gets its own argument memory objects).
void Linear::execute(Plan& plan, void* src_ptr, float* dst_ptr, const float* aux) const {
  ThreadBuffers& tb = thread_buffers();
  void* scratch_ptr = plan.scratch_bytes ? grow(tb.scratch, plan.scratch_bytes) : nullptr;
  auto& s = thread_stream();
  {
    std::unique_lock<std::mutex> busy(plan.busy, std::try_to_lock);
    if (busy.owns_lock()) {
      plan.src.set_data_handle(src_ptr);
      plan.dst.set_data_handle(dst_ptr);
      if (scratch_ptr) plan.scratch.set_data_handle(scratch_ptr);
      if (plan.aux) plan.aux.set_data_handle(const_cast<float*>(aux));
      plan.prim.execute(s, plan.args);
    } else {
      auto& eng = cpu_engine();
      std::unordered_map<int, memory> args = plan.args;
      args[DNNL_ARG_SRC] = memory(plan.src.get_desc(), eng, src_ptr);
      args[DNNL_ARG_DST] = memory(plan.dst.get_desc(), eng, dst_ptr);
      if (scratch_ptr) args[DNNL_ARG_SCRATCHPAD] = memory(plan.scratch.get_desc(), eng, scratch_ptr);
      if (plan.aux) {
        args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1] =
            memory(plan.aux.get_desc(), eng, const_cast<float*>(aux));
      }
      plan.prim.execute(s, args);
    }
    s.wait();
  }
}

void LayerNorm::init(const float* gamma, const float* beta, int64_t dim, float eps) {
  dim_ = dim;
  eps_ = eps;
  cache_.clear();
  auto& eng = cpu_engine();
  memory::desc md({dim}, dt::f32, tag::a);
  gamma_ = memory(md, eng);
  beta_ = memory(md, eng);
  std::copy(gamma, gamma + dim, static_cast<float*>(gamma_.get_data_handle()));
  std::copy(beta, beta + dim, static_cast<float*>(beta_.get_data_handle()));
}

namespace {
// One row of LayerNorm: two passes (mean, then the variance about it), as 16-lane sums in an
// order fixed by the source (lane_sum16: the same bits at any optimization level) accumulated in
// Acc: float for the small-batch loop of reduced-precision runs (forward()), double (2 x d adds
// per row) for the int8 decoder's row passes (forward_row()).
template <class Acc>
inline void layer_norm_row(const float* xr, const float* g, const float* b, int64_t d, float eps, float* yr) {
  const Acc sum = lane_sum16<Acc>(d, [&](int64_t i) { return static_cast<Acc>(xr[i]); });
  const Acc mean_acc = sum / static_cast<Acc>(d);
  const Acc sq = lane_sum16<Acc>(d, [&](int64_t i) {
    const Acc c = static_cast<Acc>(xr[i]) - mean_acc;
    return c * c;
  });
  const float mean = static_cast<float>(mean_acc);
  const float inv = static_cast<float>(Acc(1) / std::sqrt(sq / static_cast<Acc>(d) + static_cast<Acc>(eps)));
#pragma omp simd
  for (int64_t i = 0; i < d; ++i) yr[i] = (xr[i] - mean) * inv * g[i] + b[i];
}

ATTEND_MULTIVERSION
void layer_norm_row_double(const float* xr, const float* g, const float* b, int64_t d, float eps, float* yr) {
  layer_norm_row<double>(xr, g, b, d, eps, yr);
}
}  // namespace

void LayerNorm::forward_row(const float* x, float* y) const {
  layer_norm_row_double(x, static_cast<const float*>(gamma_.get_data_handle()),
                        static_cast<const float*>(beta_.get_data_handle()), dim_, eps_, y);
}

std::shared_ptr<const LayerNorm::Entry> LayerNorm::primitive_for(int64_t M) const {
  // keyed by rows and thread count (the primitive's parallel split is fixed when it is made)
  const int64_t key = M * 1024 + std::min(omp_get_max_threads(), 1023);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  memory::desc md({M, dim_}, dt::f32, tag::ab);
  dnnl::layer_normalization_forward::desc d(dnnl::prop_kind::forward_inference, md, eps_,
                                            dnnl::normalization_flags::use_scale |
                                                dnnl::normalization_flags::use_shift);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::layer_normalization_forward::primitive_desc pd(d, attr, cpu_engine());
  auto entry = std::make_shared<Entry>(Entry{dnnl::layer_normalization_forward(pd), pd.scratchpad_desc().get_size()});
  // Row counts vary with batch composition; keep the cache bounded (a caller still running an
  // evicted primitive holds its own reference).
  constexpr size_t kMaxCached = 16;
  if (cache_.size() >= kMaxCached) cache_.erase(cache_.begin());
  cache_.emplace(key, entry);
  return entry;
}

void LayerNorm::forward(const float* x, int64_t M, float* y) const {
  if (M <= 0) return;
  profile::Scope timed(profile::Part::Norm);
  if (small_loop_ && M <= kSmallRows) {
    const float* g = static_cast<const float*>(gamma_.get_data_handle());
    const float* b = static_cast<const float*>(beta_.get_data_handle());
    for (int64_t r = 0; r < M; ++r) layer_norm_row<float>(x + r * dim_, g, b, dim_, eps_, y + r * dim_);
    return;
  }
  // Up to kSmallRows rows: the primitive made for one thread, on the calling thread. Its rows'
  // bits are the same (each row is normalised whole by one thread either way); a team's fork and
  // join cost more than the rows (norms 10% -> 6% of a 4-row fp32 decode step).
  struct OneThread {
    int saved = 0;
    explicit OneThread(bool on) {
      if (!on) return;
      saved = omp_get_max_threads();
      omp_set_num_threads(1);
    }
    ~OneThread() {
      if (saved) omp_set_num_threads(saved);
    }
  } one(M <= kSmallRows && !omp_in_parallel() && omp_get_max_threads() > 1);
  const auto entry = primitive_for(M);
  auto& eng = cpu_engine();
  memory::desc md({M, dim_}, dt::f32, tag::ab);
  memory src(md, eng, const_cast<float*>(x));
  memory dst(md, eng, y);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCALE, gamma_}, {DNNL_ARG_SHIFT, beta_}};
  if (entry->scratch_bytes > 0) {
    auto& buf = thread_buffers().scratch;
    memory scratch(memory::desc({static_cast<int64_t>(entry->scratch_bytes)}, dt::u8, tag::a), eng,
                   grow(buf, entry->scratch_bytes));
    args.emplace(DNNL_ARG_SCRATCHPAD, scratch);
  }
  auto& s = thread_stream();
  entry->prim.execute(s, args);
  s.wait();
}

void RMSNorm::init(const float* weight, int64_t dim, float eps) {
  weight_.assign(weight, weight + dim);
  dim_ = dim;
  eps_ = eps;
}

namespace {
// One row of RMSNorm: y = w * (x / sqrt(mean(x^2) + eps)). The sum of squares is a 16-lane sum
// (lane_sum16: vectorizable, as torch's mean is, in an order fixed by the source), not one
// dependent chain of d additions (that chain was most of a T5 decode's norm time).
ATTEND_MULTIVERSION
void rms_norm_row(const float* x, const float* w, int64_t d, float eps, float* y) {
  const float ss = lane_sum16<float>(d, [&](int64_t i) { return x[i] * x[i]; });
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps);
#pragma omp simd
  for (int64_t i = 0; i < d; ++i) y[i] = w[i] * (x[i] * inv);
}
}  // namespace

void RMSNorm::forward(const float* x, int64_t M, float* y) const {
  profile::Scope timed(profile::Part::Norm);
  const int64_t d = dim_;
  const float* w = weight_.data();
#pragma omp parallel for schedule(static) if (M * d > 16384)
  for (int64_t r = 0; r < M; ++r) rms_norm_row(x + r * d, w, d, eps_, y + r * d);
}

void RMSNorm::forward_row(const float* x, float* y) const { rms_norm_row(x, weight_.data(), dim_, eps_, y); }

void Norm::forward_row(const float* x, float* y) const {
  if (rms_) rms_norm_.forward_row(x, y);
  else ln_.forward_row(x, y);
}

void Norm::init_layer_norm(const float* gamma, const float* beta, int64_t dim, float eps) {
  rms_ = false;
  ln_.init(gamma, beta, dim, eps);
}

void Norm::init_rms_norm(const float* weight, int64_t dim, float eps) {
  rms_ = true;
  rms_norm_.init(weight, dim, eps);
}

void Norm::forward(const float* x, int64_t M, float* y) const {
  if (rms_) rms_norm_.forward(x, M, y);
  else ln_.forward(x, M, y);
}

}  // namespace attend

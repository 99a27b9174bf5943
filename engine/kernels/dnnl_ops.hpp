// engine/kernels/dnnl_ops.hpp — the oneDNN-backed operators of the engine: a linear layer (matmul
// with bias and fused epilogues: activation, residual accumulation, gating) in fp32, bf16 or
// int8, layer norm, plus the CPU engine/stream. Weights are reordered once into the layout the
// primitive prefers; primitives are cached per row count in a small LRU; scratchpads are
// user-managed per thread, so a steady-state forward() allocates nothing.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <dnnl.hpp>

#include "engine/kernels/compute_type.hpp"
#include "engine/kernels/op_kinds.hpp"

namespace attend {

dnnl::engine& cpu_engine();
// A stream for the calling thread (oneDNN streams must not be shared between threads).
dnnl::stream& thread_stream();

// What happens to x·Wᵀ + b before it is written to y.
enum class Epilogue {
  None,          // y = xWᵀ + b
  Activation,    // y = act(xWᵀ + b)
  Accumulate,    // y += xWᵀ + b            (residual connection fused into the product)
  ActivateMul,   // y = act(xWᵀ + b) * aux  (gated feed-forward)
};

// y = epilogue(x·Wᵀ + b) with x, y float32 [M, features] row-major, whatever the compute type:
//   F32   weights f32 (blocked), bias and epilogue fused as oneDNN post-ops;
//   BF16  x rounded to bf16 per call, weights bf16 (blocked), f32 accumulation and output,
//         bias and epilogue fused as post-ops;
//   I8    weights s8 with one scale per output channel (symmetric), x quantized per row to s8
//         per call; the matmul applies the channel scales (output scales, mask 2; or the row
//         pass does, see init's scales_in_epilogue) and writes f32; the row scale, bias and
//         epilogue are one pass over the output (oneDNN 2.6 cannot take per-row and per-column
//         scales in one primitive).
class Linear {
 public:
  Linear() = default;
  Linear(const Linear&) = delete;
  Linear& operator=(const Linear&) = delete;
  Linear(Linear&&) = delete;
  // `weight` is [out, in] row-major float32 (the Hugging Face nn.Linear layout); `bias` has
  // `out` values or is null. Weights are converted and reordered once, here. If the CPU/oneDNN
  // cannot run `compute` for this shape the layer falls back to F32 (compute_type() says so).
  // Large matrices are converted in blocks of output rows (no full-size temporary);
  // `rows_done(begin, end)`, when given, is called once the rows [begin, end) of `weight` have
  // been read for the last time (the loader drops their mapped pages then).
  using RowsDone = std::function<void(int64_t begin, int64_t end)>;
  // `scales_in_epilogue` (I8): the channel scales are applied in the row epilogue (the same
  // bits) instead of by the primitive, so that layers of one shape share their primitives
  // (oneDNN 2.6 bakes the scales into each one): the LM head's column blocks, and the layers
  // run once per batch (encoder, cross-attention keys and values), whose row counts follow the
  // inputs' lengths — one primitive per row count for all of them instead of one per layer. The
  // decoder's per-step layers keep them in the primitive (an epilogue multiply per element
  // and step measurably slowed batch 32).
  void init(const float* weight, int64_t out, int64_t in, const float* bias,
            Epilogue epilogue = Epilogue::None, Activation act = Activation::Relu,
            ComputeType compute = ComputeType::F32, const RowsDone& rows_done = nullptr,
            bool scales_in_epilogue = false);
  // y[M, out] = epilogue(x[M, in]); `aux` [M, out] only for ActivateMul.
  void forward(const float* x, int64_t M, float* y, const float* aux = nullptr) const;
  // The same with the int8 row epilogue left to the caller, so it can run inside the caller's
  // own per-row pass while the row is in cache (the LM head: beam search's log_softmax/top-k).
  // Returns true when deferred (I8 with epilogue None or Activation): y holds the product with
  // the channel scales (without them for scales_in_epilogue), row_scale[M] the rows' activation
  // scales, and each row must go through
  // finish_row(y + r * out, row_scale[r]) before it is read. Returns false when nothing was
  // deferred (y is final, row_scale untouched).
  bool forward_deferred(const float* x, int64_t M, float* y, float* row_scale) const;
  void finish_row(float* y_row, float row_scale) const;
  // I8: the row epilogue of forward() for one row of a forward_quantized() product `acc_row`,
  // written to y_row (Accumulate adds to it, ActivateMul multiplies by aux_row); acc_row may
  // be y_row except for Accumulate.
  void finish_row_into(const float* acc_row, float row_scale, float* y_row, const float* aux_row = nullptr) const;
  // finish_row for epilogue None, returning the row's largest value (NaN skipped) from the same pass.
  float finish_row_max(float* y_row, float row_scale) const;
  // For epilogue None: simd::scale_bias_sum_exp_hits over the unfinished row acc_row (left as
  // it is) with this layer's bias: the row's softmax sum against `ref`, its max and top-k hits.
  float finish_row_sum_exp_hits(const float* acc_row, float row_scale, float ref, float threshold, uint16_t* hits,
                                float* hit_values, float* max_out) const;
  // I8 only: y[M, out] = q·Wᵀ with the channel scales (without them for scales_in_epilogue:
  // the finish_row* passes apply them), from rows the caller quantized once
  // (quantize_rows) for several layers; finish_row() with the row's scale does the rest. Not
  // timed in the profile (the caller times it). Called inside a parallel region it runs on the
  // calling thread alone (the LM head's column blocks, one per thread).
  void forward_quantized(const int8_t* q, int64_t M, float* y) const;
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  bool empty() const { return out_ == 0; }
  ComputeType compute_type() const { return ct_; }
  // Primitives kept per layer (one per distinct M and OpenMP thread count, least recently used
  // evicted beyond this). A batch-32 beam-4 decode meets up to 32 row counts as inputs finish,
  // and the encoder one per batch shape: with 16 kept, the bundled test2016 run rebuilt ~4,000
  // plans (oneDNN's own cache made them cheap, the memory objects and descriptors still cost).
  static constexpr size_t kMaxCachedShapes = 64;
  size_t cached_shapes() const;

  struct Plan;  // one row count: primitive + bound memory objects (dnnl_ops.cpp)

 private:
  dnnl::matmul::primitive_desc make_pd(int64_t M, const dnnl::memory::desc& wdesc) const;
  std::shared_ptr<Plan> plan_for(int64_t M) const;
  void init_weights(const float* weight, ComputeType compute, const RowsDone& rows_done);
  void run(const float* x, int64_t M, float* y, const float* aux, float* defer_row_scale) const;
  void execute(Plan& plan, void* src, float* dst, const float* aux) const;

  int64_t in_ = 0, out_ = 0;
  bool has_bias_ = false;
  Epilogue epilogue_ = Epilogue::None;
  Activation act_ = Activation::Relu;
  ComputeType ct_ = ComputeType::F32;
  dnnl::memory weights_, bias_;
  std::vector<float> bias_host_;    // I8: bias added in the epilogue pass
  const float* host_bias() const { return bias_host_.empty() ? nullptr : bias_host_.data(); }
  std::vector<float> col_scale_;    // I8: per output channel weight scale
  bool scales_in_epilogue_ = false; // I8: col_scale_ applied by the row epilogue, not the primitive
  const float* epilogue_scales() const { return scales_in_epilogue_ ? col_scale_.data() : nullptr; }
  mutable std::mutex mu_;
  mutable std::vector<std::shared_ptr<Plan>> plans_;  // most recently used first
};

class LayerNorm {
 public:
  LayerNorm() = default;
  void init(const float* gamma, const float* beta, int64_t dim, float eps);
  // y[M, dim] = LN(x) ; y may equal x.
  void forward(const float* x, int64_t M, float* y) const;
  // Reduced-precision runs: up to kSmallRows rows are normalised by a plain loop on the calling
  // thread instead of the oneDNN primitive, whose per-call cost (memory objects, argument map,
  // execution) dominated 4-row batch-1 steps (8% of an int8 batch-1 decode). fp32 runs keep the
  // primitive (its exact rounding is part of the token-exact results), made for one thread at
  // up to kSmallRows rows.
  void set_small_rows_loop(bool on) { small_loop_ = on; }
  static constexpr int64_t kSmallRows = 16;
  // One row, statistics accumulated in double (y may equal x): the int8 decoder's row passes.
  void forward_row(const float* x, float* y) const;

 private:
  // A primitive for one row count and the scratchpad size it needs. Scratchpads are user-owned
  // (per calling thread): with oneDNN's library-owned scratchpad, two threads running the same
  // primitive would share its mean/variance buffer.
  struct Entry {
    dnnl::layer_normalization_forward prim;
    size_t scratch_bytes = 0;
  };
  std::shared_ptr<const Entry> primitive_for(int64_t M) const;
  int64_t dim_ = 0;
  float eps_ = 1e-5f;
  bool small_loop_ = false;
  dnnl::memory gamma_, beta_;
  mutable std::mutex mu_;
  mutable std::unordered_map<int64_t, std::shared_ptr<const Entry>> cache_;  // bounded, see .cpp
};

// T5's RMS norm (no mean subtraction, no bias): y = x / sqrt(mean(x²) + eps) * w. oneDNN 2.6
// has no RMS flag for its normalisation primitives, so this one is a plain loop.
class RMSNorm {
 public:
  void init(const float* weight, int64_t dim, float eps);
  void forward(const float* x, int64_t M, float* y) const;
  void forward_row(const float* x, float* y) const;

 private:
  std::vector<float> weight_;
  int64_t dim_ = 0;
  float eps_ = 1e-6f;
};

// LayerNorm or RMSNorm, chosen by the architecture.
class Norm {
 public:
  void init_layer_norm(const float* gamma, const float* beta, int64_t dim, float eps);
  void init_rms_norm(const float* weight, int64_t dim, float eps);
  void forward(const float* x, int64_t M, float* y) const;
  // One row on the calling thread (callable inside the caller's parallel region; int8 runs
  // only: fp32 LayerNorm keeps the primitive's rounding).
  void forward_row(const float* x, float* y) const;
  void set_small_rows_loop(bool on) { ln_.set_small_rows_loop(on); }  // LayerNorm only (see there)

 private:
  bool rms_ = false;
  LayerNorm ln_;
  RMSNorm rms_norm_;
};

}  // namespace attend

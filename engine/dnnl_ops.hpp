// engine/dnnl_ops.hpp — the oneDNN-backed operators of the engine: a linear layer (matmul
// with bias and fused epilogues: activation, residual accumulation, gating), layer norm,
// plus the CPU engine/stream. Primitives and weight reorders are made once and reused.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <dnnl.hpp>

#include "engine/arch_spec.hpp"

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

class Linear {
 public:
  Linear() = default;
  // `weight` is [out, in] row-major float32 (the Hugging Face nn.Linear layout); `bias` has
  // `out` values or is null. Weights are reordered once into the layout oneDNN prefers.
  void init(const float* weight, int64_t out, int64_t in, const float* bias,
            Epilogue epilogue = Epilogue::None, Activation act = Activation::Relu);
  // y[M, out] = epilogue(x[M, in]); `aux` [M, out] only for ActivateMul.
  void forward(const float* x, int64_t M, float* y, const float* aux = nullptr) const;
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  bool empty() const { return out_ == 0; }

 private:
  dnnl::matmul::primitive_desc make_pd(int64_t M, const dnnl::memory::desc& wdesc) const;
  const dnnl::matmul& primitive_for(int64_t M) const;

  int64_t in_ = 0, out_ = 0;
  bool has_bias_ = false;
  Epilogue epilogue_ = Epilogue::None;
  Activation act_ = Activation::Relu;
  dnnl::memory weights_, bias_;
  mutable std::mutex mu_;
  mutable std::unordered_map<int64_t, std::unique_ptr<dnnl::matmul>> cache_;
};

class LayerNorm {
 public:
  LayerNorm() = default;
  void init(const float* gamma, const float* beta, int64_t dim, float eps);
  // y[M, dim] = LN(x) ; y may equal x.
  void forward(const float* x, int64_t M, float* y) const;

 private:
  const dnnl::layer_normalization_forward& primitive_for(int64_t M) const;
  int64_t dim_ = 0;
  float eps_ = 1e-5f;
  dnnl::memory gamma_, beta_;
  mutable std::mutex mu_;
  mutable std::unordered_map<int64_t, std::unique_ptr<dnnl::layer_normalization_forward>> cache_;
};

// T5's RMS norm (no mean subtraction, no bias): y = x / sqrt(mean(x²) + eps) * w. oneDNN 2.6
// has no RMS flag for its normalisation primitives, so this one is a plain loop.
class RMSNorm {
 public:
  void init(const float* weight, int64_t dim, float eps);
  void forward(const float* x, int64_t M, float* y) const;

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

 private:
  bool rms_ = false;
  LayerNorm ln_;
  RMSNorm rms_norm_;
};

}  // namespace attend

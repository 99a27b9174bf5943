// engine/dnnl_ops.cpp — oneDNN primitives for linear layers and normalisation.
#include "engine/dnnl_ops.hpp"

#include <cmath>
#include <vector>

#include "attend/error.hpp"

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

}  // namespace

dnnl::matmul::primitive_desc Linear::make_pd(int64_t M, const memory::desc& wdesc) const {
  memory::desc src({M, in_}, dt::f32, tag::ab);
  memory::desc dst({M, out_}, dt::f32, tag::ab);
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
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  if (has_bias_) {
    memory::desc bias({1, out_}, dt::f32, tag::ab);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wdesc, bias, dst), attr, cpu_engine());
  }
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wdesc, dst), attr, cpu_engine());
}

void Linear::init(const float* weight, int64_t out, int64_t in, const float* bias, Epilogue epilogue,
                  Activation act) {
  if (out <= 0 || in <= 0) throw Error("linear layer with empty shape");
  out_ = out;
  in_ = in;
  has_bias_ = bias != nullptr;
  epilogue_ = epilogue;
  act_ = act;
  cache_.clear();
  auto& eng = cpu_engine();
  // The HF [out, in] row-major matrix is the [in, out] weight matrix in "ba" order.
  memory::desc user_md({in, out}, dt::f32, tag::ba);
  memory user(user_md, eng, const_cast<float*>(weight));
  memory::desc any_md({in, out}, dt::f32, tag::any);
  auto pd = make_pd(kLayoutRows, any_md);
  weights_ = memory(pd.weights_desc(), eng);
  dnnl::reorder(user, weights_).execute(thread_stream(), user, weights_);
  if (has_bias_) {
    bias_ = memory(memory::desc({1, out}, dt::f32, tag::ab), eng);
    std::copy(bias, bias + out, static_cast<float*>(bias_.get_data_handle()));
  }
  thread_stream().wait();
}

const dnnl::matmul& Linear::primitive_for(int64_t M) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(M);
  if (it != cache_.end()) return *it->second;
  auto prim = std::make_unique<dnnl::matmul>(make_pd(M, weights_.get_desc()));
  return *cache_.emplace(M, std::move(prim)).first->second;
}

void Linear::forward(const float* x, int64_t M, float* y, const float* aux) const {
  if (M <= 0) return;
  const auto& prim = primitive_for(M);
  auto& eng = cpu_engine();
  memory src(memory::desc({M, in_}, dt::f32, tag::ab), eng, const_cast<float*>(x));
  memory dst(memory::desc({M, out_}, dt::f32, tag::ab), eng, y);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, dst}};
  if (has_bias_) args.emplace(DNNL_ARG_BIAS, bias_);
  if (epilogue_ == Epilogue::ActivateMul) {
    memory a(memory::desc({M, out_}, dt::f32, tag::ab), eng, const_cast<float*>(aux));
    args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, a);
  }
  auto& s = thread_stream();
  prim.execute(s, args);
  s.wait();
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

const dnnl::layer_normalization_forward& LayerNorm::primitive_for(int64_t M) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(M);
  if (it != cache_.end()) return *it->second;
  memory::desc md({M, dim_}, dt::f32, tag::ab);
  dnnl::layer_normalization_forward::desc d(dnnl::prop_kind::forward_inference, md, eps_,
                                            dnnl::normalization_flags::use_scale |
                                                dnnl::normalization_flags::use_shift);
  dnnl::layer_normalization_forward::primitive_desc pd(d, cpu_engine());
  auto prim = std::make_unique<dnnl::layer_normalization_forward>(pd);
  return *cache_.emplace(M, std::move(prim)).first->second;
}

void LayerNorm::forward(const float* x, int64_t M, float* y) const {
  if (M <= 0) return;
  const auto& prim = primitive_for(M);
  auto& eng = cpu_engine();
  memory::desc md({M, dim_}, dt::f32, tag::ab);
  memory src(md, eng, const_cast<float*>(x));
  memory dst(md, eng, y);
  auto& s = thread_stream();
  prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCALE, gamma_}, {DNNL_ARG_SHIFT, beta_}});
  s.wait();
}

void RMSNorm::init(const float* weight, int64_t dim, float eps) {
  weight_.assign(weight, weight + dim);
  dim_ = dim;
  eps_ = eps;
}

void RMSNorm::forward(const float* x, int64_t M, float* y) const {
  const int64_t d = dim_;
  const float* w = weight_.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < M; ++r) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    float ss = 0.0f;
    for (int64_t i = 0; i < d; ++i) ss += xr[i] * xr[i];
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps_);
    for (int64_t i = 0; i < d; ++i) yr[i] = w[i] * (xr[i] * inv);
  }
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

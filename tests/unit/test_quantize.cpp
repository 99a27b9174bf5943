// tests/unit/test_quantize.cpp — reduced precision: int8 per-channel / per-row quantization
// round trips, bf16 rounding, Linear in fp32/bf16/int8 against a double-precision reference
// (tolerances derived from the rounding of each scheme), the bounded primitive cache, compute
// type resolution, the int8 LM head in column blocks (logits and fused top-k against the whole
// layer), `--quantize int8` model files (fixture checkpoints) written, validated
// and run with every compute type, and the int8 decoder's row-fused step (DecoderState::
// run_layers_int8: each row finished, attended, normalised and quantized between the matmuls)
// against the op-by-op step every other compute type takes.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "attend/random_model.hpp"
#include "engine/kernels/compute_type.hpp"
#include "engine/kernels/dnnl_ops.hpp"
#include "engine/kernels/half.hpp"
#include "engine/model_file.hpp"
#include "engine/kernels/quantize.hpp"
#include "engine/lm_head.hpp"
#include "models/converter.hpp"
#include "engine/safetensors.hpp"
#include "engine/transformer.hpp"
#include "runtime/model_impl.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using namespace attend;

namespace {

std::vector<float> random_values(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

constexpr double kU = 1.0 / (1 << 24);  // unit roundoff of float32

double act_ref(double v, Activation a) {
  switch (a) {
    case Activation::Relu: return v > 0 ? v : 0;
    case Activation::Gelu: return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    case Activation::GeluTanh:
      return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
    case Activation::Swish: return v / (1.0 + std::exp(-v));
  }
  return v;
}

struct Case {
  Epilogue ep;
  Activation act;
  bool bias;
};

// Runs one Linear configuration and checks every output against the double reference with a
// per-element bound: |y - ref| <= L * (product error bound) + rounding of the result, where
// L = 1.2 bounds the slope of relu/gelu/swish (gelu's largest slope is 1.13, swish's 1.10),
// times |aux| for the gated form.
void check_linear(ComputeType ct, const Case& c, int64_t M, int64_t K, int64_t N, uint32_t seed) {
  auto w = random_values(static_cast<size_t>(N * K), -0.5f, 0.5f, seed);
  auto x = random_values(static_cast<size_t>(M * K), -2.0f, 2.0f, seed + 1);
  auto b = random_values(static_cast<size_t>(N), -1.0f, 1.0f, seed + 2);
  auto aux = random_values(static_cast<size_t>(M * N), -1.5f, 1.5f, seed + 3);
  auto y0 = random_values(static_cast<size_t>(M * N), -1.0f, 1.0f, seed + 4);
  Linear lin;
  lin.init(w.data(), N, K, c.bias ? b.data() : nullptr, c.ep, c.act, ct);
  REQUIRE(lin.compute_type() == ct);
  std::vector<float> y = y0;
  lin.forward(x.data(), M, y.data(), c.ep == Epilogue::ActivateMul ? aux.data() : nullptr);

  // What each scheme rounds: bf16 rounds x and w (relative 2^-9 each); int8 rounds w to
  // within scale_w/2 and x to within scale_x/2 (weights_format.md §8).
  std::vector<float> wscale(static_cast<size_t>(N)), xscale(static_cast<size_t>(M));
  std::vector<int8_t> qw(w.size()), qx(x.size());
  quantize_per_channel(w.data(), N, K, qw.data(), wscale.data());
  quantize_rows(x.data(), M, K, qx.data(), xscale.data());
  const double bf = std::ldexp(1.0, -8);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      double dot = 0, mag = 0, qerr = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double xv = x[m * K + k], wv = w[n * K + k];
        dot += xv * wv;
        mag += std::fabs(xv * wv);
        qerr += std::fabs(xv) * wscale[n] / 2 + xscale[m] / 2 * std::fabs(wv) + xscale[m] * wscale[n] / 4;
      }
      double err = 2.0 * K * kU * mag;  // float accumulation
      if (ct == ComputeType::BF16) err += (bf + bf * bf) * mag * 1.01;
      if (ct == ComputeType::I8) err += qerr * 1.01 + 4 * kU * (mag + qerr);
      double pre = dot + (c.bias ? b[n] : 0.0);
      double ref = 0, bound = err;
      switch (c.ep) {
        case Epilogue::None: ref = pre; break;
        case Epilogue::Activation: ref = act_ref(pre, c.act); bound = 1.2 * err; break;
        case Epilogue::Accumulate: ref = y0[m * N + n] + pre; break;
        case Epilogue::ActivateMul:
          ref = act_ref(pre, c.act) * aux[m * N + n];
          bound = 1.2 * err * std::fabs(aux[m * N + n]);
          break;
      }
      bound += 8 * kU * (std::fabs(ref) + std::fabs(pre) + 1.0) + 1e-6;  // epilogue arithmetic
      const double got = y[m * N + n];
      INFO("compute " << compute_type_name(ct) << " m=" << m << " n=" << n << " ref=" << ref << " got=" << got
                      << " bound=" << bound);
      REQUIRE(std::fabs(got - ref) <= bound);
    }
  }
}

using attend_test::fixtures_root;
using attend_test::TempDir;

// True (with a warning naming the skip) where this CPU/oneDNN has no int8 matmul.
bool no_int8_matmul() {
  if (resolve_compute_type("int8", "", cpu_caps()).type == ComputeType::I8) return false;
  WARN("this CPU has no int8 matmul; skipping");
  return true;
}

}  // namespace

TEST_CASE("quantize: per-channel int8 round trip is within half a step", "[quantize]") {
  const int64_t out = 7, in = 33;
  auto w = random_values(static_cast<size_t>(out * in), -3.0f, 3.0f, 11);
  for (int64_t i = 0; i < in; ++i) w[static_cast<size_t>(2 * in + i)] = 0.0f;  // an all-zero channel
  w[5] = 1e-30f;                                                               // a tiny value
  std::vector<int8_t> q(w.size());
  std::vector<float> scale(static_cast<size_t>(out)), back(w.size());
  quantize_per_channel(w.data(), out, in, q.data(), scale.data());
  dequantize_per_channel(q.data(), scale.data(), out, in, back.data());
  for (int64_t o = 0; o < out; ++o) {
    float amax = 0;
    int qmax = 0;
    for (int64_t i = 0; i < in; ++i) {
      amax = std::max(amax, std::fabs(w[static_cast<size_t>(o * in + i)]));
      qmax = std::max(qmax, std::abs(static_cast<int>(q[static_cast<size_t>(o * in + i)])));
    }
    if (amax == 0) {
      CHECK(scale[static_cast<size_t>(o)] == 1.0f);
      CHECK(qmax == 0);
    } else {
      CHECK(scale[static_cast<size_t>(o)] == Approx(amax / 127.0f).epsilon(1e-6));
      CHECK(qmax == 127);  // the largest magnitude maps to ±127 exactly
    }
    for (int64_t i = 0; i < in; ++i) {
      const size_t k = static_cast<size_t>(o * in + i);
      CHECK(q[k] >= -127);
      CHECK(std::fabs(back[k] - w[k]) <= scale[static_cast<size_t>(o)] * 0.5f * (1 + 1e-5f));
    }
  }
  // Re-quantizing dequantized weights gives back the same integers (int8 file -> int8 compute).
  std::vector<int8_t> q2(w.size());
  std::vector<float> scale2(static_cast<size_t>(out));
  quantize_per_channel(back.data(), out, in, q2.data(), scale2.data());
  CHECK(q2 == q);
}

TEST_CASE("quantize: per-row activations use the same symmetric rule", "[quantize]") {
  const int64_t rows = 5, cols = 70;
  auto x = random_values(static_cast<size_t>(rows * cols), -10.0f, 10.0f, 5);
  std::vector<int8_t> q(x.size()), qc(x.size());
  std::vector<float> s(static_cast<size_t>(rows)), sc(static_cast<size_t>(rows));
  quantize_rows(x.data(), rows, cols, q.data(), s.data());
  quantize_per_channel(x.data(), rows, cols, qc.data(), sc.data());
  CHECK(q == qc);
  CHECK(s == sc);
  for (size_t k = 0; k < x.size(); ++k) {
    const float back = static_cast<float>(q[k]) * s[k / static_cast<size_t>(cols)];
    CHECK(std::fabs(back - x[k]) <= s[k / static_cast<size_t>(cols)] * 0.5f * (1 + 1e-5f));
  }
}

TEST_CASE("quantize: bf16 rounding matches the scalar reference", "[quantize]") {
  std::vector<float> v = random_values(1000, -1e5f, 1e5f, 3);
  const float specials[] = {0.0f, -0.0f, 1.0f, 1.00390625f /* tie */, 1.01171875f, INFINITY, -INFINITY, NAN,
                            3.4e38f, 1e-40f};
  v.insert(v.end(), std::begin(specials), std::end(specials));
  std::vector<uint16_t> out(v.size());
  to_bf16(v.data(), v.size(), out.data());
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("value " << v[i]);
    CHECK(out[i] == float_to_bf16(v[i]));
  }
}

TEST_CASE("Linear: fp32, bf16 and int8 against a double reference", "[quantize][linear]") {
  const Case cases[] = {{Epilogue::None, Activation::Relu, true},        {Epilogue::None, Activation::Relu, false},
                        {Epilogue::Activation, Activation::Relu, true},  {Epilogue::Activation, Activation::Gelu, true},
                        {Epilogue::Activation, Activation::Swish, false}, {Epilogue::Accumulate, Activation::Relu, true},
                        {Epilogue::ActivateMul, Activation::GeluTanh, false}};
  const CpuCaps caps = cpu_caps();
  std::vector<ComputeType> types = {ComputeType::F32};
  if (resolve_compute_type("bf16", "", caps).type == ComputeType::BF16) types.push_back(ComputeType::BF16);
  if (resolve_compute_type("int8", "", caps).type == ComputeType::I8) types.push_back(ComputeType::I8);
  uint32_t seed = 100;
  for (ComputeType ct : types) {
    for (const Case& c : cases) {
      for (int64_t M : {1, 3, 17}) check_linear(ct, c, M, 48, 40, seed++);
    }
  }
}

TEST_CASE("LayerNorm: fp32 rows have the same bits at every row count and thread count", "[quantize][norm]") {
  // Up to LayerNorm::kSmallRows rows run the primitive made for one thread; more rows, one made
  // for the team. A row's bits must not depend on which (fp32 decoding stays token-exact while
  // its row count shrinks), and both must be a layer norm.
  const int64_t dim = 256, rows = 40;
  const std::vector<float> gamma = random_values(dim, 0.5f, 1.5f, 7), beta = random_values(dim, -0.5f, 0.5f, 8);
  const std::vector<float> x = random_values(static_cast<size_t>(rows * dim), -3.0f, 3.0f, 9);
  LayerNorm ln;
  ln.init(gamma.data(), beta.data(), dim, 1e-5f);
  std::vector<float> all(x.size());
  ln.forward(x.data(), rows, all.data());  // the team's primitive
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0.0, var = 0.0;
    for (int64_t j = 0; j < dim; ++j) mean += x[static_cast<size_t>(r * dim + j)];
    mean /= dim;
    for (int64_t j = 0; j < dim; ++j) var += std::pow(x[static_cast<size_t>(r * dim + j)] - mean, 2);
    var /= dim;
    for (int64_t j = 0; j < dim; ++j) {
      const double want = (x[static_cast<size_t>(r * dim + j)] - mean) / std::sqrt(var + 1e-5) * gamma[j] + beta[j];
      REQUIRE(std::abs(all[static_cast<size_t>(r * dim + j)] - want) < 1e-4 * (1.0 + std::abs(want)));
    }
  }
  const int threads = omp_get_max_threads();
  for (int team : {threads, 1}) {
    omp_set_num_threads(team);
    for (int64_t from : {int64_t{0}, int64_t{5}}) {
      for (int64_t m : {int64_t{1}, int64_t{4}, int64_t{8}, LayerNorm::kSmallRows, LayerNorm::kSmallRows + 3}) {
        std::vector<float> part(static_cast<size_t>(m * dim));
        ln.forward(x.data() + from * dim, m, part.data());
        INFO("team " << team << ", rows " << from << ".." << from + m);
        CHECK(std::memcmp(part.data(), all.data() + from * dim, part.size() * sizeof(float)) == 0);
      }
    }
  }
  omp_set_num_threads(threads);
}

TEST_CASE("Linear: int8 equals the integer product of the quantized operands", "[quantize][linear]") {
  if (no_int8_matmul()) return;
  const int64_t M = 6, K = 64, N = 24;
  auto w = random_values(static_cast<size_t>(N * K), -1.0f, 1.0f, 21);
  auto x = random_values(static_cast<size_t>(M * K), -1.0f, 1.0f, 22);
  auto b = random_values(static_cast<size_t>(N), -1.0f, 1.0f, 23);
  Linear lin;
  lin.init(w.data(), N, K, b.data(), Epilogue::None, Activation::Relu, ComputeType::I8);
  std::vector<float> y(static_cast<size_t>(M * N));
  lin.forward(x.data(), M, y.data());
  std::vector<int8_t> qw(w.size()), qx(x.size());
  std::vector<float> sw(static_cast<size_t>(N)), sx(static_cast<size_t>(M));
  quantize_per_channel(w.data(), N, K, qw.data(), sw.data());
  quantize_rows(x.data(), M, K, qx.data(), sx.data());
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += int64_t{qx[m * K + k]} * qw[n * K + k];
      // |acc| < 2^24: exact in float; three float roundings follow (x scale_w, x scale_x, + b)
      const double ref = static_cast<double>(acc) * sw[n] * sx[m] + b[n];
      const double mag = std::fabs(static_cast<double>(acc) * sw[n] * sx[m]) + std::fabs(b[n]);
      CHECK(std::fabs(y[m * N + n] - ref) <= 4 * kU * mag + 1e-7);
    }
  }
}

TEST_CASE("Linear: int8 with the channel scales in the epilogue gives the same bits for every epilogue",
          "[quantize][linear]") {
  if (no_int8_matmul()) return;
  const int64_t M = 7, K = 64, N = 40;
  auto w = random_values(static_cast<size_t>(N * K), -1.0f, 1.0f, 31);
  auto x = random_values(static_cast<size_t>(M * K), -1.5f, 1.5f, 32);
  auto b = random_values(static_cast<size_t>(N), -1.0f, 1.0f, 33);
  auto aux = random_values(static_cast<size_t>(M * N), -2.0f, 2.0f, 34);
  auto start = random_values(static_cast<size_t>(M * N), -2.0f, 2.0f, 35);  // Accumulate adds to it
  const Case cases[] = {{Epilogue::None, Activation::Relu, true},         {Epilogue::Activation, Activation::Gelu, true},
                        {Epilogue::Activation, Activation::Swish, false},  {Epilogue::Accumulate, Activation::Relu, true},
                        {Epilogue::ActivateMul, Activation::GeluTanh, true}};
  for (const Case& c : cases) {
    INFO("epilogue " << static_cast<int>(c.ep) << ", activation " << static_cast<int>(c.act) << ", bias " << c.bias);
    Linear in_primitive, in_epilogue;
    const float* bias = c.bias ? b.data() : nullptr;
    in_primitive.init(w.data(), N, K, bias, c.ep, c.act, ComputeType::I8);
    in_epilogue.init(w.data(), N, K, bias, c.ep, c.act, ComputeType::I8, nullptr, true);
    const float* a = c.ep == Epilogue::ActivateMul ? aux.data() : nullptr;
    std::vector<float> want = start, got = start;
    in_primitive.forward(x.data(), M, want.data(), a);
    in_epilogue.forward(x.data(), M, got.data(), a);
    CHECK(got == want);
    // the per-row epilogue of a quantized product (the int8 decoder's row passes)
    std::vector<int8_t> q(static_cast<size_t>(M * K));
    std::vector<float> rs(static_cast<size_t>(M));
    quantize_rows(x.data(), M, K, q.data(), rs.data());
    std::vector<float> acc1(static_cast<size_t>(M * N)), acc2(static_cast<size_t>(M * N));
    in_primitive.forward_quantized(q.data(), M, acc1.data());
    in_epilogue.forward_quantized(q.data(), M, acc2.data());
    std::vector<float> row_want = start, row_got = start;
    for (int64_t r = 0; r < M; ++r) {
      const float* ar = a ? a + r * N : nullptr;
      in_primitive.finish_row_into(acc1.data() + r * N, rs[static_cast<size_t>(r)], row_want.data() + r * N, ar);
      in_epilogue.finish_row_into(acc2.data() + r * N, rs[static_cast<size_t>(r)], row_got.data() + r * N, ar);
    }
    CHECK(row_got == row_want);
    CHECK(row_want == want);
  }
}

TEST_CASE("Linear: the primitive cache stays bounded over many row counts", "[quantize][linear]") {
  const int64_t K = 16, N = 8;
  auto w = random_values(static_cast<size_t>(N * K), -1.0f, 1.0f, 31);
  const int64_t rows = static_cast<int64_t>(Linear::kMaxCachedShapes) + 24;  // more shapes than are kept
  auto x = random_values(static_cast<size_t>(rows * K), -1.0f, 1.0f, 32);
  Linear lin;
  lin.init(w.data(), N, K, nullptr, Epilogue::None, Activation::Relu, ComputeType::F32);
  std::vector<float> first(static_cast<size_t>(N)), y(static_cast<size_t>(rows * N));
  lin.forward(x.data(), 1, first.data());
  for (int64_t M = 1; M <= rows; ++M) {
    lin.forward(x.data(), M, y.data());
    CHECK(lin.cached_shapes() <= Linear::kMaxCachedShapes);
  }
  CHECK(lin.cached_shapes() == Linear::kMaxCachedShapes);
  std::vector<float> again(static_cast<size_t>(N));
  lin.forward(x.data(), 1, again.data());  // evicted long ago: rebuilt, same result
  CHECK(again == first);
}

TEST_CASE("compute type: resolution and fallbacks", "[quantize]") {
  CpuCaps none;
  none.isa = "pre-avx2";
  CpuCaps vnni;
  vnni.avx2 = vnni.avx512 = vnni.vnni = true;
  vnni.isa = "avx512_core_vnni";
  CpuCaps avx2;
  avx2.avx2 = true;
  avx2.isa = "avx2";
  CHECK(resolve_compute_type("default", "none", vnni).type == ComputeType::F32);
  CHECK(resolve_compute_type("", "int8", vnni).type == ComputeType::I8);
  CHECK(resolve_compute_type("default", "bf16", vnni).type == ComputeType::BF16);
  CHECK(resolve_compute_type("default", "fp16", vnni).type == ComputeType::F32);
  CHECK(resolve_compute_type("auto", "none", vnni).type == ComputeType::I8);
  CHECK(resolve_compute_type("auto", "none", avx2).type == ComputeType::F32);
  CHECK(resolve_compute_type("auto", "none", none).type == ComputeType::F32);
  auto r = resolve_compute_type("int8", "none", none);
  CHECK(r.type == ComputeType::F32);
  CHECK(r.note.find("int8 needs") != std::string::npos);
  r = resolve_compute_type("bf16", "none", avx2);
  CHECK(r.type == ComputeType::F32);
  CHECK(r.note.find("bf16 needs") != std::string::npos);
  CHECK(resolve_compute_type("int8", "none", avx2).type == ComputeType::I8);
  CHECK_THROWS_WITH(resolve_compute_type("int4", "none", vnni), Catch::Contains("unknown compute type 'int4'"));
}

TEST_CASE("compute type: the CPU is named as the kernel names it (/proc/cpuinfo)", "[quantize]") {
  const std::string model = cpu_caps().model;
  std::ifstream in("/proc/cpuinfo");
  if (!in) {
    WARN("no /proc/cpuinfo to compare with; CPU reported as: " << model);
    CHECK(!model.empty());
    return;
  }
  // the first processor's fields: "model name", "cpu family", "model", "stepping"
  std::string line, name, family, number, stepping;
  while (std::getline(in, line) && !line.empty()) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name") name = value;
    else if (key == "cpu family") family = value;
    else if (key == "model") number = value;
    else if (key == "stepping") stepping = value;
  }
  if (family.empty()) {
    WARN("/proc/cpuinfo names no x86 family; CPU reported as: " << model);
    CHECK(!model.empty());
    return;
  }
  INFO("reported: " << model);
  CHECK(model == name + " (family " + family + ", model " + number + ", stepping " + stepping + ")");
}
TEST_CASE("convert --quantize int8: file layout, validation and every compute type", "[quantize][fixtures]") {
  const fs::path dir = fs::path(fixtures_root()) / "models" / "marian";
  if (!attend_test::fixtures_available(dir.string())) return;
  TempDir tmp;
  const std::string f32_path = (tmp.path / "m.attend").string(), q_path = (tmp.path / "m.int8.attend").string();
  ConvertOptions plain;
  convert_model(dir.string(), f32_path, plain);
  ConvertOptions qo;
  qo.quantize = "int8";
  convert_model(dir.string(), q_path, qo);

  ModelFileContents c = read_model_file(q_path);
  CHECK(c.model["quantization"]["weights"] == "int8");
  const HostTensor& qt = c.tensors.at("encoder.layers.0.self_attn.q.weight");
  CHECK(qt.dtype == DType::I8);
  const HostTensor& st = c.tensors.at("encoder.layers.0.self_attn.q.weight.scale");
  CHECK(st.dtype == DType::F32);
  CHECK(st.shape == std::vector<int64_t>{qt.shape[0]});
  CHECK(c.tensors.at("encoder.embed_tokens.weight").dtype != DType::I8);  // embeddings stay float

  // Every compute type runs the int8 file; fp32 compute on it equals fp32 compute on a float
  // file holding the dequantized weights (same numbers), and the fp32 file under int8 compute
  // gives what the int8 file gives under int8 compute (quantization at load is the same rule).
  const std::vector<std::vector<int32_t>> ids = {{5, 6, 7, 8, 0}, {9, 10, 0}};
  TranslateOptions to;
  to.generation.num_beams = 2;
  to.generation.max_new_tokens = 6;
  std::vector<std::vector<int32_t>> by_type;
  for (const char* ct : {"fp32", "bf16", "int8", "auto", "default"}) {
    LoadOptions lo;
    lo.compute_type = ct;
    auto m = Model::load(q_path, lo);
    auto res = m->generate(ids, to);
    REQUIRE(res.size() == 2);
    CHECK(!res[0].hypotheses.at(0).ids.empty());
    if (std::string(ct) == "default") CHECK(m->info().compute_type == (cpu_caps().avx2 ? "int8" : "fp32"));
    if (std::string(ct) == "int8" || std::string(ct) == "default") by_type.push_back(res[0].hypotheses[0].ids);
  }
  CHECK(by_type[0] == by_type[1]);
  {
    LoadOptions lo;
    lo.compute_type = "int8";
    auto from_float = Model::load(f32_path, lo)->generate(ids, to);
    auto from_int8 = Model::load(q_path, lo)->generate(ids, to);
    CHECK(from_float[0].hypotheses[0].ids == from_int8[0].hypotheses[0].ids);
    CHECK(from_float[1].hypotheses[0].ids == from_int8[1].hypotheses[0].ids);
  }

  // Untrusted input: a scale that is not a finite positive number, or a missing scale tensor.
  auto rewrite = [&](const std::string& out, bool drop_scale) {
    TensorMap t = c.tensors;
    const std::string sname = "decoder.layers.0.ffn.wo.weight.scale";
    if (drop_scale) {
      t.erase(sname);
    } else {
      std::vector<float> s = t.at(sname).to_f32();
      s[3] = -1.0f;
      t[sname] = make_f32_tensor(t.at(sname).shape, s);
    }
    nlohmann::json model = c.model;
    std::map<std::string, std::string> aliases;
    if (model.contains("aliases")) aliases = model["aliases"].get<std::map<std::string, std::string>>();
    model.erase("aliases");
    for (const auto& [from, to_name] : aliases) t.erase(from);
    write_model_file(out, model, t, aliases, c.tokenizer_files);
  };
  const std::string bad1 = (tmp.path / "bad1.attend").string(), bad2 = (tmp.path / "bad2.attend").string();
  rewrite(bad1, false);
  rewrite(bad2, true);
  CHECK_THROWS_WITH(Model::load(bad1), Catch::Contains("decoder.layers.0.ffn.wo.weight.scale") &&
                                           Catch::Contains("not a finite positive number"));
  CHECK_THROWS_WITH(Model::load(bad2), Catch::Contains("has no scale tensor 'decoder.layers.0.ffn.wo.weight.scale'"));

  // bf16 / fp16 quantization store every float tensor in that type and record it.
  ConvertOptions bo;
  bo.quantize = "bf16";
  const std::string b_path = (tmp.path / "m.bf16.attend").string();
  convert_model(dir.string(), b_path, bo);
  ModelFileContents bc = read_model_file(b_path);
  CHECK(bc.model["quantization"]["weights"] == "bf16");
  CHECK(bc.tensors.at("encoder.layers.0.self_attn.q.weight").dtype == DType::BF16);
  ConvertOptions clash;
  clash.quantize = "fp16";
  clash.dtype = "bf16";
  CHECK_THROWS_WITH(convert_model(dir.string(), (tmp.path / "x.attend").string(), clash),
                    Catch::Contains("cannot be combined"));
}

// Issue 12: large weight matrices (the LM head) are converted in blocks of output rows, each
// block's source rows reported as done; int8 rows can be finished by the caller.
TEST_CASE("Linear: a matrix converted in row blocks computes the same product", "[quantize][linear]") {
  const int64_t K = 512, N = 9001, M = 5;  // 4.6M weights: more than one conversion block
  auto w = random_values(static_cast<size_t>(N * K), -1.0f, 1.0f, 41);
  auto x = random_values(static_cast<size_t>(M * K), -1.0f, 1.0f, 42);
  const CpuCaps caps = cpu_caps();
  std::vector<ComputeType> types = {ComputeType::F32};
  if (resolve_compute_type("bf16", "", caps).type == ComputeType::BF16) types.push_back(ComputeType::BF16);
  if (resolve_compute_type("int8", "", caps).type == ComputeType::I8) types.push_back(ComputeType::I8);
  for (ComputeType ct : types) {
    Linear lin;
    std::vector<std::pair<int64_t, int64_t>> done;
    lin.init(w.data(), N, K, nullptr, Epilogue::None, Activation::Relu, ct,
             [&](int64_t a, int64_t b) { done.emplace_back(a, b); });
    REQUIRE(lin.compute_type() == ct);
    // every source row reported once, in order
    REQUIRE(done.size() > 1);
    int64_t next = 0;
    for (auto& d : done) {
      CHECK(d.first == next);
      next = d.second;
    }
    CHECK(next == N);
    std::vector<float> y(static_cast<size_t>(M * N));
    lin.forward(x.data(), M, y.data());
    // relative tolerance of each scheme (bf16 and int8 round the operands)
    const double tol = ct == ComputeType::F32 ? 1e-4 : ct == ComputeType::BF16 ? 2e-2 : 3e-2;
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = 0; n < N; n += 7) {  // every 7th column: all blocks, incl. the tail
        double ref = 0.0, mag = 0.0;
        for (int64_t k = 0; k < K; ++k) {
          ref += static_cast<double>(x[m * K + k]) * w[n * K + k];
          mag += std::fabs(static_cast<double>(x[m * K + k]) * w[n * K + k]);
        }
        CHECK(std::fabs(y[m * N + n] - ref) <= tol * mag / std::sqrt(static_cast<double>(K)) + 1e-5);
      }
      CHECK(std::fabs(y[m * N + N - 1] - [&] {
              double r = 0.0;
              for (int64_t k = 0; k < K; ++k) r += static_cast<double>(x[m * K + k]) * w[(N - 1) * K + k];
              return r;
            }()) <= 0.5);
    }
    if (ct == ComputeType::I8) {  // deferred epilogue: finishing each row gives forward()'s bits
      std::vector<float> d(y.size()), rs(static_cast<size_t>(M));
      REQUIRE(lin.forward_deferred(x.data(), M, d.data(), rs.data()));
      for (int64_t m = 0; m < M; ++m) lin.finish_row(d.data() + m * N, rs[static_cast<size_t>(m)]);
      CHECK(d == y);
    } else {
      std::vector<float> d(y.size()), rs(static_cast<size_t>(M));
      CHECK_FALSE(lin.forward_deferred(x.data(), M, d.data(), rs.data()));
      CHECK(d == y);
    }
  }
}

// The blocked LM head of compute type ct (int8, fp32) against the whole layer: its logits, and
// beam search's fused top-k against a softmax and sort of those logits.
void check_blocked_lm_head(ComputeType ct) {
  // vocab 1000 in blocks of 128 (the last one short), 7 rows; logits spread like a real head's
  const int64_t V = 1000, d = 48, M = 7, block = 128;
  auto w = random_values(static_cast<size_t>(V * d), -1.0f, 1.0f, 41);
  auto bias = random_values(static_cast<size_t>(V), -2.0f, 2.0f, 42);
  auto x = random_values(static_cast<size_t>(M * d), -1.5f, 1.5f, 43);
  for (int64_t c = 0; c < d; ++c) w[static_cast<size_t>(17 * d + c)] = w[static_cast<size_t>(900 * d + c)];  // 17 and 900 tie
  bias[17] = bias[900];
  LmHead whole, blocked;
  whole.init(w.data(), V, d, bias.data(), ct, nullptr, 4 * V);  // one block: not blocked
  blocked.init(w.data(), V, d, bias.data(), ct, nullptr, block);
  REQUIRE_FALSE(whole.blocked());
  REQUIRE(blocked.blocked());
  std::vector<float> ref(static_cast<size_t>(M * V)), got(static_cast<size_t>(M * V));
  whole.forward(x.data(), M, ref.data());
  blocked.forward(x.data(), M, got.data());
  CHECK(got == ref);  // int8: the same integer products, scales and bias per column; fp32: the same sums

  // top-k: pad-like token 5 excluded from everything, per-row bans, k = 8
  std::vector<std::vector<int32_t>> bans(static_cast<size_t>(M));
  bans[0] = {3, 250, 999};
  bans[2] = {17};
  RowTopK io;
  io.k = 8;
  io.excluded = 5;
  io.banned = &bans;
  blocked.top_k(x.data(), M, io);
  for (int64_t r = 0; r < M; ++r) {
    INFO("row " << r);
    const float* row = ref.data() + r * V;
    // reference: softmax over everything but the excluded token, candidates by (logit desc, id asc)
    double mx = -1e30;
    for (int64_t v = 0; v < V; ++v)
      if (v != 5) mx = std::max(mx, static_cast<double>(row[v]));
    double sum = 0.0;
    for (int64_t v = 0; v < V; ++v)
      if (v != 5) sum += std::exp(static_cast<double>(row[v]) - mx);
    CHECK(io.max[static_cast<size_t>(r)] == static_cast<float>(mx));
    CHECK(std::abs(io.lse[static_cast<size_t>(r)] - std::log(sum)) < 1e-5);
    std::vector<int32_t> order;
    for (int32_t v = 0; v < V; ++v) {
      const auto& b = bans[static_cast<size_t>(r)];
      if (v != 5 && std::find(b.begin(), b.end(), v) == b.end()) order.push_back(v);
    }
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
    REQUIRE(io.count[static_cast<size_t>(r)] == 8);
    for (int i = 0; i < 8; ++i) {
      CHECK(io.ids[static_cast<size_t>(r * 8 + i)] == order[static_cast<size_t>(i)]);
      CHECK(io.logits[static_cast<size_t>(r * 8 + i)] == row[order[static_cast<size_t>(i)]]);
    }
  }
  // the same on one thread and on two (blocks handed out in another order)
  RowTopK again = io;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(threads == 1 ? 2 : 1);
  blocked.top_k(x.data(), M, again);
  omp_set_num_threads(threads);
  CHECK(again.ids == io.ids);
  CHECK(again.logits == io.logits);
  CHECK(again.lse == io.lse);
  CHECK(again.max == io.max);

  // logits far from 0 (block sums then taken against the block's max instead of 0): all
  // shifted up past 80, all down past -40, and only the first block up (blocks summed against
  // different references combined)
  for (const int pattern : {0, 1, 2}) {
    INFO("pattern " << pattern);
    std::vector<float> shifted = bias;
    for (int64_t v = 0; v < V; ++v)
      shifted[static_cast<size_t>(v)] += pattern == 0 ? 100.0f : pattern == 1 ? -70.0f : (v < block ? 100.0f : 0.0f);
    LmHead whole2, blocked2;
    whole2.init(w.data(), V, d, shifted.data(), ct, nullptr, 4 * V);
    blocked2.init(w.data(), V, d, shifted.data(), ct, nullptr, block);
    std::vector<float> ref2(static_cast<size_t>(M * V));
    whole2.forward(x.data(), M, ref2.data());
    RowTopK io2;
    io2.k = 8;
    blocked2.top_k(x.data(), M, io2);
    for (int64_t r = 0; r < M; ++r) {
      const float* row = ref2.data() + r * V;
      const double mx = *std::max_element(row, row + V);
      double sum = 0.0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
      CHECK(io2.max[static_cast<size_t>(r)] == static_cast<float>(mx));
      CHECK(std::abs(io2.lse[static_cast<size_t>(r)] - std::log(sum)) < 1e-5);
      std::vector<int32_t> order(static_cast<size_t>(V));
      for (int32_t v = 0; v < V; ++v) order[static_cast<size_t>(v)] = v;
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
      for (int i = 0; i < 8; ++i) CHECK(io2.ids[static_cast<size_t>(r * 8 + i)] == order[static_cast<size_t>(i)]);
    }
  }

  // a banned top candidate is skipped, and a row with everything banned has no candidates
  std::vector<std::vector<int32_t>> all(static_cast<size_t>(M));
  for (int32_t v = 0; v < V; ++v) all[1].push_back(v);
  io.banned = &all;
  blocked.top_k(x.data(), M, io);
  CHECK(io.count[1] == 0);
  CHECK(io.count[0] == 8);
}

TEST_CASE("LM head: int8 column blocks give the whole layer's logits and its top-k", "[quantize][linear]") {
  check_blocked_lm_head(ComputeType::I8);
}

TEST_CASE("LM head: fp32 column blocks give the whole layer's logits and its top-k", "[quantize][linear]") {
  check_blocked_lm_head(ComputeType::F32);
}

// The int8 decoder's row-fused step against the op-by-op step: the same states bit for bit with
// RMS norm (the same arithmetic), within rounding with LayerNorm (statistics in double fused,
// float or oneDNN's op by op). The bundled model (post-norm LayerNorm) always; every fixture
// model (pre-norm, RMS norm, gated feed-forward) when the fixtures are there.
namespace {

using States = std::vector<std::vector<float>>;

// What a run of decoder steps left: every layer state, and the last step's top-k candidates
// when the model has the blocked int8 LM head (DecoderState::step_top_k).
struct Stepped {
  States states;
  bool top_k = false;
  attend::RowTopK io;
};

// `steps` decoder steps over `rows` rows (two inputs, beams alternating), row-fused or op by
// op; the last one through step_top_k when the model has it.
Stepped run_steps(const attend::Model::Impl& impl, bool fused, int rows, int steps) {
  const attend::Transformer& net = *impl.net;
  const int vocab = net.spec().vocab_size, src_vocab = net.spec().src_vocab_size;
  const attend_test::TwoInputs in = attend_test::two_inputs(src_vocab, 7, 5);  // the second one padded
  const auto enc = net.encode(in.ids, in.mask);
  attend::DecoderState st(net, enc);
  st.set_row_fusion(fused);
  Stepped out;
  st.record_layers(&out.states);
  const int32_t start = impl.defaults.decoder_start_token_id;
  st.step({start, start});
  std::vector<int32_t> from;
  for (int r = 0; r < rows; ++r) from.push_back(r % 2);
  st.select_rows(from);
  for (int t = 1; t < steps; ++t) {
    std::vector<int32_t> tokens;
    for (int r = 0; r < rows; ++r) tokens.push_back(static_cast<int32_t>(3 + (r * 7919 + t * 104729) % (vocab - 4)));
    if (t + 1 == steps && st.has_step_top_k()) {
      out.io.k = 8;
      out.top_k = st.step_top_k(tokens, out.io);
    } else {
      st.step(tokens);
    }
  }
  return out;
}

// Relative RMS difference of two equally long vectors.
double relative_rms(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, norm = 0.0;
  for (size_t j = 0; j < a.size(); ++j) {
    diff += (static_cast<double>(a[j]) - b[j]) * (static_cast<double>(a[j]) - b[j]);
    norm += static_cast<double>(b[j]) * b[j];
  }
  return std::sqrt(diff / norm);
}

void check_fused_against_op_by_op(const std::string& path) {
  INFO(path);
  const auto impl = attend::load_model_impl(path, 0, "int8");
  if (!impl->net->int8_row_fused_decoder()) {
    WARN(path << ": a decoder layer fell back from int8 on this CPU; the row-fused step does not run");
    return;
  }
  // RMS norm: the same row function both ways, so the same bits. LayerNorm: the fused rows
  // accumulate its statistics in double, op by op they are float (up to 16 rows) or oneDNN's.
  const bool same_arithmetic = impl->net->spec().norm == attend::NormKind::RMSNorm;
  for (int rows : {8, 40}) {
    INFO(rows << " rows");
    const Stepped a = run_steps(*impl, true, rows, 4), b = run_steps(*impl, false, rows, 4);
    REQUIRE(a.states.size() == b.states.size());
    REQUIRE(!a.states.empty());
    for (size_t i = 0; i < a.states.size(); ++i) {
      INFO("state " << i);
      REQUIRE(a.states[i].size() == b.states[i].size());
      if (same_arithmetic) CHECK(a.states[i] == b.states[i]);
      else CHECK(relative_rms(a.states[i], b.states[i]) < 1e-2);
    }
    // the last step's candidates: from the rows the fused last pass quantized for the LM head
    // (final norm and logits scale in that pass) against the head quantizing x itself
    REQUIRE(a.top_k == b.top_k);
    if (!a.top_k) continue;
    if (same_arithmetic) {
      CHECK(a.io.ids == b.io.ids);
      CHECK(a.io.logits == b.io.logits);
      CHECK(a.io.lse == b.io.lse);
    } else {
      CHECK(relative_rms(a.io.lse, b.io.lse) < 1e-2);
      CHECK(relative_rms(a.io.max, b.io.max) < 1e-2);
    }
  }
}

}  // namespace

TEST_CASE("int8 decoder: the row-fused step gives the op-by-op step's states (bundled model)", "[int8][decoder]") {
  check_fused_against_op_by_op(ATTEND_DEFAULT_MODEL_PATH);
}

TEST_CASE("int8 decoder: the row-fused step gives the op-by-op step's states (t5-small shape: RMS norm, blocked head)",
          "[int8][decoder]") {
  // T5 with a vocabulary large enough for the blocked int8 LM head: its final RMS norm and
  // logits scale go into the last layer's pass (the fixtures' T5 vocabularies are too small)
  TempDir tmp;
  const std::string path = (tmp.path / "t5.attend").string();
  attend::RandomModelOptions o;
  o.seed = 3;
  attend::write_random_model("t5-small", path, o);
  check_fused_against_op_by_op(path);
}

TEST_CASE("int8 decoder: the row-fused step gives the op-by-op step's states (every fixture model)",
          "[int8][decoder][fixtures]") {
  const std::string root = fixtures_root() + "/models";
  if (!attend_test::fixtures_available(root)) return;
  int models = 0;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    if (!e.is_directory() || !std::filesystem::exists(e.path() / "config.json")) continue;
    check_fused_against_op_by_op(e.path().string());
    ++models;
  }
  CHECK(models > 0);
}

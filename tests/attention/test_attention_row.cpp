// tests/attention/test_attention_row.cpp — the fused attention core (engine/kernels/attention): one
// query row against keys/values read through slot tables and masks, in float, bf16 and IEEE-half
// storage (the reduced-precision decoder caches), checked against a plain double-precision
// reference; and
// the small-row layer norm loop of reduced-precision runs against the oneDNN primitive.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "engine/kernels/attention.hpp"
#include "engine/kernels/dnnl_ops.hpp"
#include "engine/kernels/half.hpp"
#include "engine/kernels/quantize.hpp"
#include "engine/kernels/simd.hpp"
#include "tests/support/simd_paths.hpp"

namespace {

float from_bf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// softmax(scale * q.k_j + bias) . v_j per head, in double, keys j read at slot s of position j.
std::vector<double> reference(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                              const std::vector<int32_t>& slots, int64_t slot_stride, int64_t stride,
                              const std::vector<int32_t>& mask, int n, int heads, int dh, float scale,
                              const std::vector<float>* bias = nullptr) {
  std::vector<double> ctx(static_cast<size_t>(heads * dh), 0.0);
  for (int h = 0; h < heads; ++h) {
    std::vector<double> s(static_cast<size_t>(n), -INFINITY);
    double mx = -INFINITY;
    for (int j = 0; j < n; ++j) {
      if (!mask[static_cast<size_t>(j)]) continue;
      const size_t at = static_cast<size_t>(slots[static_cast<size_t>(j)] * slot_stride + j * stride + h * dh);
      double dot = 0.0;
      for (int d = 0; d < dh; ++d) dot += static_cast<double>(q[static_cast<size_t>(h * dh + d)]) * k[at + static_cast<size_t>(d)];
      s[static_cast<size_t>(j)] = dot * scale + (bias ? (*bias)[static_cast<size_t>(h * n + j)] : 0.0);
      mx = std::max(mx, s[static_cast<size_t>(j)]);
    }
    double sum = 0.0;
    for (int j = 0; j < n; ++j) sum += mask[static_cast<size_t>(j)] ? std::exp(s[static_cast<size_t>(j)] - mx) : 0.0;
    for (int j = 0; j < n; ++j) {
      if (!mask[static_cast<size_t>(j)]) continue;
      const double w = std::exp(s[static_cast<size_t>(j)] - mx) / sum;
      const size_t at = static_cast<size_t>(slots[static_cast<size_t>(j)] * slot_stride + j * stride + h * dh);
      for (int d = 0; d < dh; ++d) ctx[static_cast<size_t>(h * dh + d)] += w * v[at + static_cast<size_t>(d)];
    }
  }
  return ctx;
}

// A float view of keys/values read through slot tables and a mask.
attend::KeyValueView float_view(const std::vector<float>& k, const std::vector<float>& v, int64_t stride, int n,
                                const std::vector<int32_t>& mask, const std::vector<int32_t>& slots, int64_t slot_stride) {
  attend::KeyValueView f;
  f.k = k.data();
  f.v = v.data();
  f.stride = stride;
  f.length = n;
  f.mask = mask.data();
  f.slots = slots.data();
  f.slot_stride = slot_stride;
  return f;
}

}  // namespace

TEST_CASE("attention row: float and bf16 caches through slot tables and masks", "[attention][kernels]") {
  const int heads = 8, dh = 64, inner = heads * dh, nslots = 3;
  const float scale = 0.125f;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const int n : {1, 7, 33}) {
    const int64_t stride = inner, slot_stride = static_cast<int64_t>(n) * inner;
    const size_t total = static_cast<size_t>(nslots) * static_cast<size_t>(slot_stride);
    std::vector<float> q(static_cast<size_t>(inner)), k(total), v(total);
    for (auto& x : q) x = nd(rng);
    for (auto& x : k) x = nd(rng);
    for (auto& x : v) x = nd(rng);
    // keys and values rounded to bf16, kept both as float and as bf16 bits
    std::vector<uint16_t> k16(total), v16(total);
    attend::to_bf16(k.data(), total, k16.data());
    attend::to_bf16(v.data(), total, v16.data());
    for (size_t i = 0; i < total; ++i) k[i] = from_bf16(k16[i]), v[i] = from_bf16(v16[i]);
    std::vector<int32_t> slots(static_cast<size_t>(n)), mask(static_cast<size_t>(n), 1);
    for (int j = 0; j < n; ++j) slots[static_cast<size_t>(j)] = (j * 5 + 1) % nslots;
    if (n > 2) mask[1] = 0;  // a padded key: weight exactly 0

    attend::KeyValueView f = float_view(k, v, stride, n, mask, slots, slot_stride);
    attend::KeyValueView t = f;  // scores summed by the register tree (AVX-512 CPUs)
    t.fast_scores = true;
    attend::KeyValueView b = f;
    b.k = b.v = nullptr;
    b.k16 = k16.data();
    b.v16 = v16.data();

    std::vector<float> scratch(attend::attend_row_scratch(heads, n));
    std::vector<float> ctx_f(static_cast<size_t>(inner)), ctx_b(static_cast<size_t>(inner));
    std::vector<float> probs(static_cast<size_t>(heads * n));
    attend::attend_row(q.data(), f, attend::ScoreBias{}, heads, dh, scale, ctx_f.data(), scratch.data(), probs.data());
    attend::attend_row(q.data(), b, attend::ScoreBias{}, heads, dh, scale, ctx_b.data(), scratch.data());
    std::vector<float> ctx_t(static_cast<size_t>(inner)), probs_t(static_cast<size_t>(heads * n));
    attend::attend_row(q.data(), t, attend::ScoreBias{}, heads, dh, scale, ctx_t.data(), scratch.data(), probs_t.data());
    const std::vector<double> want = reference(q, k, v, slots, slot_stride, stride, mask, n, heads, dh, scale);

    INFO("length " << n);
    // bf16 storage widens exactly: both paths compute on the same values (summation order may
    // differ with the vectorisation of each element type)
    double worst_f = 0.0, worst_b = 0.0, worst_t = 0.0, worst_pt = 0.0;
    for (int i = 0; i < inner; ++i) {
      worst_f = std::max(worst_f, std::abs(ctx_f[static_cast<size_t>(i)] - want[static_cast<size_t>(i)]));
      worst_b = std::max(worst_b, std::abs(ctx_b[static_cast<size_t>(i)] - want[static_cast<size_t>(i)]));
      worst_t = std::max(worst_t, std::abs(ctx_t[static_cast<size_t>(i)] - want[static_cast<size_t>(i)]));
    }
    for (size_t i = 0; i < probs.size(); ++i) worst_pt = std::max(worst_pt, static_cast<double>(std::abs(probs_t[i] - probs[i])));
    CHECK(worst_f < 1e-4);
    CHECK(worst_b < 1e-4);
    CHECK(worst_t < 1e-4);
    CHECK(worst_pt < 1e-5);  // the two sums of the same products differ by rounding only
    for (int h = 0; h < heads; ++h) {
      double sum = 0.0;
      for (int j = 0; j < n; ++j) sum += probs[static_cast<size_t>(h * n + j)];
      CHECK(sum == Approx(1.0).epsilon(1e-5));
      if (n > 2) CHECK(probs[static_cast<size_t>(h * n + 1)] == 0.0f);
    }
  }
}

TEST_CASE("attention row: an IEEE-half cache (int8 runs) computes on the same values as a float one", "[attention][kernels]") {
  // Keys and values rounded to half are kept as float too: the half view widens them exactly,
  // so with the AVX-512 kernels (the 16-key score folds and the four-heads value pass) both
  // views give the same bits; the portable loops are checked against the double reference.
  // 6 heads: the value pass's four-head groups do not divide them (portable value loop).
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  attend_test::for_each_simd_path([&](bool avx512) {
    for (const int heads : {8, 6}) {
      for (const int n : {1, 7, 16, 17, 33}) {
        const int dh = 64, inner = heads * dh, nslots = 3;
        const int64_t stride = inner, slot_stride = static_cast<int64_t>(n) * inner;
        const size_t total = static_cast<size_t>(nslots) * static_cast<size_t>(slot_stride);
        std::vector<float> q(static_cast<size_t>(inner)), k(total), v(total), bias(static_cast<size_t>(heads * n));
        for (auto& x : q) x = nd(rng);
        for (auto& x : k) x = nd(rng);
        for (auto& x : v) x = nd(rng);
        for (auto& x : bias) x = nd(rng);
        std::vector<uint16_t> k16(total), v16(total);
        attend::simd::to_half(k.data(), static_cast<int64_t>(total), k16.data());
        attend::simd::to_half(v.data(), static_cast<int64_t>(total), v16.data());
        for (size_t i = 0; i < total; ++i) k[i] = attend::half_to_float(k16[i]), v[i] = attend::half_to_float(v16[i]);
        std::vector<int32_t> slots(static_cast<size_t>(n)), mask(static_cast<size_t>(n), 1);
        for (int j = 0; j < n; ++j) slots[static_cast<size_t>(j)] = (j * 7 + 2) % nslots;
        if (n > 2) mask[static_cast<size_t>(n / 2)] = 0;
        if (n == 33) mask[16] = mask[32] = 0;  // masked keys inside and at the end of a group of 16

        attend::KeyValueView f = float_view(k, v, stride, n, mask, slots, slot_stride);
        f.fast_scores = true;
        attend::KeyValueView h = f;
        h.k = h.v = nullptr;
        h.k16 = k16.data();
        h.v16 = v16.data();
        h.fp16 = true;
        attend::ScoreBias sb;
        sb.data = bias.data();
        sb.head_stride = n;

        std::vector<float> scratch(attend::attend_row_scratch(heads, n));
        std::vector<float> ctx_f(static_cast<size_t>(inner)), ctx_h(static_cast<size_t>(inner));
        std::vector<float> probs_f(static_cast<size_t>(heads * n)), probs_h(probs_f.size());
        attend::attend_row(q.data(), f, sb, heads, dh, 0.125f, ctx_f.data(), scratch.data(), probs_f.data());
        attend::attend_row(q.data(), h, sb, heads, dh, 0.125f, ctx_h.data(), scratch.data(), probs_h.data());
        const std::vector<double> want = reference(q, k, v, slots, slot_stride, stride, mask, n, heads, dh, 0.125f, &bias);
        INFO((avx512 ? "AVX-512" : "portable") << ", heads " << heads << ", length " << n);
        double worst_f = 0.0, worst_h = 0.0;
        for (int i = 0; i < inner; ++i) {
          worst_f = std::max(worst_f, std::abs(ctx_f[static_cast<size_t>(i)] - want[static_cast<size_t>(i)]));
          worst_h = std::max(worst_h, std::abs(ctx_h[static_cast<size_t>(i)] - want[static_cast<size_t>(i)]));
        }
        CHECK(worst_f < 1e-4);
        CHECK(worst_h < 1e-4);
        if (avx512) {
          CHECK(ctx_h == ctx_f);
          CHECK(probs_h == probs_f);
        }
        for (int hh = 0; hh < heads; ++hh) {
          if (n > 2) CHECK(probs_h[static_cast<size_t>(hh * n + n / 2)] == 0.0f);
          if (n == 33) CHECK(probs_h[static_cast<size_t>(hh * n + 32)] == 0.0f);
        }
      }
    }
  });
}

TEST_CASE("layer norm: the small-row loop of reduced-precision runs matches the oneDNN primitive", "[kernels][norm]") {
  const int64_t d = 512;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.5f, 2.0f);
  std::vector<float> gamma(static_cast<size_t>(d)), beta(static_cast<size_t>(d));
  for (auto& g : gamma) g = nd(rng);
  for (auto& b : beta) b = nd(rng);
  attend::LayerNorm prim, loop;
  prim.init(gamma.data(), beta.data(), d, 1e-5f);
  loop.init(gamma.data(), beta.data(), d, 1e-5f);
  loop.set_small_rows_loop(true);
  for (const int64_t M : {int64_t{1}, int64_t{4}, attend::LayerNorm::kSmallRows, attend::LayerNorm::kSmallRows + 3}) {
    std::vector<float> x(static_cast<size_t>(M * d));
    for (auto& v : x) v = nd(rng);
    std::vector<float> a(x.size()), b(x.size());
    prim.forward(x.data(), M, a.data());
    loop.forward(x.data(), M, b.data());
    double worst = 0.0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])) / (1.0 + std::abs(a[i])));
    INFO("rows " << M);
    CHECK(worst < 1e-5);
    // in place, as the decoder calls it
    std::vector<float> c = x;
    loop.forward(c.data(), M, c.data());
    CHECK(std::memcmp(c.data(), b.data(), c.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("RMS norm: rows against a double-precision reference, in place and over 1 and 2 threads", "[kernels][norm]") {
  std::mt19937 rng(13);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (const int64_t d : {int64_t{1}, int64_t{7}, int64_t{512}, int64_t{515}}) {
    std::vector<float> w(static_cast<size_t>(d));
    for (auto& v : w) v = nd(rng);
    attend::RMSNorm norm;
    norm.init(w.data(), d, 1e-6f);
    const int64_t M = 40;  // above the parallel threshold for the wide rows
    std::vector<float> x(static_cast<size_t>(M * d)), y(x.size());
    for (auto& v : x) v = nd(rng);
    norm.forward(x.data(), M, y.data());
    double worst = 0.0;
    for (int64_t r = 0; r < M; ++r) {
      double ss = 0.0;
      for (int64_t i = 0; i < d; ++i) ss += static_cast<double>(x[static_cast<size_t>(r * d + i)]) * x[static_cast<size_t>(r * d + i)];
      const double inv = 1.0 / std::sqrt(ss / static_cast<double>(d) + 1e-6);
      for (int64_t i = 0; i < d; ++i) {
        const double want = w[static_cast<size_t>(i)] * (x[static_cast<size_t>(r * d + i)] * inv);
        worst = std::max(worst, std::abs(y[static_cast<size_t>(r * d + i)] - want) / (1.0 + std::abs(want)));
      }
    }
    INFO("d " << d);
    CHECK(worst < 1e-5);
    std::vector<float> c = x;  // in place, as the decoder calls it
    norm.forward(c.data(), M, c.data());
    CHECK(std::memcmp(c.data(), y.data(), c.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("attention row: an int8 cache (int8 runs) against its dequantized keys and values", "[attention][kernels]") {
  // kv8_store's entries: per head the int8 elements and the scale quantize_row gives; the kernel
  // then matches a double reference over the dequantized keys and values and the query rounded
  // to int16 per head as the kernel rounds it, on the AVX-512 and the portable paths, through
  // slot tables, masks and a score bias. 6 heads: the value pass's four-head groups do not
  // divide them (nor do the four-head folds of a short last block); head size 32: the portable
  // score and value loops.
  std::mt19937 rng(13);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  attend_test::for_each_simd_path([&](bool avx512) {
    for (const int dh : {64, 32}) {
      for (const int heads : {8, 6}) {
        for (const int n : {1, 4, 7, 16, 17, 20, 24, 33}) {
          const int inner = heads * dh, nslots = 3;
          const int64_t entry = static_cast<int64_t>(attend::kv8_entry_bytes(heads, dh));
          REQUIRE(entry == inner + 4 * heads);
          const int64_t slot_stride = static_cast<int64_t>(n) * inner;
          const size_t total = static_cast<size_t>(nslots) * static_cast<size_t>(slot_stride);
          std::vector<float> q(static_cast<size_t>(inner)), k(total), v(total), bias(static_cast<size_t>(heads * n));
          for (auto& x : q) x = nd(rng);
          for (auto& x : k) x = 3.0f * nd(rng);
          for (auto& x : v) x = nd(rng);
          for (auto& x : bias) x = nd(rng);
          // position p's key and value entries (slot s, position j: p = s * n + j), 4-byte aligned
          const size_t positions = static_cast<size_t>(nslots) * static_cast<size_t>(n);
          std::vector<float> k_words(positions * static_cast<size_t>(entry) / 4), v_words(k_words.size());
          auto* k8 = reinterpret_cast<int8_t*>(k_words.data());
          auto* v8 = reinterpret_cast<int8_t*>(v_words.data());
          for (size_t p = 0; p < positions; ++p) {
            if (p == 4) std::fill(k.begin() + static_cast<int64_t>(p) * inner, k.begin() + static_cast<int64_t>(p) * inner + dh, 0.0f);
            attend::kv8_store(k.data() + p * static_cast<size_t>(inner), heads, dh, k8 + p * static_cast<size_t>(entry));
            attend::kv8_store(v.data() + p * static_cast<size_t>(inner), heads, dh, v8 + p * static_cast<size_t>(entry));
          }
          // the entries are quantize_row's rows and scales; k and v become what they dequantize to
          for (auto* pair : {&k, &v}) {
            const int8_t* e8 = pair == &k ? k8 : v8;
            for (size_t p = 0; p < positions; ++p) {
              const int8_t* e = e8 + p * static_cast<size_t>(entry);
              const float* scales = reinterpret_cast<const float*>(e + inner);
              for (int h = 0; h < heads; ++h) {
                float* x = pair->data() + p * static_cast<size_t>(inner) + static_cast<size_t>(h * dh);
                std::vector<int8_t> want(static_cast<size_t>(dh));
                float want_scale = 0.0f;
                attend::quantize_row(x, dh, want.data(), &want_scale);
                CHECK(scales[h] == want_scale);
                CHECK(std::memcmp(e + h * dh, want.data(), static_cast<size_t>(dh)) == 0);
                for (int d = 0; d < dh; ++d) x[d] = static_cast<float>(e[h * dh + d]) * scales[h];
              }
            }
          }
          std::vector<int32_t> slots(static_cast<size_t>(n)), mask(static_cast<size_t>(n), 1);
          for (int j = 0; j < n; ++j) slots[static_cast<size_t>(j)] = (j * 7 + 2) % nslots;
          if (n > 2) mask[static_cast<size_t>(n / 2)] = 0;
          if (n == 33) mask[16] = mask[32] = 0;
          if (n == 20) mask[18] = 0;  // masked keys in a short last block (shared folds)
          if (n == 24) mask[16] = mask[23] = 0;

          attend::KeyValueView view;
          view.k8 = k8;
          view.v8 = v8;
          view.stride = entry;
          view.slot_stride = static_cast<int64_t>(n) * entry;
          view.length = n;
          view.mask = mask.data();
          view.slots = slots.data();
          attend::ScoreBias sb;
          sb.data = bias.data();
          sb.head_stride = n;
          std::vector<float> scratch(attend::attend_row_scratch(heads, n));
          std::vector<float> ctx(static_cast<size_t>(inner)), probs(static_cast<size_t>(heads * n));
          attend::attend_row(q.data(), view, sb, heads, dh, 0.125f, ctx.data(), scratch.data(), probs.data());
          {  // short last blocks folded one head at a time: the same bits as several heads per fold
            attend::kPackScoreBlocks = false;
            std::vector<float> ctx1(ctx.size()), probs1(probs.size());
            attend::attend_row(q.data(), view, sb, heads, dh, 0.125f, ctx1.data(), scratch.data(), probs1.data());
            attend::kPackScoreBlocks = true;
            CHECK(ctx1 == ctx);
            CHECK(probs1 == probs);
          }
          // the query as the kernel uses it: int16 per head, scale max |q_h| / 32767
          std::vector<float> q16(q);
          for (int h = 0; h < heads; ++h) {
            float mx = 0.0f;
            for (int d = 0; d < dh; ++d) mx = std::max(mx, std::abs(q[static_cast<size_t>(h * dh + d)]));
            for (int d = 0; d < dh; ++d) {
              float& x = q16[static_cast<size_t>(h * dh + d)];
              x = std::nearbyint(x * (32767.0f / mx)) * (mx / 32767.0f);
            }
          }
          const std::vector<double> want =
              reference(q16, k, v, slots, slot_stride, inner, mask, n, heads, dh, 0.125f, &bias);
          INFO((avx512 ? "AVX-512" : "portable") << ", head size " << dh << ", heads " << heads << ", length " << n);
          double worst = 0.0;
          for (int i = 0; i < inner; ++i) worst = std::max(worst, std::abs(ctx[static_cast<size_t>(i)] - want[static_cast<size_t>(i)]));
          CHECK(worst < 1e-4);
          for (int h = 0; h < heads; ++h) {
            double sum = 0.0;
            for (int j = 0; j < n; ++j) sum += probs[static_cast<size_t>(h * n + j)];
            CHECK(sum == Approx(1.0).epsilon(1e-5));
            if (n > 2) CHECK(probs[static_cast<size_t>(h * n + n / 2)] == 0.0f);
          }
        }
      }
    }
  });
}

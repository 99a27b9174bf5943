// tests/unit/test_simd.cpp — engine/simd's loops (AVX-512 and portable) against their scalar
// definitions: int8 quantization, matmul epilogues, the softmax exp, the top-k skip scan, the
// float log_softmax of reduced-precision decoding and the IEEE-half conversion of int8 runs'
// attention keys and values, and the fixed-order lane sums of the norms and bf16 attention.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <iomanip>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "engine/decoding/logits_processors.hpp"
#include "engine/kernels/half.hpp"
#include "engine/kernels/lane_sum.hpp"
#include "engine/kernels/simd.hpp"
#include "tests/support/simd_paths.hpp"

namespace {

using attend::simd::Act;

using attend_test::for_each_simd_path;

std::vector<float> random_row(size_t n, unsigned seed, float scale = 3.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

float swish(float v) { return v / (1.0f + std::exp(-v)); }
// GELU as transformers defines it (double precision here: the float results must be within 1e-5).
float gelu_erf(float v) { return static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)))); }
float gelu_tanh(float v) {
  const double x = v;
  return static_cast<float>(0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))));
}

}  // namespace

TEST_CASE("simd: lane_sum16 sums in the order its comment gives, whatever the compiler vectorizes") {
  // Terms of mixed magnitudes, so that another order (a vectorizer's reduction tree, a plain
  // left-to-right chain) rounds differently.
  std::vector<float> x = random_row(80, 11);
  for (size_t i = 0; i < x.size(); i += 3) x[i] *= 1e4f;
  int differs_from_chain = 0;
  for (int64_t n = 0; n <= 80; ++n) {
    float lane[16] = {};
    for (int64_t i = 0; i < n; ++i) lane[i % 16] += x[static_cast<size_t>(i)];  // term i into lane i % 16
    for (int w = 8; w > 0; w /= 2)                                              // then pairwise
      for (int l = 0; l < w; ++l) lane[l] += lane[l + w];
    const float got = attend::lane_sum16<float>(n, [&](int64_t i) { return x[static_cast<size_t>(i)]; });
    INFO("n = " << n);
    CHECK(std::memcmp(&got, &lane[0], sizeof got) == 0);
    float chain = 0.0f;
    for (int64_t i = 0; i < n; ++i) chain += x[static_cast<size_t>(i)];
    differs_from_chain += chain != got;
  }
  CHECK(differs_from_chain > 10);  // the data does tell orders apart
  // lanes 0 and 2 meet at width 2, then lane 1: (1e16 - 1e16) + 1, where a chain loses the 1
  const double t[3] = {1e16, 1.0, -1e16};
  CHECK(attend::lane_sum16<double>(3, [&](int64_t i) { return t[i]; }) == 1.0);
  CHECK((t[0] + t[1]) + t[2] == 0.0);
}

TEST_CASE("simd: quantize rounds half to even, clamps to +-127 and maps NaN to 0") {
  for_each_simd_path([] {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // inv = 1: the inputs are the products; 37 entries to cover a 16-lane tail
    std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, 127.4f, 300.0f, -1e9f,
                            nan, 0.49999997f, -0.0f, 3.0f, -3.0f};
    std::vector<int8_t> expect = {0, 2, 2, 0, -2, -2, 126, 127, 127, -127, 0, 0, 0, 3, -3};
    while (x.size() < 37) {
      const float v = static_cast<float>(x.size()) - 20.25f;
      x.push_back(v);
      expect.push_back(static_cast<int8_t>(std::nearbyint(v)));
    }
    std::vector<int8_t> q(x.size(), 99);
    attend::simd::quantize(x.data(), static_cast<int64_t>(x.size()), 1.0f, q.data());
    for (size_t i = 0; i < x.size(); ++i) {
      INFO("i = " << i << ", x = " << x[i]);
      CHECK(static_cast<int>(q[i]) == static_cast<int>(expect[i]));
    }
    // a scale: round(x * inv), product rounded to float first
    const std::vector<float> r = random_row(53, 7);
    std::vector<int8_t> q2(r.size());
    const float inv = 127.0f / 9.0f;
    attend::simd::quantize(r.data(), static_cast<int64_t>(r.size()), inv, q2.data());
    for (size_t i = 0; i < r.size(); ++i) {
      float p = std::nearbyint(r[i] * inv);
      p = std::min(127.0f, std::max(-127.0f, p));
      CHECK(static_cast<int>(q2[i]) == static_cast<int>(p));
    }
  });
}

TEST_CASE("simd: abs_max over every tail length ignores NaN") {
  for_each_simd_path([] {
    std::vector<float> x = random_row(41, 3);
    x[5] = std::numeric_limits<float>::quiet_NaN();
    for (int64_t n = 0; n <= 41; ++n) {
      float expect = 0.0f;
      for (int64_t i = 0; i < n; ++i)
        if (std::fabs(x[static_cast<size_t>(i)]) > expect) expect = std::fabs(x[static_cast<size_t>(i)]);
      INFO("n = " << n);
      CHECK(attend::simd::abs_max(x.data(), n) == expect);
    }
  });
}

TEST_CASE("simd: to_half rounds to nearest even, saturates at 65504 and keeps NaN, over every tail length") {
  for_each_simd_path([] {
    std::vector<float> x = random_row(41, 9);
    x[0] = 1e6f;                                       // beyond half's range: +65504, not inf
    x[1] = -7e4f;                                      // -65504
    x[2] = std::numeric_limits<float>::quiet_NaN();    // stays NaN
    x[3] = 1.0f + 1.0f / 2048.0f;                      // a tie: rounds to even (1.0)
    x[4] = 3e-6f;                                      // a half subnormal
    x[5] = -std::numeric_limits<float>::infinity();    // saturates too
    x[6] = 65519.0f;                                   // rounds up to inf in plain half: saturated
    for (int64_t n = 0; n <= 41; ++n) {
      std::vector<uint16_t> out(static_cast<size_t>(n) + 1, 0xbeef);  // one guard element
      attend::simd::to_half(x.data(), n, out.data());
      INFO("n = " << n);
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[static_cast<size_t>(i)];
        if (std::isnan(v)) {
          CHECK(std::isnan(attend::half_to_float(out[static_cast<size_t>(i)])));
          continue;
        }
        const float clamped = std::min(std::max(v, -65504.0f), 65504.0f);
        INFO("i = " << i << ", x = " << v);
        CHECK(out[static_cast<size_t>(i)] == attend::float_to_half(clamped));
      }
      CHECK(out[static_cast<size_t>(n)] == 0xbeef);  // nothing written past n
    }
    CHECK(attend::half_to_float(attend::float_to_half(65504.0f)) == 65504.0f);
  });
}

TEST_CASE("simd: the LM head's fused passes equal the separate loops, over every tail length") {
  for_each_simd_path([] {
    const std::vector<float> acc = random_row(53, 21), bias = random_row(53, 22);
    for (int64_t n = 0; n <= 53; ++n) {
      INFO("n = " << n);
      for (const float* b : {bias.data(), static_cast<const float*>(nullptr)}) {
        std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
        attend::simd::scale_bias(acc.data(), 0.37f, b, n, Act::None, want.data());
        const float m = attend::simd::scale_bias_max(acc.data(), 0.37f, b, n, got.data());
        CHECK(got == want);
        CHECK(m == attend::simd::max_value(want.data(), n));
      }
      std::vector<float> x = random_row(53, 23);
      x[7] = -std::numeric_limits<float>::infinity();
      const float mx = attend::simd::max_value(x.data(), n);
      if (n == 0) continue;
      for (const float threshold : {-100.0f, 0.5f, 2.0f, 100.0f}) {
        std::vector<uint16_t> hits(static_cast<size_t>((n + 15) / 16), 0xffff);
        const float sum = attend::simd::sum_exp_hits(x.data(), n, mx, threshold, hits.data());
        double exact = 0.0;
        for (int64_t i = 0; i < n; ++i) exact += std::exp(static_cast<double>(x[static_cast<size_t>(i)]) - mx);
        CHECK(std::abs(sum - exact) <= 2e-6 * exact);
        CHECK(sum == attend::simd::sum_exp_hits(x.data(), n, mx, threshold, nullptr));  // the same sum without hits
        for (int64_t i = 0; i < n; ++i) {
          const bool hit = (hits[static_cast<size_t>(i / 16)] >> (i % 16)) & 1u;
          INFO("i = " << i << ", threshold " << threshold);
          CHECK(hit == (attend::simd::first_above(x.data(), i, i + 1, 0.0f, threshold) == i));
        }
        for (int64_t i = n; i < (n + 15) / 16 * 16; ++i) CHECK(((hits[static_cast<size_t>(i / 16)] >> (i % 16)) & 1u) == 0u);
      }
    }
  });
}

TEST_CASE("simd: the LM head's one-pass block equals its two passes, bit for bit, for any reference") {
  for_each_simd_path([] {
    const std::vector<float> acc = random_row(53, 24, 40.0f), bias = random_row(53, 25);
    const float rs = 0.37f;
    for (int64_t n = 1; n <= 53; ++n) {
      for (const float* b : {bias.data(), static_cast<const float*>(nullptr)}) {
        std::vector<float> y(static_cast<size_t>(n));
        const float m = attend::simd::scale_bias_max(acc.data(), rs, b, n, y.data());
        for (const float ref : {0.0f, m, m - 30.0f, m + 30.0f}) {
          for (const float threshold : {-100.0f, 0.5f, 5.0f, 100.0f}) {
            INFO("n = " << n << ", ref " << ref << ", threshold " << threshold);
            const size_t groups = static_cast<size_t>((n + 15) / 16);
            std::vector<uint16_t> want_hits(groups), hits(groups, 0xffff);
            std::vector<float> hit_values(groups * 16, -1234.5f);
            const float want = attend::simd::sum_exp_hits(y.data(), n, ref, threshold, want_hits.data());
            float got_max = 0.0f;
            const float got = attend::simd::scale_bias_sum_exp_hits(acc.data(), rs, b, n, ref, threshold, hits.data(),
                                                                    hit_values.data(), &got_max);
            CHECK(got == want);
            CHECK(got_max == m);
            CHECK(hits == want_hits);
            for (int64_t i = 0; i < n; ++i) {
              const bool group_hit = hits[static_cast<size_t>(i / 16)] != 0;
              CHECK(hit_values[static_cast<size_t>(i)] == (group_hit ? y[static_cast<size_t>(i)] : -1234.5f));
            }
          }
        }
      }
    }
  });
}

TEST_CASE("simd: channel scales in the LM head's row passes equal scaling the product first, bit for bit") {
  for_each_simd_path([] {
    const std::vector<float> acc = random_row(53, 26, 40.0f), bias = random_row(53, 27), cs = random_row(53, 28, 0.01f);
    const float rs = 0.37f;
    for (int64_t n = 1; n <= 53; ++n) {
      INFO("n = " << n);
      std::vector<float> scaled(static_cast<size_t>(n));  // the product as oneDNN's output scales leave it
      for (int64_t i = 0; i < n; ++i) scaled[static_cast<size_t>(i)] = acc[static_cast<size_t>(i)] * cs[static_cast<size_t>(i)];
      std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
      const float want_max = attend::simd::scale_bias_max(scaled.data(), rs, bias.data(), n, want.data());
      const float got_max = attend::simd::scale_bias_max(acc.data(), rs, bias.data(), n, got.data(), cs.data());
      CHECK(got == want);
      CHECK(got_max == want_max);
      const size_t groups = static_cast<size_t>((n + 15) / 16);
      std::vector<uint16_t> want_hits(groups), hits(groups);
      std::vector<float> want_values(groups * 16), values(groups * 16);
      float m1 = 0.0f, m2 = 0.0f;
      const float want_sum = attend::simd::scale_bias_sum_exp_hits(scaled.data(), rs, bias.data(), n, want_max, 0.0f,
                                                                   want_hits.data(), want_values.data(), &m1);
      const float got_sum = attend::simd::scale_bias_sum_exp_hits(acc.data(), rs, bias.data(), n, want_max, 0.0f,
                                                                  hits.data(), values.data(), &m2, cs.data());
      CHECK(got_sum == want_sum);
      CHECK(m2 == m1);
      CHECK(hits == want_hits);
    }
  });
}

TEST_CASE("simd: sum_exp_hits over a vocabulary-sized row of logits spread over 60 units, within 2e-6") {
  for_each_simd_path([] {
    const int64_t n = 54688;
    std::vector<float> x = random_row(static_cast<size_t>(n), 31, 30.0f);  // normal, sd 30
    x[100] = -std::numeric_limits<float>::infinity();
    x[n - 1] = std::numeric_limits<float>::quiet_NaN();  // NaN and -inf add nothing
    const float mx = attend::simd::max_value(x.data(), n);
    double exact = 0.0;
    for (int64_t i = 0; i < n - 1; ++i) exact += std::exp(static_cast<double>(x[static_cast<size_t>(i)]) - mx);
    const float sum = attend::simd::sum_exp_hits(x.data(), n, mx, 0.0f, nullptr);
    INFO("sum " << std::setprecision(9) << sum << ", exact " << exact);
    CHECK(std::abs(sum - exact) <= 2e-6 * exact);
  });
}

TEST_CASE("simd: int8 epilogues compute act(acc * rs + bias) into, onto and times the output") {
  for_each_simd_path([] {
    const int64_t n = 45;
    const std::vector<float> acc = random_row(n, 11, 400.0f), bias = random_row(n, 12), aux = random_row(n, 13);
    const float rs = 0.0125f;
    for (Act act : {Act::None, Act::Relu, Act::Gelu, Act::GeluTanh, Act::Swish}) {
      for (bool with_bias : {false, true}) {
        const float* b = with_bias ? bias.data() : nullptr;
        std::vector<float> y(n), ym(n), ya = aux;
        attend::simd::scale_bias(acc.data(), rs, b, n, act, y.data());
        attend::simd::scale_bias_act_mul(acc.data(), rs, b, aux.data(), n, act, ym.data());
        attend::simd::scale_bias_add(acc.data(), rs, b, n, ya.data());
        for (int64_t j = 0; j < n; ++j) {
          const size_t i = static_cast<size_t>(j);
          const float v = acc[i] * rs + (b ? b[i] : 0.0f);
          const float a = act == Act::None ? v : act == Act::Relu ? std::max(v, 0.0f)
                        : act == Act::Gelu ? gelu_erf(v) : act == Act::GeluTanh ? gelu_tanh(v) : swish(v);
          INFO("act " << static_cast<int>(act) << " bias " << with_bias << " j " << j << " v " << v);
          CHECK(y[i] == Approx(a).epsilon(1e-5).margin(1e-6));
          CHECK(ym[i] == Approx(a * aux[i]).epsilon(1e-5).margin(1e-6));
          CHECK(ya[i] == Approx(aux[i] + v).epsilon(1e-6).margin(1e-6));
        }
      }
    }
    // Swish saturates without NaN at large magnitudes
    const float big[2] = {-200.0f, 200.0f};
    float out[2];
    attend::simd::scale_bias(big, 1.0f, nullptr, 2, Act::Swish, out);
    CHECK(out[0] == Approx(0.0f).margin(1e-30));
    CHECK(out[1] == Approx(200.0f));
  });
}

TEST_CASE("simd: exp_shifted_sum stores exp(x - max), -inf as 0, and returns the sum") {
  for_each_simd_path([] {
    for (int n : {1, 7, 16, 33, 100}) {
      std::vector<float> x = random_row(static_cast<size_t>(n), static_cast<unsigned>(n), 5.0f);
      if (n > 3) x[2] = -std::numeric_limits<float>::infinity();
      float mx = -std::numeric_limits<float>::infinity();
      for (float v : x) mx = std::max(mx, v);
      std::vector<float> e = x;
      const float sum = attend::simd::exp_shifted_sum(e.data(), n, mx);
      double expect_sum = 0.0;
      for (int i = 0; i < n; ++i) {
        const float want = std::exp(x[static_cast<size_t>(i)] - mx);
        expect_sum += want;
        INFO("n " << n << " i " << i);
        CHECK(e[static_cast<size_t>(i)] == Approx(want).epsilon(3e-7).margin(1e-38));
      }
      CHECK(sum == Approx(expect_sum).epsilon(2e-6));
    }
  });
}

TEST_CASE("simd: first_above finds the first entry whose base + x beats the threshold") {
  for_each_simd_path([] {
    const std::vector<float> x = random_row(1000, 5);
    for (float base : {0.0f, -12.5f, 3.25f}) {
      // fixed thresholds, and thresholds equal to an entry's own sum (which must not count)
      std::vector<float> thresholds = {-1e9f, 2.0f, 7.0f, 9.5f, 1e9f};
      for (size_t i : {0, 3, 16, 400}) thresholds.push_back(base + x[i]);
      std::vector<float> flat = x;
      for (float& v : flat) v = 1.0f;  // every sum equal to the threshold: nothing is above
      CHECK(attend::simd::first_above(flat.data(), 0, 1000, base, base + 1.0f) == 1000);
      for (float threshold : thresholds) {
        for (int64_t from : {0, 1, 15, 16, 17, 500, 999, 1000}) {
          int64_t expect = 1000;
          for (int64_t i = from; i < 1000; ++i)
            if (base + x[static_cast<size_t>(i)] > threshold) {
              expect = i;
              break;
            }
          INFO("base " << base << " threshold " << threshold << " from " << from);
          CHECK(attend::simd::first_above(x.data(), from, 1000, base, threshold) == expect);
        }
      }
    }
  });
}

TEST_CASE("simd: sum_exp and log_softmax_fast agree with the exact log_softmax") {
  for_each_simd_path([] {
    for (int n : {1, 5, 16, 17, 1000, 54688}) {
      std::vector<float> x = random_row(static_cast<size_t>(n), static_cast<unsigned>(n) + 100, 4.0f);
      if (n > 3) x[1] = -std::numeric_limits<float>::infinity();
      float mx = -std::numeric_limits<float>::infinity();
      for (float v : x) mx = std::max(mx, v);
      double expect = 0.0;
      for (float v : x) expect += std::exp(static_cast<double>(v) - mx);
      INFO("n " << n);
      CHECK(attend::simd::sum_exp(x.data(), n, mx) == Approx(expect).epsilon(1e-5));
      std::vector<float> exact = x, fast = x;
      attend::logits::log_softmax(exact.data(), n);
      attend::logits::log_softmax_fast(fast.data(), n);
      for (int i = 0; i < n; ++i) {
        const size_t k = static_cast<size_t>(i);
        if (std::isinf(exact[k])) {
          CHECK(std::isinf(fast[k]));
        } else {
          REQUIRE(fast[k] == Approx(exact[k]).margin(1e-5));
        }
      }
    }
  });
}

TEST_CASE("simd: next_below is std::nextafter(x, -inf) for every kind of float") {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> xs = {0.0f, -0.0f, 1.0f, -1.0f, inf, -inf, std::numeric_limits<float>::max(),
                           -std::numeric_limits<float>::max(), std::numeric_limits<float>::min(),
                           -std::numeric_limits<float>::min(), std::numeric_limits<float>::denorm_min(),
                           -std::numeric_limits<float>::denorm_min(), 3.5e-39f, -3.5e-39f};
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 20000; ++i) {
    const uint32_t u = bits(rng);
    float x;
    std::memcpy(&x, &u, sizeof x);
    if (x == x) xs.push_back(x);
  }
  for (float x : xs) {
    const float want = std::nextafter(x, -inf), got = attend::simd::next_below(x);
    uint32_t a, b;
    std::memcpy(&a, &want, sizeof a);
    std::memcpy(&b, &got, sizeof b);
    INFO("x " << x);
    CHECK(a == b);
  }
  CHECK(std::isnan(attend::simd::next_below(std::nanf(""))));
}

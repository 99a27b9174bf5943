// tests/unit/test_sampling.cpp — the sampling warpers (transformers 4.30 semantics on crafted
// rows), the counter-based draw (only allowed tokens; chi-square against a fixed distribution)
// and GenerationConfig's sampling checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "engine/decoding/generation_config.hpp"
#include "engine/decoding/sampling.hpp"

using attend::GenerationConfig;
using attend::LogitsWarperList;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<int> kept(const std::vector<float>& row) {
  std::vector<int> out;
  for (size_t i = 0; i < row.size(); ++i)
    if (row[i] != -kInf) out.push_back(static_cast<int>(i));
  return out;
}

GenerationConfig sampling(float temperature, int top_k, float top_p, float typical_p = 1.0f) {
  GenerationConfig g;
  g.do_sample = true;
  g.temperature = temperature;
  g.top_k = top_k;
  g.top_p = top_p;
  g.typical_p = typical_p;
  return g;
}

}  // namespace

TEST_CASE("top_k keeps the k best and every token tied with the k-th", "[sampling]") {
  std::vector<float> row = {1.0f, 3.0f, 2.0f, 2.0f, 0.5f, -kInf};
  LogitsWarperList w(sampling(1.0f, 2, 1.0f), 6);
  w.apply(row.data());
  CHECK(kept(row) == std::vector<int>{1, 2, 3});  // 2.0 is the 2nd largest, both 2.0s stay
  // fewer finite scores than k: nothing removed
  std::vector<float> few = {-kInf, 1.0f, -kInf, 0.0f};
  LogitsWarperList w10(sampling(1.0f, 10, 1.0f), 4);
  w10.apply(few.data());
  CHECK(kept(few) == std::vector<int>{1, 3});
}

TEST_CASE("temperature divides before top_p, which keeps the smallest set above 1 - p", "[sampling]") {
  // probabilities 0.5, 0.3, 0.15, 0.05 (logits = log p)
  std::vector<float> row = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  std::vector<float> r1 = row;
  LogitsWarperList p75(sampling(1.0f, 0, 0.75f), 4);
  p75.apply(r1.data());
  // ascending cumulative: 0.05, 0.20, 0.50, 1.0; removed while <= 0.25 -> tokens 3 and 2
  CHECK(kept(r1) == std::vector<int>{0, 1});
  std::vector<float> r2 = row;
  LogitsWarperList p_small(sampling(1.0f, 0, 0.01f), 4);
  p_small.apply(r2.data());
  CHECK(kept(r2) == std::vector<int>{0});  // the most probable token always stays
  std::vector<float> r3 = row;
  LogitsWarperList t2(sampling(2.0f, 0, 1.0f), 4);
  t2.apply(r3.data());
  for (size_t i = 0; i < row.size(); ++i) CHECK(r3[i] == Approx(row[i] / 2.0f));
  // temperature first: at T=4 the distribution flattens and top_p 0.8 keeps three tokens
  std::vector<float> r4 = row;
  LogitsWarperList t4p(sampling(4.0f, 0, 0.8f), 4);
  t4p.apply(r4.data());
  CHECK(kept(r4) == std::vector<int>{0, 1, 2});
}

TEST_CASE("typical_p keeps the tokens closest to the entropy up to the mass", "[sampling]") {
  // p = 0.4, 0.3, 0.2, 0.1: entropy H = 1.2799; |-log p - H| = 0.364, 0.076, 0.330, 1.023
  // order by that: 1, 2, 0, 3; cumulative 0.3, 0.5, 0.9, 1.0; mass 0.6 -> last_ind 2 -> keep 1, 2, 0
  std::vector<float> row = {std::log(0.4f), std::log(0.3f), std::log(0.2f), std::log(0.1f)};
  LogitsWarperList w(sampling(1.0f, 0, 1.0f, 0.6f), 4);
  w.apply(row.data());
  CHECK(kept(row) == std::vector<int>{0, 1, 2});
  std::vector<float> row2 = {std::log(0.4f), std::log(0.3f), std::log(0.2f), std::log(0.1f)};
  LogitsWarperList w2(sampling(1.0f, 0, 1.0f, 0.2f), 4);
  w2.apply(row2.data());
  CHECK(kept(row2) == std::vector<int>{1});
}

TEST_CASE("draws only ever pick tokens with a finite score", "[sampling]") {
  std::vector<float> row(50, -kInf);
  row[3] = 0.1f;
  row[17] = -2.0f;
  row[42] = 1.5f;
  for (uint64_t step = 0; step < 5000; ++step) {
    const int32_t t = attend::sample_from_scores(row.data(), 50, attend::counter_uniform(99, 0, step));
    REQUIRE((t == 3 || t == 17 || t == 42));
  }
  std::vector<float> none(5, -kInf);
  CHECK(attend::sample_from_scores(none.data(), 5, 0.5) == -1);
}

TEST_CASE("the counter-based draw follows softmax (chi-square)", "[sampling]") {
  const std::vector<double> p = {0.4, 0.25, 0.2, 0.1, 0.05};
  std::vector<float> row;
  for (double q : p) row.push_back(static_cast<float>(std::log(q) + 3.0));  // shift: softmax is invariant
  const int n = 20000;
  std::vector<int> counts(p.size(), 0);
  for (int i = 0; i < n; ++i)
    ++counts[static_cast<size_t>(attend::sample_from_scores(row.data(), 5, attend::counter_uniform(12345, 7, static_cast<uint64_t>(i))))];
  double chi2 = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    const double e = n * p[k];
    chi2 += (counts[k] - e) * (counts[k] - e) / e;
  }
  INFO("chi2 = " << chi2);
  CHECK(chi2 < 18.47);  // 4 degrees of freedom, p = 0.001
  // and it is a pure function of (seed, stream, counter)
  CHECK(attend::counter_uniform(1, 2, 3) == attend::counter_uniform(1, 2, 3));
  CHECK(attend::counter_uniform(1, 2, 3) != attend::counter_uniform(1, 2, 4));
  CHECK(attend::counter_uniform(1, 2, 3) != attend::counter_uniform(1, 3, 3));
}

TEST_CASE("GenerationConfig checks the sampling settings", "[sampling][config]") {
  auto bad = [](float t, int k, float p, float typ, const char* what) {
    GenerationConfig g = sampling(t, k, p, typ);
    g.eos_token_ids = {1};
    try {
      g.validate();
      FAIL("no error for " << what);
    } catch (const attend::Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(what));
    }
  };
  bad(0.0f, 50, 1.0f, 1.0f, "temperature");
  bad(-1.0f, 50, 1.0f, 1.0f, "temperature");
  bad(1.0f, -1, 1.0f, 1.0f, "top_k");
  bad(1.0f, 50, 0.0f, 1.0f, "top_p");
  bad(1.0f, 50, 1.5f, 1.0f, "top_p");
  bad(1.0f, 50, 1.0f, 0.0f, "typical_p");
  bad(1.0f, 50, 1.0f, 1.01f, "typical_p");
  GenerationConfig beams = sampling(1.0f, 50, 1.0f);
  beams.num_beams = 4;
  CHECK_THROWS_WITH(beams.validate(), Catch::Contains("num_beams"));
  GenerationConfig ok = sampling(0.7f, 0, 1.0f, 1.0f);
  CHECK_NOTHROW(ok.validate());
  // transformers' default top_k is 50; the JSON keys are read
  GenerationConfig j;
  CHECK(j.top_k == 50);
  j.apply_json(nlohmann::json{{"do_sample", true}, {"temperature", 0.5}, {"top_k", 0}, {"top_p", 0.9}});
  CHECK(j.do_sample);
  CHECK(j.temperature == 0.5f);
  CHECK(j.top_k == 0);
  CHECK(j.top_p == 0.9f);
}

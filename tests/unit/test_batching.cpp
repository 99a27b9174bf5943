// tests/unit/test_batching.cpp — batch formation (attend::plan_batches): by examples and by a
// padded-token budget, and the bundled model translating identically under both batch types.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "attend/attend.hpp"

namespace {

attend::TranslateOptions batching(int size, attend::BatchType type) {
  attend::TranslateOptions o;
  o.max_batch_size = size;
  o.batch_type = type;
  return o;
}

// Every index exactly once; each batch sorted by length; batches in ascending length order.
void check_partition(const std::vector<std::vector<size_t>>& batches, const std::vector<size_t>& lengths) {
  std::vector<size_t> seen;
  size_t last_len = 0;
  for (const auto& b : batches) {
    REQUIRE_FALSE(b.empty());
    for (size_t i : b) {
      REQUIRE(i < lengths.size());
      CHECK(lengths[i] >= last_len);
      last_len = lengths[i];
      seen.push_back(i);
    }
  }
  std::sort(seen.begin(), seen.end());
  std::vector<size_t> all(lengths.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  CHECK(seen == all);
}

const char* const kBundledModel = "models/default/marian-en-de-multi30k.attend";

}  // namespace

TEST_CASE("plan_batches: examples cut every max_batch_size inputs, sorted stably by length", "[batching]") {
  const std::vector<size_t> lengths = {5, 3, 9, 3, 1, 7, 3};
  const auto b = attend::plan_batches(lengths, batching(3, attend::BatchType::Examples));
  // sorted stably: 4(1) 1(3) 3(3) 6(3) 0(5) 5(7) 2(9)
  REQUIRE(b.size() == 3);
  CHECK(b[0] == std::vector<size_t>{4, 1, 3});
  CHECK(b[1] == std::vector<size_t>{6, 0, 5});
  CHECK(b[2] == std::vector<size_t>{2});
  check_partition(b, lengths);
  CHECK(attend::plan_batches({}, batching(3, attend::BatchType::Examples)).empty());
}

TEST_CASE("plan_batches: tokens counts the padded size and never exceeds the budget", "[batching]") {
  const std::vector<size_t> lengths = {5, 3, 9, 3, 1, 7, 3, 4, 4, 4};
  const auto b = attend::plan_batches(lengths, batching(12, attend::BatchType::Tokens));
  // sorted: 4(1) 1(3) 3(3) 6(3) | 7(4) 8(4) 9(4) | 0(5) | 5(7) | 2(9)
  // 4 x 3 = 12 fits; a fifth input of length 4 would make 5 x 4 = 20 > 12.
  REQUIRE(b.size() == 5);
  CHECK(b[0] == std::vector<size_t>{4, 1, 3, 6});
  CHECK(b[1] == std::vector<size_t>{7, 8, 9});
  CHECK(b[2] == std::vector<size_t>{0});
  CHECK(b[3] == std::vector<size_t>{5});
  CHECK(b[4] == std::vector<size_t>{2});
  check_partition(b, lengths);
  for (const auto& batch : b) {
    size_t longest = 0;
    for (size_t i : batch) longest = std::max(longest, lengths[i]);
    CHECK((batch.size() == 1 || batch.size() * longest <= 12));
  }
}

TEST_CASE("plan_batches: an input longer than the token budget gets a batch of its own", "[batching]") {
  const std::vector<size_t> lengths = {2, 50, 2, 40};
  const auto b = attend::plan_batches(lengths, batching(10, attend::BatchType::Tokens));
  REQUIRE(b.size() == 3);
  CHECK(b[0] == std::vector<size_t>{0, 2});
  CHECK(b[1] == std::vector<size_t>{3});
  CHECK(b[2] == std::vector<size_t>{1});
  // a budget below 1 behaves like 1, as max_batch_size always did
  const auto one = attend::plan_batches(lengths, batching(0, attend::BatchType::Examples));
  CHECK(one.size() == 4);
  check_partition(one, lengths);
}

TEST_CASE("token-budget batching translates exactly like example batching (bundled model, beam 4)", "[batching][model]") {
  if (!std::ifstream(kBundledModel)) FAIL("bundled model missing: " << kBundledModel << " (run from the repository root)");
  const std::vector<std::string> inputs = {
      "A dog runs in the park.",
      "Two young men are playing soccer on a green field while a crowd watches from the stands.",
      "A woman.",
      "A man in an orange hat starring at something.",
      "Children are playing in the water at the beach.",
      "A group of people stand in front of an igloo.",
      "A little girl in a pink dress is climbing the stairs of a wooden playground while her father looks on.",
      "Street musicians.",
      "A boy jumps off a diving board into a swimming pool.",
      "An older man sits on a bench reading a newspaper next to his bicycle.",
      "Three dogs are running through the snow.",
      "A cyclist in a red jersey rides down a mountain road.",
      "People are shopping at an outdoor market on a sunny day, buying fruit and vegetables from the stalls.",
      "A cat sleeps.",
  };
  attend::LoadOptions lo;
  lo.threads = 2;
  auto model = attend::Model::load(kBundledModel, lo);
  attend::TranslateOptions ex = batching(4, attend::BatchType::Examples);
  ex.generation.num_beams = 4;
  ex.generation.max_new_tokens = 40;  // bounds the runtime should a beam loop
  attend::TranslateOptions tok = batching(60, attend::BatchType::Tokens);
  tok.generation = ex.generation;

  std::vector<size_t> lengths;
  for (const auto& s : inputs) lengths.push_back(model->tokenize(s).size());
  const auto ex_plan = attend::plan_batches(lengths, ex), tok_plan = attend::plan_batches(lengths, tok);
  REQUIRE(ex_plan != tok_plan);  // the two runs really batch differently

  const auto a = model->translate(inputs, ex);
  const auto b = model->translate(inputs, tok);
  REQUIRE(a.size() == inputs.size());
  REQUIRE(b.size() == inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    INFO("input " << i << ": " << inputs[i]);
    CHECK_FALSE(a[i].hypotheses.at(0).text.empty());
    CHECK(a[i].hypotheses.at(0).ids == b[i].hypotheses.at(0).ids);
    CHECK(a[i].hypotheses.at(0).text == b[i].hypotheses.at(0).text);
  }
}

// tests/unit/test_cli_bench.cpp — `attend bench --json` through the real CLI on the bundled model:
// the figures describe the run that was asked for (sentences, batches, runs, token counts of
// the translations it wrote, shares of the time that add up), name the CPU as the library
// does, and the translations it times are the library's own.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "tests/support/test_support.hpp"

using json = nlohmann::json;

TEST_CASE("cli: attend bench --json reports the run it timed, on the CPU the library names", "[cli][bench]") {
  const std::vector<std::string> lines = {"A dog runs in the park.",       "Two men are talking.",
                                          "A woman is reading a book.",    "Children play in the snow.",
                                          "A man rides a bicycle.",        "The girl is smiling."};
  attend_test::TempDir tmp("attend-bench");
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  attend_test::write_file(tmp.file("in.txt"), text);
  const auto r = attend_test::run_command({attend_test::attend_cli(), "bench", "-m", ATTEND_DEFAULT_MODEL_PATH, "-i",
                                           tmp.file("in.txt"), "-o", tmp.file("out.txt"), "--beam-size", "2",
                                           "--batch-size", "4", "--repeat", "2", "--warmup", "0",
                                           "--compute-type", "fp32", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);

  auto model = attend::Model::load(ATTEND_DEFAULT_MODEL_PATH);
  const attend::ModelInfo info = model->info();
  CHECK(j.at("cpu").get<std::string>() == info.cpu_model);
  CHECK(j.at("cpu_isa").get<std::string>() == info.cpu_isa);
  CHECK(j.at("cpu").get<std::string>().find("(family ") != std::string::npos);

  CHECK(j.at("sentences").get<int>() == 6);
  CHECK(j.at("batches").get<int>() == 2);  // 4 + 2
  CHECK(j.at("repeat").get<int>() == 2);
  CHECK(j.at("seconds").size() == 2);
  CHECK(j.at("outputs_identical_across_repeats").get<bool>());

  // The translations it wrote are the library's, and its token counts are theirs.
  attend::TranslateOptions opt;
  opt.max_batch_size = 4;
  opt.generation.num_beams = 2;
  const auto results = model->generate([&] {
    std::vector<std::vector<int32_t>> ids;
    for (const auto& l : lines) ids.push_back(model->tokenize(l));
    return ids;
  }(), opt);
  std::string want;
  size_t with_eos = 0;
  for (const auto& res : results) {
    want += res.hypotheses.at(0).text + "\n";
    with_eos += res.hypotheses.at(0).ids.size() - 1;  // minus the decoder start token
  }
  CHECK(attend_test::read_file(tmp.file("out.txt")) == want);
  CHECK(j.at("target_tokens_with_eos").get<size_t>() == with_eos);
  CHECK(j.at("target_tokens").get<size_t>() == with_eos - lines.size());  // each ends with EOS here

  double sum = 0.0;
  for (const auto& [part, v] : j.at("profile_shares").items()) {
    INFO(part);
    CHECK(v.get<double>() >= 0.0);
    sum += v.get<double>();
  }
  CHECK(sum == Approx(1.0).margin(0.02));
  CHECK(j.at("matmul_share").get<double>() > 0.0);
  CHECK(j.at("peak_rss_mb").get<double>() > 0.0);
}

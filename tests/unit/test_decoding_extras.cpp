// tests/unit/test_decoding_extras.cpp — issue 17 on the bundled Marian model through the public API
// and the CLI: sampling (seeded, independent of threads and batching), target prefixes (greedy and
// beam, part of the hypothesis), next-token alternatives, the vocabulary shortlist (off = unchanged,
// full list = unchanged, built list restricts the output), and the validation errors.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "attend/attend.hpp"
#include "attend/shortlist.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;

namespace {

std::shared_ptr<const attend::Model> bundled() {
  static std::shared_ptr<const attend::Model> m =
      fs::exists(ATTEND_DEFAULT_MODEL_PATH) ? attend::Model::load(ATTEND_DEFAULT_MODEL_PATH) : nullptr;
  return m;
}

const std::vector<std::string> kInputs = {"A dog runs in the park.", "Two men are playing football on a green field.",
                                          "A woman in a red dress is singing.", "Children play in the snow."};

std::vector<std::string> texts(const std::vector<attend::TranslationResult>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs)
    for (const auto& h : r.hypotheses) out.push_back(h.text);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const attend::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("sampling: a fixed seed gives the same output on 1 and 2 threads and any batch size", "[decoding][sampling]") {
  auto m = bundled();
  if (!m) return;
  attend::TranslateOptions o;
  o.generation.do_sample = true;
  o.generation.temperature = 1.5f;
  o.generation.top_k = 0;
  o.generation.seed = 42;
  attend::set_num_threads(1);
  const auto one = texts(m->translate(kInputs, o));
  attend::set_num_threads(2);
  const auto two = texts(m->translate(kInputs, o));
  o.max_batch_size = 1;
  const auto single = texts(m->translate(kInputs, o));
  CHECK(one == two);
  CHECK(one == single);
  // another seed changes at least one of them (hot temperature, no top-k)
  o.generation.seed = 43;
  CHECK(texts(m->translate(kInputs, o)) != one);
  // greedy is untouched by sampling settings that are not enabled
  attend::TranslateOptions greedy, greedy_t;
  greedy_t.generation.temperature = 0.3f;
  greedy_t.generation.top_p = 0.5f;
  CHECK(texts(m->translate(kInputs, greedy)) == texts(m->translate(kInputs, greedy_t)));
}

TEST_CASE("target prefix: continued by greedy and beam search, part of the hypothesis", "[decoding][prefix]") {
  auto m = bundled();
  if (!m) return;
  for (int beams : {1, 4}) {
    attend::TranslateOptions o;
    o.generation.num_beams = beams;
    o.target_prefix = {"Eine Katze", "", "Ein Mann", ""};
    const auto with = m->translate(kInputs, o);
    attend::TranslateOptions plain;
    plain.generation.num_beams = beams;
    const auto without = m->translate(kInputs, plain);
    INFO("beams " << beams << ": " << with[0].hypotheses[0].text);
    CHECK(with[0].hypotheses[0].text.rfind("Eine Katze", 0) == 0);
    CHECK(with[2].hypotheses[0].text.rfind("Ein Mann", 0) == 0);
    // inputs without a prefix get exactly what they get alone
    CHECK(with[1].hypotheses[0].ids == without[1].hypotheses[0].ids);
    CHECK(with[3].hypotheses[0].ids == without[3].hypotheses[0].ids);
    // the ids begin with the start token and the prefix's target pieces (here two of them)
    const auto& ids = with[0].hypotheses[0].ids;
    REQUIRE(ids.size() > 3);
    CHECK(m->detokenize({ids[1], ids[2]}) == "Eine Katze");
    // token ids work too, and give the same result
    attend::TranslateOptions by_ids;
    by_ids.generation.num_beams = beams;
    by_ids.target_prefix_ids = {{ids[1], ids[2]}};
    CHECK(m->translate({kInputs[0]}, by_ids)[0].hypotheses[0].ids == ids);
  }
}

TEST_CASE("alternatives: the N best next tokens after the prefix, each completed", "[decoding][alternatives]") {
  auto m = bundled();
  if (!m) return;
  attend::TranslateOptions o;
  o.target_prefix = {"Ein"};
  o.return_alternatives = 3;
  const auto r = m->translate({kInputs[0]}, o);
  REQUIRE(r[0].hypotheses.size() == 3);
  const auto prefix_ids = m->translate({kInputs[0]}, [] {
    attend::TranslateOptions p;
    p.target_prefix = {"Ein"};
    p.generation.max_new_tokens = 1;
    return p;
  }());
  std::set<int32_t> next;
  float last = 0.0f;
  for (size_t i = 0; i < 3; ++i) {
    const auto& h = r[0].hypotheses[i];
    INFO(h.text);
    CHECK(h.text.rfind("Ein", 0) == 0);
    REQUIRE(h.ids.size() >= 3);
    next.insert(h.ids[2]);
    CHECK(h.score <= 0.0f);
    if (i > 0) CHECK(h.score <= last);
    last = h.score;
  }
  CHECK(next.size() == 3);  // three different next tokens
  // the best alternative is the greedy choice, completed as greedy search completes it
  attend::TranslateOptions greedy;
  greedy.target_prefix = {"Ein"};
  CHECK(r[0].hypotheses[0].ids == m->translate({kInputs[0]}, greedy)[0].hypotheses[0].ids);
  (void)prefix_ids;
}

TEST_CASE("shortlist: off by default, a full list changes nothing, a built list restricts the output",
          "[decoding][shortlist]") {
  auto m = bundled();
  if (!m) return;
  const auto base = texts(m->translate(kInputs));
  attend::TranslateOptions off;
  off.shortlist = nullptr;
  CHECK(texts(m->translate(kInputs, off)) == base);
  // A list allowing every token: the restricted output layer computes the same logits.
  attend_test::TempDir tmp("attend-shortlist");
  const std::string dir = tmp.path.string();
  const int V = m->info().vocab_size;
  {
    std::ofstream f(dir + "/all.list");
    f << "attend-shortlist 1\nvocab_size " << V << "\nfingerprint 0\nidentity 0\nalways " << V;
    for (int i = 0; i < V; ++i) f << ' ' << i;
    f << "\nentries 0\n";
  }
  attend::TranslateOptions all;
  all.shortlist = attend::Shortlist::load(dir + "/all.list");
  CHECK(texts(m->translate(kInputs, all)) == base);
  // Built from a tiny corpus with no always-allowed tokens: outputs use only candidate tokens.
  attend::ShortlistBuildOptions bo;
  bo.always = 0;
  bo.per_source = 5;
  auto small = attend::Shortlist::build(*m, {"A dog runs.", "A cat sleeps."}, {"Ein Hund rennt.", "Eine Katze schläft."}, bo);
  small->save(dir + "/small.list");
  auto loaded = attend::Shortlist::load(dir + "/small.list");
  CHECK(loaded->source_entries() == small->source_entries());
  attend::TranslateOptions restricted;
  restricted.shortlist = loaded;
  const auto r = m->translate({"A dog runs."}, restricted);
  const auto cands = loaded->candidates({m->tokenize("A dog runs.")});
  const std::set<int32_t> allowed(cands.begin(), cands.end());
  for (size_t i = 1; i < r[0].hypotheses[0].ids.size(); ++i) {
    const int32_t id = r[0].hypotheses[0].ids[i];
    if (id == 0) continue;  // EOS is always allowed
    CHECK(allowed.count(id) == 1);
  }
  CHECK(r[0].hypotheses[0].text == "Ein Hund rennt.");
  // A list for another vocabulary is refused.
  {
    std::ofstream f(dir + "/other.list");
    f << "attend-shortlist 1\nvocab_size 100\nfingerprint 0\nidentity 0\nalways 1 5\nentries 0\n";
  }
  attend::TranslateOptions other;
  other.shortlist = attend::Shortlist::load(dir + "/other.list");
  CHECK_THAT(error_of([&] { m->translate(kInputs, other); }), Catch::Contains("another vocabulary"));
  // Bad files name the line.
  {
    std::ofstream f(dir + "/bad.list");
    f << "attend-shortlist 1\nvocab_size 100\nfingerprint 0\nidentity 0\nalways 2 5 500\nentries 0\n";
  }
  CHECK_THAT(error_of([&] { attend::Shortlist::load(dir + "/bad.list"); }), Catch::Contains("bad.list:5"));
}

TEST_CASE("int8 beam search: the fused LM head top-k picks what the full logits pick", "[decoding][int8]") {
  // int8 runs hand beam search each row's best candidates and softmax terms from the LM head's
  // column blocks (StepModel::step_top_k), from the first step on; capturing attention takes the
  // full-logits path. Both must give the same translations, with the processors' masks (n-gram
  // ban, EOS before the minimum length, the pad token) applied either way, and with the length
  // limit's forced EOS (a step without logits: StepModel::step_without_logits).
  REQUIRE(fs::exists(ATTEND_DEFAULT_MODEL_PATH));
  attend::LoadOptions lo;
  lo.compute_type = "int8";
  auto model = attend::Model::load(ATTEND_DEFAULT_MODEL_PATH, lo);
  REQUIRE(model->info().compute_type == "int8");
  for (int variant = 0; variant < 3; ++variant) {
    INFO("variant " << variant);
    attend::TranslateOptions fused;
    fused.generation.num_beams = 4;
    fused.generation.num_return_sequences = 2;
    if (variant == 1) {
      fused.generation.no_repeat_ngram_size = 1;
      fused.generation.min_new_tokens = 12;
    }
    if (variant == 2) fused.generation.max_new_tokens = 4;  // every hypothesis cut: EOS forced
    attend::TranslateOptions full = fused;
    full.return_attention = true;
    const auto a = model->translate(kInputs, fused);
    const auto b = model->translate(kInputs, full);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      REQUIRE(a[i].hypotheses.size() == b[i].hypotheses.size());
      for (size_t h = 0; h < a[i].hypotheses.size(); ++h) {
        CHECK(a[i].hypotheses[h].ids == b[i].hypotheses[h].ids);
        CHECK(std::abs(a[i].hypotheses[h].score - b[i].hypotheses[h].score) < 1e-4);
        if (variant == 1) {
          const auto& ids = a[i].hypotheses[h].ids;
          CHECK(ids.size() >= 13);  // start token + at least 12 generated
          CHECK(std::set<int32_t>(ids.begin() + 1, ids.end()).size() == ids.size() - 1);  // no token twice
        }
        if (variant == 2) {
          const auto& ids = a[i].hypotheses[h].ids;
          CHECK(ids.size() <= 5);  // start token + at most 4 generated, the last one EOS
          CHECK(ids.back() == 0);  // the bundled model's EOS (forced_eos_token_id)
        }
      }
    }
  }
}

TEST_CASE("decoding options are validated with clear errors", "[decoding][validation]") {
  auto m = bundled();
  if (!m) return;
  auto with = [&](std::function<void(attend::TranslateOptions&)> set) {
    attend::TranslateOptions o;
    set(o);
    return error_of([&] { m->translate({kInputs[0]}, o); });
  };
  CHECK_THAT(with([](auto& o) { o.generation.do_sample = true; o.generation.temperature = 0.0f; }), Catch::Contains("temperature"));
  CHECK_THAT(with([](auto& o) { o.generation.temperature = -1.0f; }), Catch::Contains("temperature"));
  CHECK_THAT(with([](auto& o) { o.generation.top_p = 0.0f; }), Catch::Contains("top_p must be in (0, 1]"));
  CHECK_THAT(with([](auto& o) { o.generation.top_p = 1.5f; }), Catch::Contains("top_p"));
  CHECK_THAT(with([](auto& o) { o.generation.typical_p = 2.0f; }), Catch::Contains("typical_p"));
  CHECK_THAT(with([](auto& o) { o.generation.do_sample = true; o.generation.num_beams = 4; }), Catch::Contains("num_beams"));
  CHECK_THAT(with([](auto& o) {
               o.generation.max_length = 4;
               o.target_prefix = {"Ein Hund rennt schnell durch den Park"};
             }),
             Catch::Contains("target prefix of input 0 is too long"));
  CHECK_THAT(with([](auto& o) { o.target_prefix = {"a", "b"}; }), Catch::Contains("2 prefixes for 1 inputs"));
  CHECK_THAT(with([](auto& o) { o.target_prefix_ids = {{999999}}; }), Catch::Contains("outside the vocabulary"));
}

TEST_CASE("cli: --stream, --target-prefix, sampling flags and their errors", "[decoding][cli]") {
  if (!bundled()) return;
  const std::string cli = attend_test::attend_cli(), model = ATTEND_DEFAULT_MODEL_PATH;
  const std::string input = kInputs[0] + "\n" + kInputs[1] + "\n";
  const auto plain = attend_test::run_command({cli, "translate", "-m", model}, input);
  REQUIRE(plain.exit_code == 0);
  const auto streamed = attend_test::run_command({cli, "translate", "-m", model, "--stream"}, input);
  INFO(streamed.err);
  CHECK(streamed.exit_code == 0);
  CHECK(streamed.out == plain.out);
  attend_test::TempDir tmp("attend-prefix-cli");
  const std::string dir = tmp.path.string();
  {
    std::ofstream f(dir + "/prefix.txt");
    f << "Eine Katze\n\n";
  }
  const auto pre = attend_test::run_command({cli, "translate", "-m", model, "--target-prefix", dir + "/prefix.txt"}, input);
  INFO(pre.err);
  CHECK(pre.exit_code == 0);
  CHECK(pre.out.rfind("Eine Katze", 0) == 0);
  CHECK(pre.out.substr(pre.out.find('\n') + 1) == plain.out.substr(plain.out.find('\n') + 1));
  const auto pre_stream =
      attend_test::run_command({cli, "translate", "-m", model, "--stream", "--target-prefix", dir + "/prefix.txt"}, input);
  CHECK(pre_stream.out == pre.out);
  const auto s1 = attend_test::run_command({cli, "translate", "-m", model, "--do-sample", "--seed", "5", "--threads", "1"}, input);
  const auto s2 = attend_test::run_command({cli, "translate", "-m", model, "--do-sample", "--seed", "5", "--threads", "2"}, input);
  CHECK(s1.exit_code == 0);
  CHECK(s1.out == s2.out);
  const auto t0 = attend_test::run_command({cli, "translate", "-m", model, "--do-sample", "--temperature", "0"}, input);
  CHECK(t0.exit_code != 0);
  CHECK(t0.err.find("temperature") != std::string::npos);
  const auto p2 = attend_test::run_command({cli, "translate", "-m", model, "--top-p", "1.5"}, input);
  CHECK(p2.exit_code != 0);
  CHECK(p2.err.find("top_p") != std::string::npos);
  const auto log = attend_test::run_command({cli, "translate", "-m", model, "--progress", "log"}, input);
  CHECK(log.out == plain.out);
  CHECK(log.err.find("2/2 lines") != std::string::npos);
  CHECK(log.err.find("tok/s") != std::string::npos);
  const auto alt = attend_test::run_command({cli, "translate", "-m", model, "--alternatives", "2", "--scores"}, kInputs[0] + "\n");
  CHECK(alt.exit_code == 0);
  CHECK(std::count(alt.out.begin(), alt.out.end(), '\n') == 2);
}

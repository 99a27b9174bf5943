// tests/unit/test_random_model.cpp — random-weight models (attend/random_model.hpp): both shapes
// load with the documented sizes, translate to a fixed length with the reused tokenizer, and the
// bad requests are rejected with clear errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "attend/attend.hpp"
#include "attend/random_model.hpp"

namespace {

const char* const kBundledModel = "models/default/marian-en-de-multi30k.attend";

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/attend-test-" + std::to_string(::getpid()) + "-" + name;
}

struct Removed {
  std::string path;
  ~Removed() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("random models in the opus-mt and t5-small shapes load and generate a fixed length", "[random_model]") {
  if (!std::ifstream(kBundledModel)) FAIL("bundled model missing: " << kBundledModel << " (run from the repository root)");
  struct Want {
    const char* shape;
    const char* family;
    int vocab;
  };
  for (const Want& w : {Want{"opus-mt", "marian", 54688}, Want{"t5-small", "t5", 32128}}) {
    SECTION(w.shape) {
      Removed file{temp_path(std::string(w.shape) + ".attend")};
      attend::RandomModelOptions o;
      o.seed = 7;
      o.tokenizer_from = kBundledModel;
      attend::write_random_model(w.shape, file.path, o);
      attend::LoadOptions lo;
      lo.threads = 2;
      auto model = attend::Model::load(file.path, lo);
      const auto info = model->info();
      CHECK(info.family == w.family);
      CHECK(info.tokenizer == "marian");
      CHECK(info.vocab_size == w.vocab);
      CHECK(info.d_model == 512);
      CHECK(info.encoder_layers == 6);
      CHECK(info.decoder_layers == 6);
      CHECK(info.heads == 8);

      attend::TranslateOptions opt;
      opt.generation.num_beams = 2;
      opt.generation.min_new_tokens = 5;
      opt.generation.max_new_tokens = 5;
      const auto r = model->translate({"A dog runs in the park.", "A woman."}, opt);
      REQUIRE(r.size() == 2);
      for (const auto& t : r) {
        const auto& ids = t.hypotheses.at(0).ids;
        CHECK(ids.size() == 6);  // decoder start + exactly 5 generated tokens
        for (int32_t id : ids) CHECK((id >= 0 && id < w.vocab));
        CHECK(std::isfinite(t.hypotheses.at(0).score));
      }
    }
  }
}

TEST_CASE("random models: unknown shapes and bad tokenizer sources are errors", "[random_model]") {
  const std::string out = temp_path("never-written.attend");
  CHECK_THROWS_WITH(attend::write_random_model("gpt-5", out), Catch::Contains("unknown random model shape 'gpt-5'") &&
                                                                  Catch::Contains("opus-mt") && Catch::Contains("t5-small"));
  attend::RandomModelOptions o;
  o.tokenizer_from = temp_path("no-such-model");
  CHECK_THROWS_WITH(attend::write_random_model("t5-small", out, o), Catch::Contains(o.tokenizer_from));
  o.tokenizer_from.clear();
  o.stddev = -1.0f;
  CHECK_THROWS_WITH(attend::write_random_model("t5-small", out, o), Catch::Contains("stddev"));
  CHECK_FALSE(std::ifstream(out));
}

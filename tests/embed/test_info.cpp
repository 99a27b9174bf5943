// tests/embed/test_info.cpp — Model::info() through the shared library: what the bundled model
// says about itself (the languages a server lists come from here).
#include <catch2/catch.hpp>

#include "embed_fixture.hpp"

TEST_CASE("info: a Marian model names its languages from tokenizer_config.json", "[embed][info]") {
  const attend::ModelInfo i = embed_test::model()->info();
  CHECK(i.family == "marian");
  // models/default was converted from a checkpoint whose tokenizer_config.json says
  // {"source_lang": "en", "target_lang": "de"}; it is monolingual (no >>xx<< codes).
  CHECK(i.source_language == "en");
  CHECK(i.target_language == "de");
  CHECK(i.languages.empty());
}

// tests/unit/test_attention.cpp — cross-attention weights through the public API (shape, rows
// summing to 1, the same translations with return_attention on and off, reductions consistent
// with the full per-layer per-head weights, beam search, the C API), word alignments on the
// bundled model, and the Moses alignment format.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "attend/attend.h"
#include "attend/attend.hpp"
#include "tests/support/alignment_dictionary.hpp"

namespace {

const char* const kModel = "models/default/marian-en-de-multi30k.attend";

std::shared_ptr<const attend::Model> bundled() {
  static auto m = attend::Model::load(kModel);
  return m;
}

}  // namespace

TEST_CASE("return_attention: shapes, normalised rows, same outputs, reductions agree", "[attention]") {
  auto m = bundled();
  const std::vector<std::string> in = {"A dog runs in the park.", "Two children play with a red ball on the beach."};
  for (int beams : {1, 4}) {
    attend::TranslateOptions off;
    off.generation.num_beams = beams;
    attend::TranslateOptions full = off;
    full.return_attention = true;
    full.attention_all_layers = true;
    full.attention_all_heads = true;
    attend::TranslateOptions reduced = off;
    reduced.return_attention = true;  // default: last layer, mean over heads
    attend::TranslateOptions one_head = off;
    one_head.return_attention = true;
    one_head.attention_layer = 1;
    one_head.attention_head = 2;
    const auto r_off = m->translate(in, off), r_full = m->translate(in, full), r_red = m->translate(in, reduced),
               r_head = m->translate(in, one_head);
    const int L = m->info().decoder_layers, H = m->info().heads;
    for (size_t i = 0; i < in.size(); ++i) {
      const auto& h = r_full[i].hypotheses[0];
      CHECK(r_off[i].hypotheses[0].ids == h.ids);
      CHECK(r_off[i].hypotheses[0].attention.empty());
      const auto& a = h.attention;
      REQUIRE(a.layers.size() == static_cast<size_t>(L));
      REQUIRE(a.heads == H);
      REQUIRE(a.target == static_cast<int>(h.ids.size()) - 1);
      REQUIRE(a.source_ids == m->tokenize(in[i]));
      REQUIRE(a.source == static_cast<int>(a.source_ids.size()));
      for (int l = 0; l < L; ++l)
        for (int hh = 0; hh < H; ++hh)
          for (int t = 0; t < a.target; ++t) {
            double sum = 0;
            for (int s = 0; s < a.source; ++s) {
              CHECK(a.at(l, hh, t, s) >= 0.0f);
              sum += a.at(l, hh, t, s);
            }
            CHECK(sum == Approx(1.0).margin(1e-4));
          }
      const auto& red = r_red[i].hypotheses[0].attention;
      REQUIRE(red.layers == std::vector<int>{L - 1});
      REQUIRE(red.heads == 1);
      for (int t = 0; t < a.target; ++t)
        for (int s = 0; s < a.source; ++s) {
          double mean = 0;
          for (int hh = 0; hh < H; ++hh) mean += a.at(L - 1, hh, t, s) / H;
          CHECK(red.at(0, 0, t, s) == Approx(mean).margin(1e-6));
          CHECK(r_head[i].hypotheses[0].attention.at(0, 0, t, s) == a.at(1, 2, t, s));
        }
    }
  }
}

TEST_CASE("return_attention: bad layer or head is a clear error", "[attention]") {
  attend::TranslateOptions o;
  o.return_attention = true;
  o.attention_layer = 7;
  CHECK_THROWS_WITH(bundled()->translate({"A dog."}, o), Catch::Contains("attention_layer 7"));
  o.attention_layer = -1;
  o.attention_head = 99;
  CHECK_THROWS_WITH(bundled()->translate({"A dog."}, o), Catch::Contains("attention_head 99"));
}

TEST_CASE("C API: attend_result_attention", "[attention]") {
  attend_model* model = nullptr;
  REQUIRE(attend_model_load(kModel, 0, &model) == ATTEND_OK);
  attend_options* opt = attend_options_new();
  REQUIRE(attend_options_set_int(opt, "return_attention", 1) == ATTEND_OK);
  REQUIRE(attend_options_set_int(opt, "attention_all_heads", 1) == ATTEND_OK);
  const char* inputs[] = {"A man rides a bike."};
  attend_result* res = nullptr;
  REQUIRE(attend_translate(model, inputs, 1, opt, &res) == ATTEND_OK);
  size_t L = 0, H = 0, T = 0, S = 0, n_ids = 0;
  const float* w = attend_result_attention(res, 0, 0, &L, &H, &T, &S);
  REQUIRE(w != nullptr);
  attend_result_ids(res, 0, 0, &n_ids);
  CHECK(L == 1);
  CHECK(H == 4);
  CHECK(T == n_ids - 1);
  attend::TranslateOptions o;
  o.return_attention = true;
  o.attention_all_heads = true;
  const auto want = bundled()->translate({inputs[0]}, o)[0].hypotheses[0].attention;
  REQUIRE(want.weights.size() == L * H * T * S);
  for (size_t i = 0; i < want.weights.size(); ++i) REQUIRE(w[i] == want.weights[i]);
  CHECK(attend_result_attention(res, 0, 5, &L, nullptr, nullptr, nullptr) == nullptr);
  CHECK(L == 0);
  attend_result_free(res);
  attend_options_free(opt);
  attend_model_free(model);
}

TEST_CASE("align_words links obvious word pairs of simple Multi30k sentences", "[attention]") {
  auto m = bundled();
  const std::vector<std::string> in = {
      "A dog runs in the park.",
      "A man and a woman are sitting on a bench.",
      "Two children play with a red ball.",
      "A young girl in a blue dress is standing in the water.",
      "A black dog is running through the snow.",
      "A man with a guitar is standing on the street.",
  };
  attend::TranslateOptions o;
  o.return_attention = true;
  const auto res = m->translate(in, o);
  // the nouns must all be linked; all dictionary pairs (adjectives, "and", "with" too) mostly
  const std::vector<std::string> nouns = {"dog", "man", "woman", "bench", "park", "children", "ball", "girl",
                                          "dress", "water", "snow", "guitar", "street"};
  size_t checked = 0, linked = 0, nouns_checked = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& h = res[i].hypotheses[0];
    const auto links = m->align_words(h);
    INFO(in[i] << " -> " << h.text << " : " << attend::format_alignment(links));
    // every target word is linked, to a real source word
    CHECK(links.size() == attend_test::plain_words(h.text).size());
    for (const auto& l : links) CHECK(l.source < static_cast<int>(attend_test::plain_words(in[i]).size()));
    const auto words = attend_test::plain_words(in[i]);
    for (const auto& want : attend_test::expected_links(in[i], h.text)) {
      ++checked;
      const bool found = std::find(links.begin(), links.end(), want) != links.end();
      linked += found;
      if (std::find(nouns.begin(), nouns.end(), words[static_cast<size_t>(want.source)]) != nouns.end()) {
        ++nouns_checked;
        INFO("expected " << want.source << "-" << want.target << " (" << words[static_cast<size_t>(want.source)] << ")");
        CHECK(found);
      }
    }
  }
  CHECK(nouns_checked >= 12);  // dog→Hund, man→Mann, ... are in the translations
  CHECK(linked >= checked * 9 / 10);
}

TEST_CASE("alignment text format round-trips and rejects garbage", "[attention]") {
  const std::vector<attend::WordLink> links = {{0, 0}, {1, 2}, {12, 3}};
  CHECK(attend::format_alignment(links) == "0-0 1-2 12-3");
  CHECK(attend::parse_alignment("0-0 1-2 12-3") == links);
  CHECK(attend::parse_alignment("  0-0   1-2\t12-3 ") == links);
  CHECK(attend::parse_alignment("").empty());
  CHECK_THROWS_WITH(attend::parse_alignment("0-0 1x2"), Catch::Contains("1x2"));
  CHECK_THROWS_WITH(attend::parse_alignment("3-"), Catch::Contains("3-"));
  // the CLI's output parses back into the library's alignment
  auto m = bundled();
  attend::TranslateOptions o;
  o.return_attention = true;
  const auto h = m->translate({"A dog runs in the park."}, o)[0].hypotheses[0];
  CHECK(attend::parse_alignment(attend::format_alignment(m->align_words(h))) == m->align_words(h));
}

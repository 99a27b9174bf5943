// tests/unit/test_cli_multilingual.cpp — `attend translate --src-lang/--tgt-lang` through the real
// CLI on multilingual models built from the fixtures: the tiny mBART / M2M100 checkpoints paired
// with the mBART-50, M2M100 and NLLB tokenizer folders (vocabulary rows added so every token id
// of the tokenizer exists). Checks the codes each family spells (en_XX, en, eng_Latn), that the
// source is tokenized as transformers does (the tokenizer fixture's ids), that the target
// language is forced as first generated token, that the CLI prints what the library returns, and
// that an unknown code is a clear error listing the valid ones. And that languages given to one
// library call do not change the shared model for the next call or for concurrent callers.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "engine/safetensors.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using attend_test::run_command;

namespace {

struct Pairing {
  std::string model, tokenizer, src_lang, tgt_lang, other_tgt;
};

// Deterministic values in [-0.05, 0.05) for the added vocabulary rows.
float next_value(uint64_t& state) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<float>((state >> 40) & 0xFFFFFF) / 16777216.0f * 0.1f - 0.05f;
}

// Writes a Hugging Face checkpoint directory: the fixture model with its vocabulary grown to
// `vocab` (new embedding / lm_head rows pseudo-random, new final_logits_bias entries 0) and the
// tokenizer folder's files.
void make_checkpoint(const std::string& model_dir, const std::string& tok_dir, int64_t vocab, const std::string& out) {
  json config = json::parse(attend_test::read_file(model_dir + "/config.json"));
  const int64_t old_vocab = config.at("vocab_size").get<int64_t>();
  REQUIRE(vocab >= old_vocab);
  config["vocab_size"] = vocab;
  attend_test::write_file(out + "/config.json", config.dump(2));
  attend_test::write_file(out + "/generation_config.json", attend_test::read_file(model_dir + "/generation_config.json"));
  for (const auto& e : fs::directory_iterator(tok_dir))
    if (e.path().filename() != "cases.json") fs::copy_file(e.path(), fs::path(out) / e.path().filename());

  const auto st = attend::read_safetensors(model_dir + "/model.safetensors");
  std::vector<std::pair<std::string, attend::HostTensor>> tensors;
  uint64_t rng = 12345;
  for (const auto& [name, t] : st.tensors) {
    const bool rows = t.shape.size() == 2 && t.shape[0] == old_vocab;                       // embeddings, lm_head
    const bool bias = t.shape.size() == 2 && t.shape[0] == 1 && t.shape[1] == old_vocab;  // final_logits_bias
    if (!rows && !bias) {
      tensors.emplace_back(name, t);
      continue;
    }
    REQUIRE(t.dtype == attend::DType::F32);
    std::vector<float> v = t.to_f32();
    if (rows) {
      for (int64_t i = old_vocab * t.shape[1]; i < vocab * t.shape[1]; ++i) v.push_back(next_value(rng));
      tensors.emplace_back(name, attend::make_f32_tensor({vocab, t.shape[1]}, v));
    } else {
      v.resize(static_cast<size_t>(vocab), 0.0f);
      tensors.emplace_back(name, attend::make_f32_tensor({1, vocab}, v));
    }
  }
  attend::write_safetensors(out + "/model.safetensors", tensors, st.metadata);
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace

TEST_CASE("cli: multilingual translate with --src-lang/--tgt-lang", "[cli][multilingual][fixtures]") {
  const std::string root = attend_test::fixtures_root();
  if (!attend_test::fixtures_available(root + "/models") || !attend_test::fixtures_available(root + "/tokenizers")) return;
  const std::vector<Pairing> pairings = {
      {"mbart", "mbart50_spm", "en_XX", "de_DE", "ro_RO"},
      {"m2m100", "m2m100_spm", "en", "de", "fr"},
      {"m2m100", "nllb_spm", "eng_Latn", "deu_Latn", "fra_Latn"},
  };
  for (const auto& p : pairings) {
    SECTION(p.model + " + " + p.tokenizer) {
      const std::string tok_dir = root + "/tokenizers/" + p.tokenizer;
      const json cases = json::parse(attend_test::read_file(tok_dir + "/cases.json"));
      const int64_t vocab = cases.at("special_tokens").at("len_tokenizer").get<int64_t>();
      attend_test::TempDir tmp("attend-cli-ml");
      const std::string ckpt = tmp.file("ckpt");
      fs::create_directory(ckpt);
      make_checkpoint(root + "/models/" + p.model, tok_dir, vocab, ckpt);

      // Inputs: the fixture's plain texts whose source ids transformers recorded.
      std::vector<std::string> texts;
      std::vector<std::vector<int32_t>> expected_src, expected_tgt;
      for (const auto& c : cases.at("cases")) {
        const std::string text = c.at("text").get<std::string>();
        if (text.empty() || text.find('\n') != std::string::npos || text.find('<') != std::string::npos) continue;
        texts.push_back(text);
        expected_src.push_back(c.at("source").at("input_ids").get<std::vector<int32_t>>());
        expected_tgt.push_back(c.at("target").at("input_ids").get<std::vector<int32_t>>());
        if (texts.size() == 4) break;
      }
      REQUIRE(texts.size() >= 2);
      std::string input;
      for (const auto& t : texts) input += t + "\n";

      auto model = attend::Model::load(ckpt);
      for (size_t i = 0; i < texts.size(); ++i) CHECK(model->tokenize(texts[i], p.src_lang) == expected_src[i]);

      for (const std::string& tgt : {p.tgt_lang, p.other_tgt}) {
        attend::TranslateOptions opt;
        opt.src_lang = p.src_lang;
        opt.tgt_lang = tgt;
        opt.generation.num_beams = 2;
        opt.generation.max_length = 10;
        const auto results = model->translate(texts, opt);
        REQUIRE(results.size() == texts.size());
        // The language code's id: the first source id of an empty text in that language.
        const int32_t lang_id = model->tokenize("", tgt).at(0);
        if (tgt == p.tgt_lang) CHECK(lang_id == expected_tgt.front().front());
        for (size_t i = 0; i < results.size(); ++i) {
          const auto& ids = results[i].hypotheses.at(0).ids;
          REQUIRE(ids.size() >= 2);
          CHECK(ids[1] == lang_id);  // forced as the first generated token
        }
        const auto r = run_command({attend_test::attend_cli(), "translate", "-m", ckpt, "--src-lang", p.src_lang,
                                    "--tgt-lang", tgt, "--beam-size", "2", "--max-length", "10"},
                                   input);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        const auto lines = split_lines(r.out);
        REQUIRE(lines.size() == texts.size());
        for (size_t i = 0; i < texts.size(); ++i) CHECK(lines[i] == results[i].hypotheses.at(0).text);
      }

      // Unknown codes: a clear error that lists the valid codes, non-zero exit, no output.
      for (const std::string flag : {"--tgt-lang", "--src-lang"}) {
        const auto r = run_command({attend_test::attend_cli(), "translate", "-m", ckpt, flag, "xx_Bogus"}, input);
        INFO(r.err);
        CHECK(r.exit_code != 0);
        CHECK(r.out.empty());
        CHECK(r.err.find("xx_Bogus") != std::string::npos);
        CHECK(r.err.find(p.tgt_lang) != std::string::npos);  // part of the listed valid codes
        CHECK(r.err.find(p.src_lang) != std::string::npos);
      }
    }
  }
}

TEST_CASE("cli: --tgt-lang on a model without language codes is a clear error", "[cli][multilingual]") {
  const std::string model = ATTEND_DEFAULT_MODEL_PATH;
  if (!fs::exists(model)) {
    WARN("bundled model " << model << " not found; skipping");
    return;
  }
  const auto r = run_command({attend_test::attend_cli(), "translate", "-m", model, "--tgt-lang", "de"}, "Hello.\n");
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("'de'") != std::string::npos);
  CHECK(r.err.find("not multilingual") != std::string::npos);
}

TEST_CASE("library: src_lang/tgt_lang are per call and leave no trace on the shared model",
          "[multilingual][languages][fixtures]") {
  const std::string root = attend_test::fixtures_root();
  if (!attend_test::fixtures_available(root + "/models") || !attend_test::fixtures_available(root + "/tokenizers")) return;
  // other_src: a valid source code that is not the tokenizer's default source language.
  struct Case {
    std::string model, tokenizer, other_src, other_tgt;
  };
  const std::vector<Case> pairings = {{"mbart", "mbart50_spm", "ro_RO", "de_DE"}, {"m2m100", "m2m100_spm", "fr", "de"}};
  for (const auto& p : pairings) {
    SECTION(p.model + " + " + p.tokenizer) {
      const std::string tok_dir = root + "/tokenizers/" + p.tokenizer;
      const json cases = json::parse(attend_test::read_file(tok_dir + "/cases.json"));
      attend_test::TempDir tmp("attend-lang-state");
      const std::string ckpt = tmp.file("ckpt");
      fs::create_directory(ckpt);
      make_checkpoint(root + "/models/" + p.model, tok_dir,
                      cases.at("special_tokens").at("len_tokenizer").get<int64_t>(), ckpt);
      const std::vector<std::string> texts = {"A dog runs in the park.", "Two men are talking."};

      auto used = attend::Model::load(ckpt);
      auto fresh = attend::Model::load(ckpt);
      attend::TranslateOptions plain;
      plain.generation.num_beams = 2;
      plain.generation.max_length = 10;
      attend::TranslateOptions other = plain;
      other.src_lang = p.other_src;
      other.tgt_lang = p.other_tgt;

      // The language matters (else this test could not fail): the source language token differs.
      for (const auto& t : texts) REQUIRE(used->tokenize(t, p.other_src) != fresh->tokenize(t));

      // Calls with languages, then the same calls without: the fresh model's results.
      (void)used->translate(texts, other);
      (void)used->translate_documents({texts[0] + " " + texts[1]}, other);
      for (const auto& t : texts) CHECK(used->tokenize(t) == fresh->tokenize(t));
      const auto after = used->translate(texts, plain);
      const auto expected = fresh->translate(texts, plain);
      REQUIRE(after.size() == expected.size());
      for (size_t i = 0; i < after.size(); ++i)
        CHECK(after[i].hypotheses.at(0).ids == expected[i].hypotheses.at(0).ids);
      const std::string doc = texts[0] + " " + texts[1];
      CHECK(used->translate_documents({doc}, plain).at(0).text == fresh->translate_documents({doc}, plain).at(0).text);

      // Concurrent callers with and without a source language each get their own tokens.
      const auto with_lang = used->tokenize(texts[0], p.other_src), without = fresh->tokenize(texts[0]);
      std::vector<int> wrong(4, 0);
      std::vector<std::thread> threads;
      for (int k = 0; k < 4; ++k)
        threads.emplace_back([&, k] {
          for (int i = 0; i < 200; ++i) {
            if (k % 2) wrong[k] += used->tokenize(texts[0], p.other_src) != with_lang;
            else wrong[k] += used->tokenize(texts[0]) != without;
          }
        });
      for (auto& t : threads) t.join();
      CHECK(wrong == std::vector<int>(4, 0));
    }
  }
}

// tests/e2e/e2e_multi30k.cpp — end-to-end check of the bundled real model: translates
// Multi30k test2016 (beam 4, the model's generation defaults, batches of 32) through the
// public API, compares with the transformers reference translations and token ids, and checks
// corpus BLEU (sacreBLEU 13a, tools/bleu) against the human references.
// Usage: attend-e2e MODEL [SHARED_ROOT [COMPUTE_TYPE]].
//   fp32 (default): >= 995 of 1000 lines identical to transformers and BLEU equal (to the
//                   reported two decimals) to the reference outputs' BLEU, 37.54.
//   int8, bf16:     BLEU within 0.3 of that fp32 reference BLEU (tokens may differ).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "tools/support/bleu.hpp"

namespace {
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: attend-e2e MODEL [SHARED_ROOT [COMPUTE_TYPE]]\n");
    return 2;
  }
  const std::string model_path = argv[1];
  const std::string shared = argc > 2 ? argv[2] : "../shared";
  const std::string compute_type = argc > 3 ? argv[3] : "fp32";
  const bool exact = compute_type == "fp32";
  const std::string human_ref = shared + "/data/multi30k/test_2016_flickr.de";
  // The BLEU of transformers' fp32 beam-4 outputs, as ../shared/models/marian-en-de-multi30k/README.md
  // reports it; recomputed below from reference/test2016.beam4.de so the two must agree.
  const double kReadmeBleu = 37.54;
  const std::string src = shared + "/data/multi30k/test_2016_flickr.en";
  const std::string ref = shared + "/models/marian-en-de-multi30k/reference/test2016.beam4.de";
  const std::string ref_ids = shared + "/models/marian-en-de-multi30k/reference/test2016.beam4.ids.json";
  const char* ci = std::getenv("CI");
  if (!std::ifstream(src) || !std::ifstream(ref) || !std::ifstream(human_ref)) {
    if (ci && std::strcmp(ci, "true") == 0) {
      std::printf("e2e: reference data missing under %s\ne2e: 0 passed, 1 failed\n", shared.c_str());
      return 1;
    }
    std::printf("e2e: reference data missing under %s: skipped\n", shared.c_str());
    return 77;  // ctest's SKIP_RETURN_CODE: reported as skipped, never as passed
  }
  try {
    const auto inputs = read_lines(src);
    const auto expected = read_lines(ref);
    nlohmann::json ids_json = nlohmann::json::parse(std::ifstream(ref_ids));
    attend::LoadOptions lo;
    lo.threads = 2;
    lo.compute_type = compute_type;
    auto t0 = std::chrono::steady_clock::now();
    auto model = attend::Model::load(model_path, lo);
    auto t1 = std::chrono::steady_clock::now();
    if (model->info().compute_type != compute_type) {  // a CPU fallback: do not test fp32 under another name
      std::printf("e2e: compute type %s not available on this CPU (%s): skipped\n", compute_type.c_str(),
                  model->info().compute_type_note.c_str());
      return 77;
    }
    attend::TranslateOptions opt;
    opt.max_batch_size = 32;
    auto results = model->translate(inputs, opt);
    auto t2 = std::chrono::steady_clock::now();
    size_t same_text = 0, same_ids = 0, tokens = 0;
    std::vector<std::string> hyps;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto& h = results[i].hypotheses.at(0);
      hyps.push_back(h.text);
      tokens += h.ids.size() - 1;
      if (i < expected.size() && h.text == expected[i]) ++same_text;
      else if (exact) std::printf("differs line %zu:\n  got  %s\n  want %s\n", i + 1, h.text.c_str(), i < expected.size() ? expected[i].c_str() : "");
      std::vector<int32_t> got(h.ids.begin() + 1, h.ids.end());
      if (i < ids_json.size() && got == ids_json[i].get<std::vector<int32_t>>()) ++same_ids;
    }
    const double load_s = std::chrono::duration<double>(t1 - t0).count();
    const double run_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("e2e: %zu/%zu identical lines, %zu/%zu identical token ids\n", same_text, inputs.size(), same_ids,
                inputs.size());
    std::printf("e2e: load %.2f s, translate %.2f s (beam 4, batch 32, 2 threads, %s), %.0f target tokens/s\n", load_s,
                run_s, compute_type.c_str(), tokens / run_s);
    const auto refs = attend::read_bleu_lines(human_ref);
    const attend::BleuScore reference_bleu = attend::corpus_bleu(attend::read_bleu_lines(ref), refs);
    const attend::BleuScore bleu = attend::corpus_bleu(hyps, refs);
    const auto two_decimals = [](double x) { return std::round(x * 100.0) / 100.0; };
    std::printf("e2e: BLEU %s: %s\ne2e: transformers fp32 reference BLEU %s (README: %.2f)\n", compute_type.c_str(),
                bleu.signature_line().c_str(), reference_bleu.signature_line().c_str(), kReadmeBleu);
    bool ok = inputs.size() == 1000 && two_decimals(reference_bleu.score) == kReadmeBleu;
    if (exact) {
      ok = ok && same_text >= 995 && two_decimals(bleu.score) == two_decimals(reference_bleu.score);
    } else {
      // Quality held = BLEU within 0.3 of fp32, either way (issue 4, item 5).
      const double diff = bleu.score - reference_bleu.score;
      ok = ok && std::fabs(diff) <= 0.3;
      std::printf("e2e: BLEU difference to fp32 reference %+.2f (must be within +-0.30)\n", diff);
    }
    std::printf("e2e: %d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::printf("e2e: error: %s\ne2e: 0 passed, 1 failed\n", e.what());
    return 1;
  }
}

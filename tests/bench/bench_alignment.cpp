// tests/bench/bench_alignment.cpp — which decoder layer (and head) of a model gives the best
// word alignments (benchmark program, not a test): translates Multi30k sentences once with every
// layer's and head's cross-attention, then for each choice counts how many of the dictionary's
// obvious word pairs (tests/support/alignment_dictionary.hpp) Model::align_words links.
// Usage: attend-bench-alignment [MODEL] [SOURCE.en] [SENTENCES]
#include <cstdio>
#include <string>
#include <vector>
#include <fstream>

#include "attend/attend.hpp"
#include "tests/support/alignment_dictionary.hpp"

namespace {

// The hypothesis with only layer l (all its heads kept, or only head `head`).
attend::Hypothesis restrict(const attend::Hypothesis& h, int l, int head) {
  attend::Hypothesis r = h;
  const attend::AttentionWeights& a = h.attention;
  attend::AttentionWeights& b = r.attention;
  b.layers = {a.layers[static_cast<size_t>(l)]};
  b.heads = head < 0 ? a.heads : 1;
  b.weights.clear();
  for (int hh = 0; hh < a.heads; ++hh) {
    if (head >= 0 && hh != head) continue;
    for (int t = 0; t < a.target; ++t)
      for (int s = 0; s < a.source; ++s) b.weights.push_back(a.at(l, hh, t, s));
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string model_path = argc > 1 ? argv[1] : "models/default/marian-en-de-multi30k.attend";
  const std::string source_path = argc > 2 ? argv[2] : "../shared/data/multi30k/test_2016_flickr.en";
  const size_t n = argc > 3 ? std::stoul(argv[3]) : 1000;
  std::ifstream in(source_path);
  if (!in) {
    std::fprintf(stderr, "%s: cannot open\n", source_path.c_str());
    return 1;
  }
  std::vector<std::string> lines;
  for (std::string line; lines.size() < n && std::getline(in, line);) lines.push_back(line);
  auto model = attend::Model::load(model_path);
  attend::TranslateOptions opt;
  opt.return_attention = true;
  opt.attention_all_layers = true;
  opt.attention_all_heads = true;
  const auto results = model->translate(lines, opt);
  const int layers = model->info().decoder_layers, heads = model->info().heads;
  std::printf("%zu sentences of %s, %s (%d decoder layers, %d heads)\n", lines.size(), source_path.c_str(),
              model_path.c_str(), layers, heads);
  std::printf("%-22s %8s %8s %8s\n", "choice", "pairs", "linked", "percent");
  auto score = [&](const char* label, int layer, int head) {
    size_t pairs = 0, linked = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const attend::Hypothesis& h = results[i].hypotheses[0];
      std::vector<attend::WordLink> links;
      if (layer < 0) {
        links = model->align_words(h);  // every layer and head averaged
      } else {
        links = model->align_words(restrict(h, layer, head));
      }
      for (const auto& want : attend_test::expected_links(lines[i], h.text)) {
        ++pairs;
        for (const auto& l : links) linked += l == want;
      }
    }
    std::printf("%-22s %8zu %8zu %7.1f%%\n", label, pairs, linked, pairs ? 100.0 * linked / pairs : 0.0);
  };
  for (int l = 0; l < layers; ++l) {
    score(("layer " + std::to_string(l) + " mean").c_str(), l, -1);
    for (int h = 0; h < heads; ++h) score(("layer " + std::to_string(l) + " head " + std::to_string(h)).c_str(), l, h);
  }
  score("all layers mean", -1, -1);
  return 0;
}

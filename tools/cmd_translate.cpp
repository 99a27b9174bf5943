// tools/cmd_translate.cpp — `attend translate`: lines of text in, one translation (or n-best
// lines) per input line out, through the public API.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "tools/cli_common.hpp"

namespace attend_cli {
namespace {

struct TranslateArgs {
  std::string model, input, output, src_lang, tgt_lang;
  int beam_size = 0, batch_size = 32, threads = 0, max_length = 0, n_best = 1;
  bool with_scores = false;
};

int run_translate(const TranslateArgs& a) {
  attend::LoadOptions lo;
  lo.threads = a.threads;
  auto model = attend::Model::load(model_path_or_default(a.model), lo);

  const std::vector<std::string> lines = read_lines_from(a.input);
  attend::TranslateOptions opt;
  opt.max_batch_size = a.batch_size;
  opt.src_lang = a.src_lang;
  opt.tgt_lang = a.tgt_lang;
  if (a.beam_size > 0) opt.generation.num_beams = a.beam_size;
  if (a.max_length > 0) opt.generation.max_length = a.max_length;
  if (a.n_best > 1) opt.generation.num_return_sequences = a.n_best;

  std::ofstream file_out;
  std::ostream* out = &std::cout;
  std::string tmp_path;
  if (!a.output.empty() && a.output != "-") {
    tmp_path = a.output + ".tmp";
    file_out.open(tmp_path, std::ios::binary | std::ios::trunc);
    if (!file_out) throw attend::Error(a.output + ": cannot open output file");
    out = &file_out;
  }
  // Translate in chunks so output starts early on long inputs; order is the input order.
  const size_t chunk = 2048;
  for (size_t start = 0; start < lines.size(); start += chunk) {
    std::vector<std::string> part(lines.begin() + static_cast<std::ptrdiff_t>(start),
                                  lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), start + chunk)));
    auto results = model->translate(part, opt);
    for (const auto& r : results) {
      for (const auto& hyp : r.hypotheses) {
        if (a.with_scores) *out << hyp.score << "\t";
        *out << hyp.text << "\n";
      }
    }
    out->flush();
    if (!*out) throw attend::Error((tmp_path.empty() ? std::string("stdout") : a.output) + ": write failed");
  }
  if (!tmp_path.empty()) {
    file_out.close();
    if (!file_out) throw attend::Error(a.output + ": write failed");
    if (std::rename(tmp_path.c_str(), a.output.c_str()) != 0) throw attend::Error(a.output + ": cannot rename output");
  }
  return 0;
}

const RegisterSubcommand registered(10, [](CLI::App& app) {
  auto a = std::make_shared<TranslateArgs>();
  auto* tr = app.add_subcommand("translate", "Translate lines of text (stdin or -i FILE), one output line per input line");
  tr->add_option("-m,--model", a->model,
                 "Attend model file or Hugging Face checkpoint directory (default: the bundled en→de model)");
  tr->add_option("-i,--input", a->input, "Input file, one sentence per line (default: stdin)");
  tr->add_option("-o,--output", a->output, "Output file (default: stdout); written atomically");
  tr->add_option("--beam-size", a->beam_size, "Beam size (default: the model's num_beams)")->check(CLI::Range(1, 256));
  tr->add_option("--batch-size", a->batch_size, "Sentences decoded together")->check(CLI::Range(1, 4096));
  tr->add_option("--threads", a->threads, "Compute threads (default: all cores)")->check(CLI::Range(1, 1024));
  tr->add_option("--max-length", a->max_length, "Maximum output length in tokens, start token included")
      ->check(CLI::Range(2, 100000));
  tr->add_option("--n-best", a->n_best, "Hypotheses written per input (consecutive lines)")->check(CLI::Range(1, 256));
  tr->add_flag("--scores", a->with_scores, "Prefix each output with its score and a tab");
  tr->add_option("--src-lang", a->src_lang, "Source language code (multilingual models: en_XX, eng_Latn, en)");
  tr->add_option("--tgt-lang", a->tgt_lang, "Target language code (multilingual models)");
  return Subcommand{tr, [a] { return run_translate(*a); }};
});

}  // namespace
}  // namespace attend_cli

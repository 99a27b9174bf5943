// tools/attend.cpp — the `attend` command line: translate, convert and info subcommands, a
// thin layer over the public API (include/attend/attend.hpp).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"

#ifndef ATTEND_DEFAULT_MODEL
#define ATTEND_DEFAULT_MODEL ""
#endif

namespace {

std::string default_model_path() {
  if (const char* env = std::getenv("ATTEND_MODEL"); env && *env) return env;
  return ATTEND_DEFAULT_MODEL;
}

struct TranslateArgs {
  std::string model, input, output, src_lang, tgt_lang;
  int beam_size = 0, batch_size = 32, threads = 0, max_length = 0, n_best = 1;
  bool with_scores = false;
};

// Reads every line (without the newline; a trailing '\r' is kept as text) of `in`.
std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

int run_translate(const TranslateArgs& a) {
  const std::string model_path = a.model.empty() ? default_model_path() : a.model;
  if (model_path.empty()) throw attend::Error("no model given (-m) and no bundled default model in this build");
  attend::LoadOptions lo;
  lo.threads = a.threads;
  auto model = attend::Model::load(model_path, lo);

  std::vector<std::string> lines;
  if (a.input.empty() || a.input == "-") {
    lines = read_lines(std::cin);
  } else {
    std::ifstream in(a.input, std::ios::binary);
    if (!in) throw attend::Error(a.input + ": cannot open input file");
    lines = read_lines(in);
  }
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
      for (size_t h = 0; h < r.hypotheses.size(); ++h) {
        const auto& hyp = r.hypotheses[h];
        if (a.with_scores) *out << hyp.score << "\t";
        *out << hyp.text << "\n";
      }
    }
    out->flush();
    if (!*out) throw attend::Error((a.output.empty() ? std::string("stdout") : a.output) + ": write failed");
  }
  if (!tmp_path.empty()) {
    file_out.close();
    if (!file_out) throw attend::Error(a.output + ": write failed");
    if (std::rename(tmp_path.c_str(), a.output.c_str()) != 0) throw attend::Error(a.output + ": cannot rename output");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Attend: fast, exact inference for Transformer encoder-decoder models (Marian/opus-mt, BART, mBART, "
               "T5, M2M100/NLLB, Pegasus) on the CPU."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("attend ") + attend::version());

  TranslateArgs ta;
  auto* tr = app.add_subcommand("translate", "Translate lines of text (stdin or -i FILE), one output line per input line");
  tr->add_option("-m,--model", ta.model,
                 "Attend model file or Hugging Face checkpoint directory (default: the bundled en→de model)");
  tr->add_option("-i,--input", ta.input, "Input file, one sentence per line (default: stdin)");
  tr->add_option("-o,--output", ta.output, "Output file (default: stdout); written atomically");
  tr->add_option("--beam-size", ta.beam_size, "Beam size (default: the model's num_beams)")->check(CLI::Range(1, 256));
  tr->add_option("--batch-size", ta.batch_size, "Sentences decoded together")->check(CLI::Range(1, 4096));
  tr->add_option("--threads", ta.threads, "Compute threads (default: all cores)")->check(CLI::Range(1, 1024));
  tr->add_option("--max-length", ta.max_length, "Maximum output length in tokens, start token included")
      ->check(CLI::Range(2, 100000));
  tr->add_option("--n-best", ta.n_best, "Hypotheses written per input (consecutive lines)")->check(CLI::Range(1, 256));
  tr->add_flag("--scores", ta.with_scores, "Prefix each output with its score and a tab");
  tr->add_option("--src-lang", ta.src_lang, "Source language code (multilingual models: en_XX, eng_Latn, en)");
  tr->add_option("--tgt-lang", ta.tgt_lang, "Target language code (multilingual models)");

  std::string conv_in, conv_out, conv_weights, conv_dtype;
  auto* cv = app.add_subcommand("convert", "Convert a Hugging Face checkpoint directory into an Attend model file");
  cv->add_option("HF_DIR", conv_in, "Checkpoint directory (config.json, model.safetensors or pytorch_model.bin, tokenizer files)")
      ->required();
  cv->add_option("-o,--output", conv_out, "Output model file")->required();
  cv->add_option("--weights", conv_weights, "Weights file to read when both exist")->check(CLI::IsMember({"safetensors", "bin"}));
  cv->add_option("--dtype", conv_dtype, "Storage type of the weights (default: as in the checkpoint)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));

  std::string info_model;
  auto* in = app.add_subcommand("info", "Show a model's architecture, tokenizer and generation defaults");
  in->add_option("-m,--model", info_model, "Model file or checkpoint directory (default: the bundled model)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*tr) return run_translate(ta);
    if (*cv) {
      attend::ConvertOptions o;
      o.weights = conv_weights;
      o.dtype = conv_dtype;
      attend::convert_model(conv_in, conv_out, o);
      std::cerr << "attend: wrote " << conv_out << "\n";
      return 0;
    }
    if (*in) {
      auto model = attend::Model::load(info_model.empty() ? default_model_path() : info_model);
      auto i = model->info();
      std::cout << "family: " << i.family << "\ntokenizer: " << (i.tokenizer.empty() ? "(none)" : i.tokenizer)
                << "\nvocab_size: " << i.vocab_size << "\nd_model: " << i.d_model << "\nlayers: " << i.encoder_layers
                << " encoder, " << i.decoder_layers << " decoder\nheads: " << i.heads
                << "\ngeneration defaults: " << i.generation_defaults << "\n";
      if (!i.languages.empty()) {
        std::cout << "languages:";
        for (const auto& l : i.languages) std::cout << " " << l;
        std::cout << "\n";
      }
      return 0;
    }
  } catch (const attend::Error& e) {
    std::cerr << "attend: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "attend: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

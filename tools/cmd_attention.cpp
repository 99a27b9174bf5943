// tools/cmd_attention.cpp — `attend attention -m MODEL "sentence" -o attention.html`: translates
// one sentence with every decoder layer's and head's cross-attention and writes one
// self-contained HTML file (inline CSS and script, no network) showing the source x target
// heatmap with a layer/head selector and the value on hover; --json writes the data instead.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "server/attention_page.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

struct AttentionArgs {
  std::string model, sentence, output = "attention.html", src_lang, tgt_lang;
  attend::HubOptions hub;
  int beam_size = 0, threads = 0;
  bool json = false;
};

int run_attention(const AttentionArgs& a) {
  attend::LoadOptions lo;
  lo.threads = a.threads;
  lo.hub = a.hub;
  auto model = attend::Model::load(model_path_or_default(a.model), lo);
  attend::TranslateOptions opt;
  opt.src_lang = a.src_lang;
  opt.tgt_lang = a.tgt_lang;
  if (a.beam_size > 0) opt.generation.num_beams = a.beam_size;
  opt.return_attention = true;
  opt.attention_all_layers = true;
  opt.attention_all_heads = true;
  const attend::Hypothesis h = model->translate({a.sentence}, opt).at(0).hypotheses.at(0);
  nlohmann::json data = attend_server::attention_json(*model, h);
  data["source"] = a.sentence;
  data["translation"] = h.text;
  const std::string out = a.json ? data.dump() + "\n" : attend_server::heatmap_file(data);
  if (a.output == "-") {
    std::cout << out;
    std::cout.flush();
    if (!std::cout) throw attend::Error("stdout: write failed");
  } else {
    write_file_atomically(a.output, out);
    std::cerr << "attend attention: " << h.text << "\nattend attention: wrote " << a.output << "\n";
  }
  return 0;
}

const RegisterSubcommand registered(15, [](CLI::App& app) {
  auto a = std::make_shared<AttentionArgs>();
  auto* c = app.add_subcommand("attention", "Translate one sentence and write its cross-attention heatmap as a "
                                            "self-contained HTML page (layer/head selector, value on hover)");
  c->add_option("sentence", a->sentence, "The sentence to translate")->required();
  c->add_option("-m,--model", a->model, std::string(kModelOptionHelp) + " (default: the bundled en→de model)");
  add_hub_options(c, a->hub);
  c->add_option("-o,--output", a->output, "Output file ('-' = stdout)")->capture_default_str();
  c->add_flag("--json", a->json, "Write the weights as JSON instead of the page");
  c->add_option("--beam-size", a->beam_size, "Beam size (default: the model's)")->check(CLI::Range(1, 256));
  c->add_option("--threads", a->threads, "Compute threads (default: all cores)")->check(CLI::Range(1, 1024));
  c->add_option("--src-lang", a->src_lang, "Source language code (multilingual models)");
  c->add_option("--tgt-lang", a->tgt_lang, "Target language code (multilingual models)");
  return Subcommand{c, [a] { return run_attention(*a); }};
});

}  // namespace
}  // namespace attend_cli

// tools/cmd_info.cpp — `attend info`: a model's architecture, tokenizer, languages and
// generation defaults.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "tools/cli_common.hpp"

namespace attend_cli {
namespace {

int run_info(const std::string& path) {
  auto model = attend::Model::load(model_path_or_default(path));
  auto i = model->info();
  std::cout << "family: " << i.family << "\ntokenizer: " << (i.tokenizer.empty() ? "(none)" : i.tokenizer)
            << "\nvocab_size: " << i.vocab_size << "\nd_model: " << i.d_model << "\nlayers: " << i.encoder_layers
            << " encoder, " << i.decoder_layers << " decoder\nheads: " << i.heads
            << "\ngeneration defaults: " << i.generation_defaults << "\n";
  if (!i.task_params.empty()) std::cout << "task params: " << i.task_params << "\n";
  if (!i.languages.empty()) {
    std::cout << "languages:";
    for (const auto& l : i.languages) std::cout << " " << l;
    std::cout << "\n";
  }
  return 0;
}

const RegisterSubcommand registered(90, [](CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* in = app.add_subcommand("info", "Show a model's architecture, tokenizer and generation defaults");
  in->add_option("-m,--model", *path, "Model file or checkpoint directory (default: the bundled model)");
  return Subcommand{in, [path] { return run_info(*path); }};
});

}  // namespace
}  // namespace attend_cli

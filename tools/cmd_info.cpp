// tools/cmd_info.cpp — `attend info`: a model's architecture, tokenizer, languages and
// generation defaults.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

int run_info(const std::string& path, const std::string& compute_type, const attend::HubOptions& hub) {
  attend::LoadOptions lo;
  lo.compute_type = compute_type;
  lo.hub = hub;
  auto model = attend::Model::load(model_path_or_default(path), lo);
  auto i = model->info();
  std::cout << "family: " << i.family << "\ntokenizer: " << (i.tokenizer.empty() ? "(none)" : i.tokenizer)
            << "\nvocab_size: " << i.vocab_size << "\nd_model: " << i.d_model << "\nlayers: " << i.encoder_layers
            << " encoder, " << i.decoder_layers << " decoder\nheads: " << i.heads
            << "\ngeneration defaults: " << i.generation_defaults << "\n";
  std::cout << "weights: " << i.quantization << "\ncompute type: " << i.compute_type
            << (i.compute_type_note.empty() ? "" : " (" + i.compute_type_note + ")") << "\ncpu: " << i.cpu_isa
            << " on " << i.cpu_model << "\n";
  std::cout << "encoder attention: " << i.encoder_attention;
  if (!i.attention_window.empty()) {
    std::cout << " (window per layer:";
    for (int w : i.attention_window) std::cout << " " << w;
    std::cout << "; global attention on the first token)";
  }
  if (i.local_radius > 0) std::cout << " (local radius " << i.local_radius << ", blocks of " << i.local_radius + 1;
  if (i.global_block_size > 0) std::cout << ", global blocks of " << i.global_block_size << " tokens";
  if (i.local_radius > 0) std::cout << ")";
  std::cout << "\nmax input length: " << (i.max_input_length > 0 ? std::to_string(i.max_input_length) + " tokens" : "not bounded by the model") << "\n";
  if (!i.task_params.empty()) std::cout << "task params: " << i.task_params << "\n";
  if (!i.source_language.empty() || !i.target_language.empty())
    std::cout << "source language: " << (i.source_language.empty() ? "?" : i.source_language)
              << "\ntarget language: " << (i.target_language.empty() ? "?" : i.target_language) << "\n";
  if (!i.languages.empty()) {
    std::cout << "languages:";
    for (const auto& l : i.languages) std::cout << " " << l;
    std::cout << "\n";
  }
  return 0;
}

const RegisterSubcommand registered(90, [](CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto compute = std::make_shared<std::string>("default");
  auto hub = std::make_shared<attend::HubOptions>();
  auto* in = app.add_subcommand("info", "Show a model's architecture, tokenizer and generation defaults");
  in->add_option("-m,--model", *path, std::string(kModelOptionHelp) + " (default: the bundled model)");
  add_hub_options(in, *hub);
  in->add_option("--compute-type", *compute, "Compute type to resolve (default, auto, fp32, bf16, int8)")
      ->check(CLI::IsMember({"default", "auto", "fp32", "bf16", "int8"}));
  return Subcommand{in, [path, compute, hub] { return run_info(*path, *compute, *hub); }};
});

}  // namespace
}  // namespace attend_cli

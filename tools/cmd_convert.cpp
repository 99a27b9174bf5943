// tools/cmd_convert.cpp — `attend convert`: a Hugging Face checkpoint directory (or hub id) into
// an Attend model file (attend::convert_model).
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

struct ConvertArgs {
  std::string input, output, weights, dtype, quantize;
  attend::HubOptions hub;
};

const RegisterSubcommand registered(50, [](CLI::App& app) {
  auto a = std::make_shared<ConvertArgs>();
  auto* cv = app.add_subcommand("convert", "Convert a Hugging Face checkpoint (directory or hub id) into an Attend model file");
  cv->add_option("HF_DIR", a->input,
                 "Checkpoint directory (config.json, model.safetensors or pytorch_model.bin, tokenizer files), "
                 "or a hub id ORG/NAME[@REVISION] (its cached snapshot, downloaded when needed)")
      ->required();
  add_hub_options(cv, a->hub);
  cv->add_option("-o,--output", a->output, "Output model file")->required();
  cv->add_option("--weights", a->weights, "Weights file to read when both exist")
      ->check(CLI::IsMember({"safetensors", "bin"}));
  cv->add_option("--dtype", a->dtype, "Storage type of the weights (default: as in the checkpoint)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  cv->add_option("--quantize", a->quantize,
                 "Reduced precision: int8 (linear weights, per-output-channel scales), bf16 or fp16 (all weights)")
      ->check(CLI::IsMember({"int8", "bf16", "fp16"}));
  return Subcommand{cv, [a] {
                      attend::ConvertOptions o;
                      o.weights = a->weights;
                      o.dtype = a->dtype;
                      o.quantize = a->quantize;
                      o.hub = a->hub;
                      attend::convert_model(a->input, a->output, o);
                      std::cerr << "attend: wrote " << a->output << "\n";
                      return 0;
                    }};
});

}  // namespace
}  // namespace attend_cli

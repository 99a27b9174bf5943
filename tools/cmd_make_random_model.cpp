// tools/cmd_make_random_model.cpp — `attend make-random-model`: writes an Attend model with
// random weights in the opus-mt or t5-small shape (attend/random_model.hpp), for benchmarks.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attend/random_model.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

struct RandomArgs {
  std::string shape, output, tokenizer_from;
  bool no_tokenizer = false;
  uint64_t seed = 1;
  float stddev = 0.02f;
};

int run_make_random_model(const RandomArgs& a) {
  attend::RandomModelOptions o;
  o.seed = a.seed;
  o.stddev = a.stddev;
  if (!a.no_tokenizer) o.tokenizer_from = model_path_or_default(a.tokenizer_from);
  attend::write_random_model(a.shape, a.output, o);
  std::fprintf(stderr, "wrote %s (%s shape, seed %llu, tokenizer: %s)\n", a.output.c_str(), a.shape.c_str(),
               static_cast<unsigned long long>(a.seed), o.tokenizer_from.empty() ? "none" : o.tokenizer_from.c_str());
  return 0;
}

const RegisterSubcommand registered(80, [](CLI::App& app) {
  auto a = std::make_shared<RandomArgs>();
  std::string shapes;
  for (const auto& s : attend::random_model_shapes()) shapes += (shapes.empty() ? "" : "|") + s;
  auto* r = app.add_subcommand("make-random-model",
                               "Write a model with random weights in a known shape (" + shapes + "), for benchmarks");
  r->add_option("--shape", a->shape, "Model shape: " + shapes)->required()->check(CLI::IsMember(attend::random_model_shapes()));
  r->add_option("-o,--output", a->output, "Model file to write")->required();
  r->add_option("--seed", a->seed, "Random seed (same seed, same weights)");
  r->add_option("--stddev", a->stddev, "Standard deviation of the weights")->check(CLI::Range(1e-6, 10.0));
  r->add_option("--tokenizer-from", a->tokenizer_from,
                "Model whose tokenizer is stored with the new one (default: the bundled model; its ids must fit)");
  r->add_flag("--no-tokenizer", a->no_tokenizer, "Store no tokenizer (the model takes token ids only)");
  return Subcommand{r, [a] { return run_make_random_model(*a); }};
});

}  // namespace
}  // namespace attend_cli

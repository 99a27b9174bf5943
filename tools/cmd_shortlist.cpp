// tools/cmd_shortlist.cpp — `attend shortlist build SRC TGT -o LIST`: builds a vocabulary shortlist
// (attend/shortlist.hpp, docs/shortlist.md) from a parallel corpus with a model's tokenizers,
// and `attend shortlist info LIST` prints what a shortlist file holds.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "attend/shortlist.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

struct ShortlistArgs {
  std::string model, src, tgt, output, info_path;
  attend::HubOptions hub;
  attend::ShortlistBuildOptions build;
  bool no_identity = false;
};

int run_shortlist(const ShortlistArgs& a, CLI::App* build, CLI::App* info) {
  if (info->parsed()) {
    auto list = attend::Shortlist::load(a.info_path);
    std::cout << a.info_path << ": vocabulary " << list->vocab_size() << ", " << list->always_allowed()
              << " always-allowed tokens, " << list->source_entries() << " source tokens with a list\n";
    return 0;
  }
  if (!build->parsed()) throw attend::Error("attend shortlist: give a subcommand (build or info)");
  auto model = attend::Model::load(model_path_or_default(a.model), attend::LoadOptions{0, "default", a.hub});
  const auto src = read_lines_from(a.src);
  const auto tgt = read_lines_from(a.tgt);
  attend::ShortlistBuildOptions o = a.build;
  o.identity = !a.no_identity;
  auto list = attend::Shortlist::build(*model, src, tgt, o);
  list->save(a.output);
  std::cerr << "attend shortlist: " << src.size() << " sentence pairs -> " << a.output << " (" << list->always_allowed()
            << " always-allowed tokens, " << list->source_entries() << " source tokens with a list of up to "
            << o.per_source << ")\n";
  return 0;
}

const RegisterSubcommand registered(75, [](CLI::App& app) {
  auto a = std::make_shared<ShortlistArgs>();
  auto* s = app.add_subcommand("shortlist", "Vocabulary shortlists for faster translation (translate --shortlist)");
  s->require_subcommand(1);
  auto* b = s->add_subcommand("build", "Build a shortlist from a parallel corpus: SRC and TGT, one sentence per line");
  b->add_option("src", a->src, "Source side of the corpus")->required();
  b->add_option("tgt", a->tgt, "Target side of the corpus (line i translates line i of SRC)")->required();
  b->add_option("-o,--output", a->output, "Shortlist file to write")->required();
  b->add_option("-m,--model", a->model, std::string(kModelOptionHelp) + " (default: the bundled en→de model)");
  add_hub_options(b, a->hub);
  b->add_option("--per-source", a->build.per_source, "Target tokens kept per source token (by p(t|s))")
      ->check(CLI::Range(0, 1 << 20));
  b->add_option("--always", a->build.always, "Most frequent target tokens always allowed")->check(CLI::Range(0, 1 << 24));
  b->add_option("--min-count", a->build.min_count, "Sentence pairs a (source, target) pair must share")
      ->check(CLI::Range(1, 1 << 30));
  b->add_option("--from-model", a->build.from_model,
                 "Also translate every source vocabulary piece alone with N-best beam search and allow its outputs")
      ->check(CLI::Range(0, 16));
  b->add_flag("--no-identity", a->no_identity, "Do not allow each source token's own id on the target side");
  auto* i = s->add_subcommand("info", "Print what a shortlist file holds");
  i->add_option("file", a->info_path, "Shortlist file")->required();
  return Subcommand{s, [a, b, i] { return run_shortlist(*a, b, i); }};
});

}  // namespace
}  // namespace attend_cli

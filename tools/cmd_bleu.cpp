// tools/cmd_bleu.cpp — `attend bleu HYP REF`: corpus BLEU of a hypothesis file against one
// reference file, as sacreBLEU's default command line computes it (tools/bleu.hpp).
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attend/error.hpp"
#include "tools/support/bleu.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

struct BleuArgs {
  std::string hyp, ref;
  bool score_only = false;
};

int run_bleu(const BleuArgs& a) {
  const auto hyps = attend::read_bleu_lines(a.hyp);
  const auto refs = attend::read_bleu_lines(a.ref);
  if (hyps.size() != refs.size()) {
    throw attend::Error(a.hyp + " has " + std::to_string(hyps.size()) + " lines but " + a.ref + " has " +
                        std::to_string(refs.size()));
  }
  attend::BleuScore s;
  try {
    s = attend::corpus_bleu(hyps, refs);
  } catch (const attend::Error& e) {
    throw attend::Error(a.hyp + " vs " + a.ref + ": " + e.what());
  }
  if (a.score_only) std::printf("%.2f\n", s.score);
  else std::printf("BLEU = %s (13a, cased, exp smoothing, sacreBLEU 2.x default)\n", s.signature_line().c_str());
  return 0;
}

const RegisterSubcommand registered(70, [](CLI::App& app) {
  auto a = std::make_shared<BleuArgs>();
  auto* b = app.add_subcommand("bleu", "Corpus BLEU of HYP against REF (one line each), like sacreBLEU's default");
  b->add_option("HYP", a->hyp, "Hypotheses, one per line")->required();
  b->add_option("REF", a->ref, "References, one per line, same count")->required();
  b->add_flag("-b,--score-only", a->score_only, "Print only the BLEU score");
  return Subcommand{b, [a] { return run_bleu(*a); }};
});

}  // namespace
}  // namespace attend_cli

// tools/attend.cpp — entry point of the `attend` command line. Subcommands live in
// tools/cmd_*.cpp and register themselves (tools/cli_common.hpp); this file parses the
// command line, runs the chosen subcommand and turns errors into messages and exit codes.
#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "tools/support/cli_common.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Attend: fast, exact inference for Transformer encoder-decoder models (Marian/opus-mt, BART, mBART, "
               "T5, M2M100/NLLB, Pegasus) on the CPU."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("attend ") + attend::version());

  auto registry = attend_cli::subcommand_registry();
  std::stable_sort(registry.begin(), registry.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<attend_cli::Subcommand> subcommands;
  for (const auto& entry : registry) subcommands.push_back(entry.second(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (const auto& sub : subcommands)
      if (sub.app->parsed()) return sub.run();
  } catch (const attend::Error& e) {
    std::cerr << "attend: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "attend: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

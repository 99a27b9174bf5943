// tools/attend.cpp — entry point of the `attend` command line. Subcommands live in
// tools/cmd_*.cpp and register themselves (tools/cli_common.hpp); this file parses the
// command line, runs the chosen subcommand and turns errors into messages and exit codes.
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "attend/attend.hpp"
#include "tools/support/cli_common.hpp"

// One glibc malloc arena for this process (the CLI owns it; the library sets no malloc option,
// so an embedding application keeps its own). With the default (8 per core) a worker thread that
// allocates while the main thread holds the main arena gets an arena of its own, and the buffers
// it frees there are not reused by the other threads: under load the peak RSS of the same run
// varied 145-164 MB (bundled model, int8, batch 32), with one arena it stays at 145 MB. The
// serving subcommands, which allocate from many request threads at once, keep the default; so
// does any run with MALLOC_ARENA_MAX set in the environment.
static void use_one_malloc_arena(int argc, char** argv) {
#ifdef __GLIBC__
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  const std::string sub = argc > 1 ? argv[1] : "";
  if (sub == "serve" || sub == "bench-serve" || sub == "bench-concurrent") return;
  ::mallopt(M_ARENA_MAX, 1);
#else
  (void)argc;
  (void)argv;
#endif
}

int main(int argc, char** argv) {
  use_one_malloc_arena(argc, argv);
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

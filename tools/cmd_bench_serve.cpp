// tools/cmd_bench_serve.cpp — `attend bench-serve`: parses the options and runs the serving
// benchmark of server/bench.cpp (docs/serving.md has its figures).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "server/bench.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

const RegisterSubcommand registered(65, [](CLI::App& app) {
  auto o = std::make_shared<attend_server::BenchServeOptions>();
  o->input = "../shared/data/multi30k/test_2016_flickr.en";
  auto* b = app.add_subcommand("bench-serve",
                               "Throughput and latency of `attend serve` with 1-256 clients vs the batch path");
  b->add_option("-m,--model", o->model, "Model (default: the bundled model)");
  b->add_option("-i,--input", o->input, "Sentences, one per line")->capture_default_str();
  b->add_option("--url", o->url, "Measure a running server instead of starting one (no RSS then)");
  b->add_option("--clients", o->clients, "Concurrent client counts (comma-separated)")->delimiter(',')->capture_default_str();
  b->add_option("--requests", o->requests, "Requests per client count")->check(CLI::Range(1, 1000000))->capture_default_str();
  b->add_option("--threads", o->threads, "Compute threads (server and batch path)")->check(CLI::Range(1, 1024));
  b->add_option("--beam-size", o->beam_size, "Beam size (default: the model's)")->check(CLI::Range(1, 64));
  b->add_option("--batch-size", o->batch_size, "Batch size of both paths")->check(CLI::Range(1, 4096))->capture_default_str();
  b->add_option("--batch-wait-ms", o->wait_ms, "The server's batch window")->check(CLI::Range(0, 10000))->capture_default_str();
  return Subcommand{b, [o] {
                      o->model = model_path_or_default(o->model);
                      return attend_server::bench_serve(*o, std::cout);
                    }};
});

}  // namespace
}  // namespace attend_cli

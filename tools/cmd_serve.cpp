// tools/cmd_serve.cpp — `attend serve`: parses the options and runs the HTTP service of
// server/ (translation and summarization, LibreTranslate-compatible; docs/serving.md).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "server/server.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

struct ServeArgs {
  std::vector<std::string> models;
  std::string api_keys_file;
  attend_server::ServerOptions o;
};

int run_serve(ServeArgs& a) {
  if (a.models.empty()) a.models.push_back(model_path_or_default(""));
  for (const auto& m : a.models) a.o.models.push_back(attend_server::parse_model_spec(m));
  if (!a.api_keys_file.empty()) a.o.api_keys = attend_server::read_api_keys(a.api_keys_file);
  return attend_server::serve(a.o, std::cout, std::cerr);
}

const RegisterSubcommand registered(55, [](CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  attend_server::ServerOptions& o = a->o;
  auto* s = app.add_subcommand("serve", "HTTP translation and summarization service (LibreTranslate-compatible)");
  s->add_option("-m,--model", a->models,
                "MODEL or NAME=MODEL (repeatable; the first is the default; default: the bundled model)");
  s->add_option("--host", o.host, "Address to listen on")->capture_default_str();
  s->add_option("--port", o.port, "Port (0: any free port; the URL is printed)")->check(CLI::Range(0, 65535))->capture_default_str();
  s->add_option("--threads", o.threads, "Compute threads per model (default: all cores)")->check(CLI::Range(1, 1024));
  s->add_option("--compute-type", o.compute_type, "default, auto, fp32, bf16 or int8")->capture_default_str();
  s->add_option("--batch-wait-ms", o.batch_wait_ms, "Batch window: how long a batch waits for more inputs")
      ->check(CLI::Range(0, 10000))->capture_default_str();
  s->add_option("--max-batch-size", o.max_batch_size, "Inputs decoded together at most")->check(CLI::Range(1, 4096))->capture_default_str();
  s->add_option("--max-batch-tokens", o.max_batch_tokens, "Padded source tokens per batch at most")
      ->check(CLI::Range(1, 1 << 24))->capture_default_str();
  s->add_option("--release-caches-after", o.release_caches_after,
                "Seconds idle before a model frees the buffers it keeps between batches (0: never)")
      ->check(CLI::Range(0.0, 1e6))->capture_default_str();
  s->add_option("--max-texts", o.limits.max_texts, "Texts per request at most (413)")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  s->add_option("--max-chars", o.limits.max_chars, "Characters per text at most (413)")->check(CLI::Range(1, 1 << 26))->capture_default_str();
  s->add_option("--max-beam-size", o.limits.max_beam_size, "beam_size at most (400)")->check(CLI::Range(1, 256))->capture_default_str();
  s->add_option("--max-length", o.limits.max_length, "max_length at most, in tokens (400)")->check(CLI::Range(1, 1 << 16))->capture_default_str();
  s->add_option("--max-body-bytes", o.max_body_bytes, "Request body size at most (413)")->check(CLI::Range(1, 1 << 30))->capture_default_str();
  s->add_option("--max-queued", o.max_queued, "Inputs per model accepted and not answered at most (503 beyond)")
      ->check(CLI::Range(1, 1 << 24))->capture_default_str();
  s->add_option("--request-timeout", o.request_timeout, "Seconds a request may take (504 beyond)")->check(CLI::PositiveNumber)->capture_default_str();
  s->add_option("--drain-seconds", o.drain_seconds, "On SIGTERM/SIGINT: seconds accepted requests may still take")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  s->add_option("--http-threads", o.http_threads, "Connections served at once")->check(CLI::Range(1, 65536))->capture_default_str();
  s->add_option("--keep-alive", o.keep_alive_seconds, "Seconds an idle keep-alive connection is kept")
      ->check(CLI::Range(1, 3600))->capture_default_str();
  s->add_option("--api-keys", a->api_keys_file, "File with one API key per line: requests need one");
  s->add_option("--cors-origin", o.cors_origin, "Allow browsers from this origin (CORS; off by default)");
  s->add_flag("--log-text", o.log_text, "Write request texts into the access log");
  add_hub_options(s, o.hub);
  return Subcommand{s, [a] { return run_serve(*a); }};
});

}  // namespace
}  // namespace attend_cli

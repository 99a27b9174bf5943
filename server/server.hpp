// server/server.hpp — `attend serve`: an HTTP service (cpp-httplib) over the public API that
// translates and summarizes for many clients at once. Requests to one model share one
// attend::Translator, so concurrent clients' sentences are decoded in common batches. Speaks
// LibreTranslate's API (POST /translate, GET /languages) and its own (/v1/...). docs/serving.md
// describes the endpoints, limits and behaviour.
#pragma once
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "server/request.hpp"

namespace attend_server {

// One model to serve: `-m MODEL` or `-m NAME=MODEL`.
struct ModelSpec {
  std::string name;   // how requests name it ("model"); from the path when not given
  std::string path;   // what attend::Model::load takes
};
// "NAME=MODEL" or "MODEL" (a name is taken from the file or folder name, without ".attend").
ModelSpec parse_model_spec(const std::string& arg);

struct ServerOptions {
  std::vector<ModelSpec> models;       // the first is the default
  std::string host = "127.0.0.1";
  int port = 5000;                     // 0: any free port (see Server::port)
  int threads = 0;                     // compute threads per model (0: all cores)
  std::string compute_type = "default";
  attend::HubOptions hub;              // for models given as hub ids (ORG/NAME[@REVISION])
  // Dynamic batching (attend::TranslatorOptions).
  int batch_wait_ms = 5;
  int max_batch_size = 32;
  int max_batch_tokens = 4096;
  // Seconds a model's worker stays idle before the buffers kept between batches are freed
  // (attend::TranslatorOptions::release_caches_after_ms; 0: never).
  double release_caches_after = 30;
  // Limits.
  RequestLimits limits;
  size_t max_body_bytes = 1 << 20;     // 413 beyond
  size_t max_queued = 1024;            // inputs per model accepted and not answered; 503 beyond
  double request_timeout = 60;         // seconds from reading a request to its answer; 504 beyond
  double drain_seconds = 30;           // SIGTERM: how long accepted requests may still take
  int http_threads = 512;              // connections served at once (more wait for a thread)
  int keep_alive_seconds = 5;          // idle time before a keep-alive connection is closed
  // Access.
  std::vector<std::string> api_keys;   // empty: no key needed
  std::string cors_origin;             // empty: no CORS headers
  bool log_text = false;               // access log lines include the request texts
};

// Reads an --api-keys file: one key per line; blank lines and lines starting with '#' skipped.
std::vector<std::string> read_api_keys(const std::string& path);

class Server {
 public:
  // Loads the models (throws attend::Error naming the model that failed). `log` receives the
  // access log (one line per request) and server messages.
  Server(const ServerOptions& options, std::ostream& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds to host:port (throws attend::Error when it cannot); returns the port.
  int bind();
  // Serves until shutdown() has drained every accepted request; returns then.
  void run();
  // Starts draining: /health answers 503, new requests get 503, the listening socket is closed;
  // accepted requests finish (after drain_seconds they are cancelled and answered 503).
  // Thread-safe; a second call cancels the accepted requests at once.
  void shutdown();
  int port() const;
  std::string url() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// `attend serve`: loads, binds, prints "attend serve: listening on URL" to `out`, serves until
// SIGTERM or SIGINT, drains and returns 0.
int serve(const ServerOptions& options, std::ostream& out, std::ostream& log);

}  // namespace attend_server

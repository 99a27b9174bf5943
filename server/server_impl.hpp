// server/server_impl.hpp — what a running `attend serve` holds (internal to server/): the
// loaded models with their Translators and admission counters, the HTTP server, metrics, the
// request watcher, and the per-request state the access log reads.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "attend/attend.hpp"
#include "server/languages.hpp"
#include "server/metrics.hpp"
#include "server/server.hpp"
#include "server/watch.hpp"

namespace attend_server {

using Clock = std::chrono::steady_clock;

struct LoadedModel {
  std::string name, path;
  std::shared_ptr<const attend::Model> model;
  std::unique_ptr<attend::Translator> translator;
  attend::ModelInfo info;
  ModelLanguages languages;
  int default_beams = 1;                 // the model's num_beams default
  double load_seconds = 0;
  std::atomic<size_t> inputs{0};         // accepted inputs not answered yet (admission control)
  // Documents and summaries are computed by direct calls, one at a time per model.
  std::mutex direct_mu;
  std::condition_variable direct_cv;
  bool direct_busy = false;
};

// cpp-httplib's server with a larger listen backlog (the library's is 5: bursts of hundreds of
// connections would wait for SYN retransmissions).
class HttpServer : public httplib::Server {
 public:
  void set_backlog(int backlog);
};

// What the access log line and the metrics of the request being handled on this thread need.
struct RequestRecord {
  Clock::time_point start;
  bool active = false;
  std::string endpoint;    // a known path, or "other"
  size_t texts = 0;
  uint64_t tokens = 0;
  std::string texts_json;  // with --log-text
  bool counted = false;    // counted in handlers_active (until its response or stream starts)
  bool stream = false;     // answered with Server-Sent Events
};
RequestRecord& current_request();

struct Server::Impl {
  Impl(const ServerOptions& o, std::ostream& l) : options(o), log(l) {}

  ServerOptions options;
  std::ostream& log;
  std::mutex log_mu;
  std::vector<std::unique_ptr<LoadedModel>> models;
  HttpServer http;
  Metrics metrics;
  Watch watch;
  int port = 0;
  std::atomic<bool> draining{false};
  std::atomic<int> shutdown_calls{0};
  std::atomic<size_t> in_flight{0};        // requests read and not answered yet
  // Requests past the pre-routing checks whose response has not started: closing the listening
  // socket while one is pending could cut its response (cpp-httplib 0.11 stops calling content
  // providers once the server is stopped), so draining waits for these first.
  std::atomic<size_t> handlers_active{0};
  void handler_done(RequestRecord& r) {
    if (r.counted) {
      r.counted = false;
      --handlers_active;
    }
  }
  std::mutex drain_mu;
  std::condition_variable drain_cv;
  bool finished = false;
  std::thread drain_timer;

  void load_models();
  void install_routes();
  void write_log(const std::string& line);

  // Endpoints (server/endpoints.cpp).
  void health(const httplib::Request& req, httplib::Response& res);
  void index_page(const httplib::Request& req, httplib::Response& res);
  void languages(const httplib::Request& req, httplib::Response& res);
  void list_models(const httplib::Request& req, httplib::Response& res);
  void metrics_text(const httplib::Request& req, httplib::Response& res);
  void translate(const httplib::Request& req, httplib::Response& res);
  void summarize(const httplib::Request& req, httplib::Response& res);
  void libre_translate(const httplib::Request& req, httplib::Response& res);

  LoadedModel& model_named(const std::string& name);
  bool key_valid(const std::string& key) const;
  bool header_authorized(const httplib::Request& req) const;
};

// {"error": message} with `status`.
void set_error(httplib::Response& res, int status, const std::string& message);
void set_json(httplib::Response& res, const std::string& json_text, int status = 200);

}  // namespace attend_server

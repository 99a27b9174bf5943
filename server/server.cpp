// server/server.cpp — `attend serve`'s lifecycle (load, bind, serve, drain on shutdown), the
// routing table with its 404/405, API keys, CORS and draining checks (before a body is read),
// error bodies, the access log, and serve() with SIGTERM/SIGINT handling.
#include "server/server.hpp"

#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "server/server_impl.hpp"

namespace attend_server {

using nlohmann::json;

void HttpServer::set_backlog(int backlog) {
  const socket_t s = svr_sock_;
  if (s != INVALID_SOCKET) ::listen(s, backlog);  // on a listening socket: only the backlog changes
}

RequestRecord& current_request() {
  thread_local RequestRecord r;
  return r;
}

void set_json(httplib::Response& res, const std::string& json_text, int status) {
  res.status = status;
  res.set_content(json_text, "application/json");
}

void set_error(httplib::Response& res, int status, const std::string& message) {
  set_json(res, json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace), status);
}

ModelSpec parse_model_spec(const std::string& arg) {
  ModelSpec s;
  const size_t eq = arg.find('=');
  if (eq != std::string::npos && eq > 0 && arg.find('/') > eq) {
    s.name = arg.substr(0, eq);
    s.path = arg.substr(eq + 1);
  } else {
    s.path = arg;
    std::string base = arg;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    const size_t slash = base.rfind('/');
    if (slash != std::string::npos) base = base.substr(slash + 1);
    if (base.size() > 7 && base.compare(base.size() - 7, 7, ".attend") == 0) base.resize(base.size() - 7);
    // A hub id's name is the repository's, without @revision.
    if (const size_t at = base.find('@'); at != std::string::npos && at > 0 && attend::is_hub_model_id(arg))
      base.resize(at);
    s.name = base;
  }
  if (s.name.empty() || s.path.empty()) throw attend::Error("-m '" + arg + "': expected MODEL or NAME=MODEL");
  return s;
}

std::vector<std::string> read_api_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw attend::Error(path + ": cannot read the API key file");
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    const size_t e = line.find_last_not_of(" \t\r");
    keys.push_back(line.substr(b, e - b + 1));
  }
  if (keys.empty()) throw attend::Error(path + ": no API keys in the file");
  return keys;
}

namespace {

// The routes and their methods (HEAD goes with GET).
const std::map<std::string, std::set<std::string>>& routes() {
  static const std::map<std::string, std::set<std::string>> r = {
      {"/health", {"GET", "HEAD"}},       {"/languages", {"GET", "HEAD"}},  {"/v1/models", {"GET", "HEAD"}},
      {"/metrics", {"GET", "HEAD"}},      {"/translate", {"POST"}},         {"/v1/translate", {"POST"}},
      {"/v1/summarize", {"POST"}},        {"/", {"GET", "HEAD"}},  // the attention page (issue 16)
  };
  return r;
}

// Requests that need no API key.
bool public_path(const std::string& path) { return path == "/health" || path == "/languages" || path == "/"; }

// Constant-time comparison (a key's characters are not revealed by timing).
bool same_key(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(1, b.size())]);
  return diff == 0;
}

const char* reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "payload too large";
    case 414: return "URI too long";
    case 503: return "service unavailable";
    case 504: return "gateway timeout";
    default: return "error";
  }
}

}  // namespace

bool Server::Impl::key_valid(const std::string& key) const {
  bool ok = false;
  for (const auto& k : options.api_keys) ok = same_key(key, k) || ok;
  return ok;
}

bool Server::Impl::header_authorized(const httplib::Request& req) const {
  const std::string auth = req.get_header_value("Authorization");
  return auth.compare(0, 7, "Bearer ") == 0 && key_valid(auth.substr(7));
}

void Server::Impl::write_log(const std::string& line) {
  std::lock_guard<std::mutex> lock(log_mu);
  log << line << std::endl;
}

void Server::Impl::load_models() {
  if (options.models.empty()) throw attend::Error("attend serve: no model to serve");
  std::set<std::string> names;
  for (const ModelSpec& spec : options.models) {
    if (!names.insert(spec.name).second) throw attend::Error("-m: the name '" + spec.name + "' is used twice");
    auto m = std::make_unique<LoadedModel>();
    m->name = spec.name;
    m->path = spec.path;
    attend::LoadOptions lo;
    lo.threads = options.threads;
    lo.compute_type = options.compute_type;
    lo.hub = options.hub;
    const auto t0 = Clock::now();
    try {
      m->model = attend::Model::load(spec.path, lo);
    } catch (const attend::Error& e) {
      throw attend::Error("model '" + spec.name + "': " + e.what());
    }
    m->load_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    m->info = m->model->info();
    m->languages = languages_of(m->info);
    const json defaults = json::parse(m->info.generation_defaults, nullptr, false);
    if (defaults.is_object() && defaults.contains("num_beams") && defaults["num_beams"].is_number_integer())
      m->default_beams = std::max(1, defaults["num_beams"].get<int>());
    attend::TranslatorOptions to;
    to.wait_ms = options.batch_wait_ms;
    to.max_batch_size = options.max_batch_size;
    to.max_batch_tokens = options.max_batch_tokens;
    to.max_queued = static_cast<int>(std::min<size_t>(options.max_queued, 1 << 30));
    to.threads = options.threads;
    // seconds to milliseconds, a positive time staying positive (0 is "never")
    to.release_caches_after_ms = options.release_caches_after <= 0
                                     ? 0
                                     : static_cast<int>(std::clamp(std::ceil(options.release_caches_after * 1000), 1.0, 2e9));
    m->translator = std::make_unique<attend::Translator>(m->model, to);
    models.push_back(std::move(m));
  }
}

void Server::Impl::install_routes() {
  http.set_payload_max_length(options.max_body_bytes);
  http.set_keep_alive_timeout(options.keep_alive_seconds);
  http.set_tcp_nodelay(true);
  const size_t threads = static_cast<size_t>(std::max(1, options.http_threads));
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  if (!options.cors_origin.empty())
    http.set_default_headers({{"Access-Control-Allow-Origin", options.cors_origin}, {"Vary", "Origin"}});

  // Before the body is read: 404/405, CORS preflight, draining, API keys.
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    RequestRecord& rec = current_request();
    rec = RequestRecord{};
    rec.start = Clock::now();
    rec.active = true;
    const auto route = routes().find(req.path);
    rec.endpoint = route == routes().end() ? "other" : req.path;
    ++in_flight;
    auto handled = [&] {
      if (req.method != "GET" && req.method != "HEAD") res.set_header("Connection", "close");  // body unread
      return httplib::Server::HandlerResponse::Handled;
    };
    if (route == routes().end()) {
      set_error(res, 404, "not found: " + req.path);
      return handled();
    }
    if (req.method == "OPTIONS" && !options.cors_origin.empty()) {
      res.status = 204;
      std::string allow;
      for (const auto& m : route->second) allow += (allow.empty() ? "" : ", ") + m;
      res.set_header("Access-Control-Allow-Methods", allow + ", OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization");
      res.set_header("Access-Control-Max-Age", "600");
      return handled();
    }
    if (!route->second.count(req.method)) {
      std::string allow;
      for (const auto& m : route->second) allow += (allow.empty() ? "" : ", ") + m;
      res.set_header("Allow", allow);
      set_error(res, 405, "method " + req.method + " not allowed on " + req.path + " (allowed: " + allow + ")");
      return handled();
    }
    if (draining && req.path != "/health" && req.path != "/metrics") {
      res.set_header("Retry-After", "5");
      res.set_header("Connection", "close");
      set_error(res, 503, "the server is shutting down");
      return handled();
    }
    if (!options.api_keys.empty() && !public_path(req.path)) {
      const bool has_header = req.has_header("Authorization");
      if (has_header && !header_authorized(req)) {
        set_error(res, 403, "invalid API key");
        return handled();
      }
      if (!has_header) {
        if (req.has_param("api_key")) {  // in the query string
          if (!key_valid(req.get_param_value("api_key"))) {
            set_error(res, 403, "invalid API key");
            return handled();
          }
        } else if (req.path != "/translate") {  // LibreTranslate's api_key may be in the body
          set_error(res, 401, "an API key is required (Authorization: Bearer KEY)");
          return handled();
        }
      }
    }
    rec.counted = true;
    ++handlers_active;
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Bodies for errors that have none (the library's own 400/413/414...).
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.status == 204) return;
    std::string message = reason(res.status);
    if (res.status == 413) {
      const bool form = req.get_header_value("Content-Type").find("application/x-www-form-urlencoded") == 0;
      message = form && req.get_header_value<uint64_t>("Content-Length") <= options.max_body_bytes
                    ? "form bodies are limited to 8192 bytes (send JSON for more)"
                    : "the request body is larger than the limit of " + std::to_string(options.max_body_bytes) +
                          " bytes (--max-body-bytes)";
    }
    set_error(res, res.status, message);
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    set_error(res, 500, "internal error: " + what);
  });

  // One line per request; never the query string (it may hold api_key) nor, by default, texts.
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    RequestRecord& rec = current_request();
    handler_done(rec);
    if (rec.active) --in_flight;
    const auto now = Clock::now();
    const double seconds = rec.active ? std::chrono::duration<double>(now - rec.start).count() : 0.0;
    const std::string endpoint = rec.active ? rec.endpoint : "other";
    metrics.request(endpoint, res.status, seconds);
    char buf[96];
    std::snprintf(buf, sizeof buf, " %d %.1f ms texts=%zu tokens=%llu", res.status, seconds * 1000.0, rec.texts,
                  static_cast<unsigned long long>(rec.tokens));
    std::string line = req.remote_addr + " \"" + req.method + " " + req.path + "\"" + buf;
    if (options.log_text && !rec.texts_json.empty()) line += " text=" + rec.texts_json;
    write_log(line);
    rec = RequestRecord{};
  });

  http.Get("/", [this](const httplib::Request& q, httplib::Response& r) { index_page(q, r); });
  http.Get("/health", [this](const httplib::Request& q, httplib::Response& r) { health(q, r); });
  http.Get("/languages", [this](const httplib::Request& q, httplib::Response& r) { languages(q, r); });
  http.Get("/v1/models", [this](const httplib::Request& q, httplib::Response& r) { list_models(q, r); });
  http.Get("/metrics", [this](const httplib::Request& q, httplib::Response& r) { metrics_text(q, r); });
  http.Post("/translate", [this](const httplib::Request& q, httplib::Response& r) { libre_translate(q, r); });
  http.Post("/v1/translate", [this](const httplib::Request& q, httplib::Response& r) { translate(q, r); });
  http.Post("/v1/summarize", [this](const httplib::Request& q, httplib::Response& r) { summarize(q, r); });
}

Server::Server(const ServerOptions& options, std::ostream& log) : impl_(std::make_unique<Impl>(options, log)) {
  const RequestLimits& l = options.limits;
  if (l.max_texts < 1 || l.max_chars < 1 || l.max_beam_size < 1 || l.max_length < 1)
    throw attend::Error("attend serve: request limits must be >= 1");
  if (options.max_queued < l.max_texts)
    throw attend::Error("--max-queued (" + std::to_string(options.max_queued) + ") must be at least --max-texts (" +
                        std::to_string(l.max_texts) + ")");
  if (options.request_timeout <= 0 || options.drain_seconds < 0)
    throw attend::Error("--request-timeout must be > 0 and --drain-seconds >= 0");
  impl_->load_models();
  impl_->install_routes();
}

Server::~Server() {
  if (impl_->drain_timer.joinable()) {
    {
      std::lock_guard<std::mutex> lock(impl_->drain_mu);
      impl_->finished = true;
    }
    impl_->drain_cv.notify_all();
    impl_->drain_timer.join();
  }
}

int Server::bind() {
  Impl& s = *impl_;
  if (s.options.port == 0) {
    s.port = s.http.bind_to_any_port(s.options.host);
    if (s.port <= 0) throw attend::Error("attend serve: cannot bind to " + s.options.host + " (any port)");
  } else {
    if (!s.http.bind_to_port(s.options.host, s.options.port))
      throw attend::Error("attend serve: cannot bind to " + s.options.host + ":" + std::to_string(s.options.port) +
                          " (in use, or not an address of this machine)");
    s.port = s.options.port;
  }
  s.http.set_backlog(4096);
  return s.port;
}

void Server::run() {
  Impl& s = *impl_;
  if (!s.draining) s.http.listen_after_bind();  // returns once stopped and every connection is done
  {
    std::lock_guard<std::mutex> lock(s.drain_mu);
    s.finished = true;
  }
  s.drain_cv.notify_all();
  if (s.drain_timer.joinable()) s.drain_timer.join();
}

void Server::shutdown() {
  Impl& s = *impl_;
  if (s.shutdown_calls++ > 0) {  // asked again: stop waiting for the accepted requests
    s.watch.stop_all(StopReason::Shutdown);
    return;
  }
  s.draining = true;  // from now on new requests are refused with 503
  s.drain_timer = std::thread([&s] {
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(s.options.drain_seconds));
    // Let every accepted request start its response before the listening socket is closed.
    while (s.handlers_active > 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s.http.stop();
    std::unique_lock<std::mutex> lock(s.drain_mu);
    if (!s.drain_cv.wait_until(lock, deadline, [&] { return s.finished; })) {
      lock.unlock();
      s.write_log("attend serve: --drain-seconds passed, cancelling the requests still running");
      s.watch.stop_all(StopReason::Shutdown);
    }
  });
}

int Server::port() const { return impl_->port; }

std::string Server::url() const {
  const std::string& h = impl_->options.host;
  const bool v6 = h.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(impl_->port);
}

int serve(const ServerOptions& options, std::ostream& out, std::ostream& log) {
  // Signals are taken by one thread with sigtimedwait; every other thread (model loading
  // starts compute threads) inherits the blocked mask. Writes to a closed socket must not kill.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Server server(options, log);
  server.bind();
  out << "attend serve: listening on " << server.url() << std::endl;
  std::atomic<bool> done{false};
  std::thread signals([&] {
    int count = 0;
    while (!done) {
      timespec wait{0, 200 * 1000 * 1000};
      const int sig = sigtimedwait(&set, nullptr, &wait);
      if (sig <= 0) continue;
      log << "attend serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
          << (count++ == 0 ? ": draining (finishing accepted requests)" : ": cancelling accepted requests")
          << std::endl;
      server.shutdown();
    }
  });
  server.run();
  done = true;
  signals.join();
  log << "attend serve: stopped" << std::endl;
  return 0;
}

}  // namespace attend_server

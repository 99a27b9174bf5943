// tests/server/server_fixture.hpp — an in-process `attend serve` on 127.0.0.1 (a free port the
// OS picks) with the bundled model, run on its own thread and drained when the test ends, and
// the library results the answers are compared with.
#pragma once
#include <httplib.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "attend/attend.hpp"
#include "server/server.hpp"

namespace server_test {

inline std::shared_ptr<const attend::Model> model() {
  static auto m = attend::Model::load(ATTEND_DEFAULT_MODEL_PATH);
  return m;
}

inline attend_server::ServerOptions options() {
  attend_server::ServerOptions o;
  o.models = {{"de", ATTEND_DEFAULT_MODEL_PATH}};
  o.port = 0;
  o.keep_alive_seconds = 1;
  o.drain_seconds = 10;
  return o;
}

class RunningServer {
 public:
  explicit RunningServer(const attend_server::ServerOptions& o = options()) : server_(o, log_) {
    port_ = server_.bind();
    thread_ = std::thread([this] { server_.run(); });
    httplib::Client c = client();
    for (int i = 0; i < 500; ++i) {  // up once /health answers (at most 5 s)
      if (auto r = c.Get("/health"); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("the test server did not come up");
  }
  ~RunningServer() {
    server_.shutdown();
    thread_.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }
  attend_server::Server& server() { return server_; }
  // The access log once it contains `needle` (or after 5 s): the server writes a request's
  // line after the client already has the response.
  std::string log_containing(const std::string& needle) const {
    for (int i = 0; i < 500; ++i) {
      std::string text = log_buf_.text();
      if (text.find(needle) != std::string::npos) return text;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return log_buf_.text();
  }
  int port() const { return port_; }

 private:
  // The log the server writes on its threads while the test reads it: every access locked.
  class LockedBuffer : public std::streambuf {
   public:
    std::string text() const {
      std::lock_guard<std::mutex> lock(mu_);
      return text_;
    }

   protected:
    int_type overflow(int_type c) override {
      if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
      std::lock_guard<std::mutex> lock(mu_);
      text_.push_back(traits_type::to_char_type(c));
      return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
      std::lock_guard<std::mutex> lock(mu_);
      text_.append(s, static_cast<size_t>(n));
      return n;
    }

   private:
    mutable std::mutex mu_;
    std::string text_;
  };
  LockedBuffer log_buf_;
  std::ostream log_{&log_buf_};
  attend_server::Server server_;
  int port_ = 0;
  std::thread thread_;
};

inline const std::vector<std::string>& sentences() {
  static const std::vector<std::string> s = {
      "A man in an orange hat starring at something.", "Two young girls are playing in the snow.",
      "A dog runs across the grass with a ball in its mouth.", "People are sitting at tables in a busy restaurant.",
      "A woman is riding a bicycle down the street.", "A little boy is eating an ice cream cone.",
      "Several men are working on a construction site.", "A black dog is swimming in a lake.",
      "A group of children are standing in front of a school.", "An old man is reading a newspaper on a bench.",
      "Two men are playing soccer on a field.", "A woman in a red dress is dancing on a stage.",
      "A girl is jumping into a swimming pool.", "A man is cooking food in a kitchen.",
      "The crowd is watching a concert.", "A cat sleeps on the couch.",
  };
  return s;
}

// Model::translate's best text for each sentence with `beams` beams (0: the model's default).
inline std::vector<std::string> library_texts(const std::vector<std::string>& in, int beams = 0) {
  attend::TranslateOptions o;
  if (beams > 0) o.generation.num_beams = beams;
  std::vector<std::string> out;
  for (const auto& r : model()->translate(in, o)) out.push_back(r.hypotheses.at(0).text);
  return out;
}

}  // namespace server_test

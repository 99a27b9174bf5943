// tests/server/test_serve_process.cpp — the real `attend serve` binary: prints its URL, answers,
// and on SIGTERM under load finishes every request it accepted (or refused it with 503), cuts
// no response short and exits 0.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "server_fixture.hpp"
#include "tests/support/child_process.hpp"

using nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("serve process: SIGTERM under load drains, no response cut, exit 0", "[server][process]") {
  const std::string dir = "/tmp/attend-serve-test-" + std::to_string(::getpid());
  REQUIRE(::system(("mkdir -p " + dir).c_str()) == 0);
  attend_test::CommandOptions co;
  co.stdout_file = dir + "/out.txt";
  co.stderr_file = dir + "/err.txt";
  attend_test::BackgroundCommand child({attend_test::attend_cli(), "serve", "--port", "0", "--threads", "2",
                                        "--drain-seconds", "30", "--keep-alive", "1"},
                                       co);
  std::string url;
  for (int i = 0; i < 1000 && url.empty(); ++i) {  // at most 10 s
    const std::string out = read_file(co.stdout_file);
    const size_t p = out.find("listening on http://127.0.0.1:");
    if (p != std::string::npos && out.find('\n', p) != std::string::npos)
      url = out.substr(p + 13, out.find('\n', p) - p - 13);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE_FALSE(url.empty());
  const int port = std::stoi(url.substr(url.rfind(':') + 1));

  const auto& in = server_test::sentences();
  const std::vector<std::string> texts(in.begin(), in.begin() + 8);
  attend::TranslateOptions o;
  o.generation.num_beams = 4;
  std::vector<std::string> want;
  for (const auto& r : server_test::model()->translate(texts, o)) want.push_back(r.hypotheses[0].text);
  const std::string body = json{{"text", texts}, {"beam_size", 4}}.dump();

  constexpr int kClients = 16;
  std::atomic<bool> signalled{false};
  std::atomic<int> ok_before{0}, ok_after{0}, refused{0}, wrong{0}, other_status{0}, early_errors{0}, late_errors{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {  // bounded: stops at the first refusal or error after SIGTERM
        httplib::Client c("127.0.0.1", port);
        c.set_keep_alive(false);  // a fresh connection per request: each is accepted or refused
        c.set_read_timeout(60, 0);
        const bool after = signalled;
        auto r = c.Post("/v1/translate", body, "application/json");
        if (!r) {
          (after ? late_errors : early_errors)++;
          if (after) return;
          continue;
        }
        if (r->status == 503) {
          ++refused;
          CHECK(json::parse(r->body).contains("error"));
          return;
        }
        if (r->status != 200) {
          ++other_status;
          return;
        }
        const json j = json::parse(r->body);  // a cut body would not parse
        for (size_t t = 0; t < texts.size(); ++t)
          if (j["translations"][t]["text"] != want[t]) ++wrong;
        (signalled ? ok_after : ok_before)++;
      }
    });
  while (ok_before < 2 * kClients) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  signalled = true;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(child.kill(SIGTERM));
  for (auto& t : clients) t.join();
  const attend_test::CommandResult r = child.wait();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string log = read_file(co.stderr_file);
  INFO("ok before " << ok_before << ", after " << ok_after << ", refused " << refused << ", errors "
                    << early_errors << "/" << late_errors << "\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
  CHECK(early_errors == 0);
  CHECK(wrong == 0);
  CHECK(other_status == 0);
  CHECK(ok_after > 0);  // requests in flight at SIGTERM completed
  // Every request the server answered with 200 reached a client whole (no response cut).
  CHECK(count(log, "\"POST /v1/translate\" 200 ") == static_cast<size_t>(ok_before + ok_after));
  CHECK(count(log, "\"POST /v1/translate\" 503 ") == static_cast<size_t>(refused));
  CHECK_THAT(log, Catch::Contains("SIGTERM: draining"));
  CHECK_THAT(log, Catch::Contains("attend serve: stopped"));
  CHECK(took < 20.0);
  REQUIRE(::system(("rm -rf " + dir).c_str()) == 0);
}

// tests/server/test_server.cpp — `attend serve` over HTTP on loopback (in-process server, bundled
// model): every endpoint and error status, LibreTranslate's request shapes, results equal to
// Model::translate, streamed text adding up to the unstreamed one, limits, API keys, CORS,
// cancellation (deadline, hang-up) and 256 concurrent connections.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "server_fixture.hpp"

using nlohmann::json;
using server_test::RunningServer;

namespace {

json body_of(const httplib::Result& r) {
  REQUIRE(r);
  return json::parse(r->body);
}

httplib::Result post_json(httplib::Client& c, const std::string& path, const json& body,
                          const httplib::Headers& headers = {}) {
  return c.Post(path.c_str(), headers, body.dump(), "application/json");
}

// Pieces per index and the final result of a Server-Sent Events body.
struct Events {
  std::map<size_t, std::string> text;
  json result;
  json error;
  size_t pieces = 0;
};

Events parse_events(const std::string& body) {
  Events ev;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    REQUIRE(end != std::string::npos);  // every event is complete
    const std::string block = body.substr(pos, end - pos);
    pos = end + 2;
    std::string event = "message", data;
    size_t lp = 0;
    while (lp < block.size()) {
      size_t le = block.find('\n', lp);
      if (le == std::string::npos) le = block.size();
      const std::string line = block.substr(lp, le - lp);
      if (line.rfind("event: ", 0) == 0) event = line.substr(7);
      if (line.rfind("data: ", 0) == 0) data = line.substr(6);
      lp = le + 1;
    }
    const json d = json::parse(data);
    if (event == "message") {
      ev.text[d.at("index").get<size_t>()] += d.at("text").get<std::string>();
      ++ev.pieces;
    } else if (event == "result") {
      ev.result = d;
    } else if (event == "error") {
      ev.error = d;
    }
  }
  return ev;
}

int status_of(const httplib::Result& r) { return r ? r->status : -1; }

// GET /metrics until its text contains `needle` (at most `tries` reads, `pause` apart), and that
// text (the last one read when it never did). The server counts a request after sending its
// last byte, so a client can ask for /metrics before its previous request is counted.
std::string metrics_with(httplib::Client& c, const std::string& needle, int tries = 200,
                         std::chrono::milliseconds pause = std::chrono::milliseconds(5)) {
  std::string body;
  for (int i = 0; i < tries; ++i) {
    auto r = c.Get("/metrics");
    body = r ? r->body : std::string();
    if (body.find(needle) != std::string::npos) break;
    std::this_thread::sleep_for(pause);
  }
  return body;
}

// A request that keeps the model busy for seconds: min_length forces 500 steps of a 16-beam
// search (the largest beam the default limits allow; 4 beams took 0.3-0.6 s on a 2-core AMD
// EPYC, under the limits test's 1 s deadline).
json slow_request(size_t texts = 4) {
  std::vector<std::string> t(server_test::sentences().begin(), server_test::sentences().begin() + texts);
  return json{{"text", t}, {"beam_size", 16}, {"min_length", 500}, {"max_length", 500}};
}

}  // namespace

TEST_CASE("serve: health, models, languages, metrics, 404 and 405", "[server][http]") {
  RunningServer s;
  auto c = s.client();
  CHECK(body_of(c.Get("/health")) == json({{"status", "ok"}, {"models", 1}}));
  const json models = body_of(c.Get("/v1/models"));
  REQUIRE(models["models"].size() == 1);
  CHECK(models["models"][0]["name"] == "de");
  CHECK(models["models"][0]["default"] == true);
  CHECK(models["models"][0]["family"] == "marian");
  // The figures' context as the library reports it: the arithmetic and the CPU (cpuid's name with
  // family, model and stepping; the library's own test checks it against /proc/cpuinfo).
  const attend::ModelInfo info = server_test::model()->info();
  CHECK(models["models"][0]["compute_type"] == info.compute_type);
  CHECK(models["models"][0]["cpu"] == info.cpu_model);
  CHECK(models["models"][0]["cpu_isa"] == info.cpu_isa);
  CHECK_FALSE(info.cpu_isa.empty());
  // LibreTranslate's /languages from the model's tokenizer_config.json (source_lang/target_lang).
  CHECK(body_of(c.Get("/languages")) == json::parse(R"([{"code": "en", "name": "English", "targets": ["de"]}])"));

  auto r = c.Get("/nothing/here");
  CHECK(status_of(r) == 404);
  CHECK(body_of(r)["error"] == "not found: /nothing/here");
  {  // the attention page (issue 16)
    auto page = c.Get("/");
    CHECK(status_of(page) == 200);
    CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK_THAT(page->body, Catch::Contains("attendHeatmap") && Catch::Contains("/v1/translate"));
  }
  r = c.Get("/v1/translate");
  CHECK(status_of(r) == 405);
  CHECK(r->get_header_value("Allow") == "POST");
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("GET not allowed"));
  CHECK(status_of(c.Post("/health", "{}", "application/json")) == 405);
  CHECK(status_of(c.Delete("/translate")) == 405);
  CHECK(status_of(c.Options("/v1/translate")) == 405);  // no CORS without --cors-origin
  CHECK_FALSE(c.Get("/health")->has_header("Access-Control-Allow-Origin"));

  post_json(c, "/v1/translate", {{"text", "A dog."}, {"beam_size", 1}});
  const std::string counted = "attend_requests_total{endpoint=\"/v1/translate\",status=\"200\"} 1\n";
  metrics_with(c, counted);  // the translation counted (after its last byte went out)
  r = c.Get("/metrics");
  REQUIRE(status_of(r) == 200);
  CHECK_THAT(r->get_header_value("Content-Type"), Catch::StartsWith("text/plain; version=0.0.4"));
  CHECK_THAT(r->body, Catch::Contains(counted));
  CHECK_THAT(r->body, Catch::Contains("attend_requests_total{endpoint=\"/v1/translate\",status=\"405\"} 2\n"));
  CHECK_THAT(r->body, Catch::Contains("attend_requests_total{endpoint=\"other\",status=\"404\"} 1\n"));  // "/" is the page now
  CHECK_THAT(r->body, Catch::Contains("attend_requests_total{endpoint=\"/\",status=\"200\"} 1\n"));
  CHECK_THAT(r->body, Catch::Contains("attend_batch_size_count{model=\"de\"} 1\n"));
  CHECK_THAT(r->body, Catch::Contains("attend_queue_depth{model=\"de\"} 0\n"));
  CHECK_THAT(r->body, Catch::Contains("attend_model_load_seconds{model=\"de\"}"));
  // The buffers kept for the next batch: resident, not released (30 s idle by default).
  CHECK_THAT(r->body, Catch::Contains("attend_cache_releases_total{model=\"de\"} 0\n"));
  const std::string cached = "attend_model_cached_bytes{model=\"de\"} ";
  REQUIRE(r->body.find(cached) != std::string::npos);
  CHECK(std::stoull(r->body.substr(r->body.find(cached) + cached.size())) > 0);
  CHECK_THAT(r->body, Catch::Contains("attend_request_duration_seconds_count{endpoint=\"/v1/translate\"}"));
  const std::string tokens = "attend_generated_tokens_total{model=\"de\"} ";
  const size_t at = r->body.find(tokens);
  REQUIRE(at != std::string::npos);
  CHECK(std::stoi(r->body.substr(at + tokens.size())) > 1);
}

TEST_CASE("serve: LibreTranslate shapes (JSON, form, multipart, arrays, auto) equal Model::translate", "[server][http][libre]") {
  RunningServer s;
  auto c = s.client();
  const auto& in = server_test::sentences();
  const auto want = server_test::library_texts({in[0], in[1], in[2]});  // the model's defaults, as LibreTranslate gives none

  auto r = post_json(c, "/translate", {{"q", in[0]}, {"source", "en"}, {"target", "de"}, {"format", "text"}});
  REQUIRE(status_of(r) == 200);
  CHECK(body_of(r) == json{{"translatedText", want[0]}});
  r = post_json(c, "/translate", {{"q", {in[0], in[1], in[2]}}, {"source", "en"}, {"target", "de"}});
  CHECK(body_of(r) == json{{"translatedText", want}});
  httplib::Params form{{"q", in[1]}, {"source", "en"}, {"target", "de"}};
  r = c.Post("/translate", form);
  REQUIRE(status_of(r) == 200);
  CHECK(body_of(r) == json{{"translatedText", want[1]}});
  httplib::MultipartFormDataItems multipart = {{"q", in[2], "", ""}, {"source", "en", "", ""}, {"target", "de", "", ""}};
  r = c.Post("/translate", multipart);
  REQUIRE(status_of(r) == 200);
  CHECK(body_of(r) == json{{"translatedText", want[2]}});
  // "auto": the model has one source language.
  r = post_json(c, "/translate", {{"q", in[0]}, {"source", "auto"}, {"target", "de"}});
  CHECK(body_of(r) == json{{"translatedText", want[0]}, {"detectedLanguage", {{"confidence", 100}, {"language", "en"}}}});

  r = post_json(c, "/translate", {{"q", in[0]}, {"source", "en"}, {"target", "fr"}});
  CHECK(status_of(r) == 400);
  CHECK(body_of(r)["error"] == "en → fr is not available (see GET /languages)");
  r = post_json(c, "/translate", {{"q", in[0]}, {"source", "auto"}, {"target", "fr"}});
  CHECK(status_of(r) == 400);
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("language detection is not supported"));
  {  // format html (issue 16): what Model::translate_html gives
    const std::string html = "<p>A <b>black dog</b> runs in the <a href=\"/park\">park</a>.</p>";
    const std::string want = server_test::model()->translate_html({html}).at(0);
    r = post_json(c, "/translate", {{"q", html}, {"source", "en"}, {"target", "de"}, {"format", "html"}});
    CHECK(status_of(r) == 200);
    CHECK(body_of(r)["translatedText"] == want);
    r = post_json(c, "/v1/translate", {{"text", html}, {"format", "html"}});
    CHECK(status_of(r) == 200);
    CHECK(body_of(r)["translations"][0]["text"] == want);
  }
  {  // attention and alignments on /v1/translate equal the library's
    attend::TranslateOptions o;
    o.return_attention = true;
    const attend::Hypothesis h = server_test::model()->translate({in[0]}, o).at(0).hypotheses.at(0);
    r = post_json(c, "/v1/translate", {{"text", in[0]}, {"return_attention", true}, {"alignments", true}});
    REQUIRE(status_of(r) == 200);
    const json t = body_of(r)["translations"][0];
    CHECK(t["alignment"] == attend::format_alignment(server_test::model()->align_words(h)));
    const json& w = t["attention"]["weights"];
    REQUIRE(w.size() == 1);
    REQUIRE(w[0].size() == 1);
    REQUIRE(w[0][0].size() == static_cast<size_t>(h.attention.target));
    for (int tt = 0; tt < h.attention.target; ++tt)
      for (int s = 0; s < h.attention.source; ++s)
        CHECK(w[0][0][static_cast<size_t>(tt)][static_cast<size_t>(s)].get<float>() == h.attention.at(0, 0, tt, s));
    CHECK(t["attention"]["source_tokens"].size() == static_cast<size_t>(h.attention.source));
  }
  r = c.Post("/translate", "q=%FF%FE&source=en&target=de", "application/x-www-form-urlencoded");
  CHECK(status_of(r) == 400);
  CHECK(body_of(r)["error"] == "q is not valid UTF-8");
  r = c.Post("/translate", "source=en&target=de", "application/x-www-form-urlencoded");
  CHECK(body_of(r)["error"] == "Invalid request: missing q parameter");
}

TEST_CASE("serve: /v1/translate equals Model::translate (beams, n-best, scores)", "[server][http]") {
  RunningServer s;
  auto c = s.client();
  const auto& in = server_test::sentences();
  const std::vector<std::string> texts(in.begin(), in.begin() + 6);
  attend::TranslateOptions o;
  o.generation.num_beams = 3;
  o.generation.num_return_sequences = 2;
  const auto lib = server_test::model()->translate(texts, o);
  const json got = body_of(post_json(c, "/v1/translate", {{"text", texts}, {"beam_size", 3}, {"num_hypotheses", 2},
                                                          {"return_scores", true}}));
  REQUIRE(got["translations"].size() == texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const json& t = got["translations"][i];
    CHECK(t["text"] == lib[i].hypotheses[0].text);
    CHECK(t["score"].get<float>() == lib[i].hypotheses[0].score);
    REQUIRE(t["hypotheses"].size() == 2);
    CHECK(t["hypotheses"][1]["text"] == lib[i].hypotheses[1].text);
    CHECK(t["hypotheses"][1]["score"].get<float>() == lib[i].hypotheses[1].score);
  }
  const json single = body_of(post_json(c, "/v1/translate", {{"text", in[3]}, {"model", "de"}, {"target_lang", "de"}}));
  CHECK(single == json{{"translations", {{{"text", server_test::library_texts({in[3]})[0]}}}}});
  // Documents keep their layout (Model::translate_documents).
  const std::string doc = in[0] + " " + in[1] + "\n\n" + in[2] + "\n";
  const json d = body_of(post_json(c, "/v1/translate", {{"text", doc}, {"document", true}}));
  CHECK(d["translations"][0]["text"] == server_test::model()->translate_document(doc).text);
  CHECK(d["translations"][0]["sentences"] == 3);

  auto r = post_json(c, "/v1/translate", {{"text", "A dog."}, {"model", "nope"}});
  CHECK(status_of(r) == 400);
  CHECK(body_of(r)["error"] == "model 'nope' is not served here (models: de)");
  r = post_json(c, "/v1/translate", {{"text", "A dog."}, {"target_lang", "fr"}});
  CHECK(status_of(r) == 400);
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("'fr'"));
}

TEST_CASE("serve: streamed text adds up to the unstreamed one (translate and summarize)", "[server][http][stream]") {
  RunningServer s;
  auto c = s.client();
  const auto& in = server_test::sentences();
  const std::vector<std::string> texts = {in[4], in[5], in[6]};
  for (int beams : {1, 4}) {
    const json plain = body_of(post_json(c, "/v1/translate", {{"text", texts}, {"beam_size", beams}}));
    auto r = post_json(c, "/v1/translate", {{"text", texts}, {"beam_size", beams}, {"stream", true}});
    REQUIRE(status_of(r) == 200);
    CHECK_THAT(r->get_header_value("Content-Type"), Catch::StartsWith("text/event-stream"));
    const Events ev = parse_events(r->body);
    CHECK(ev.result == plain);
    for (size_t i = 0; i < texts.size(); ++i) CHECK(ev.text.at(i) == plain["translations"][i]["text"]);
    if (beams == 1) CHECK(ev.pieces > texts.size());  // token by token, not one piece per text
  }
  const std::string article = in[0] + " " + in[1] + " " + in[2];
  const json plain = body_of(post_json(c, "/v1/summarize", {{"text", {article, in[3]}}}));
  const auto lib = server_test::model()->summarize({article, in[3]});
  CHECK(plain["summaries"][0]["text"] == lib[0].summary);
  CHECK(plain["summaries"][1]["text"] == lib[1].summary);
  auto r = post_json(c, "/v1/summarize", {{"text", {article, in[3]}}, {"stream", true}});
  const Events ev = parse_events(r->body);
  CHECK(ev.result == plain);
  CHECK(ev.text.at(0) == lib[0].summary);
  CHECK(ev.text.at(1) == lib[1].summary);
  r = post_json(c, "/v1/summarize", {{"text", "   "}});
  CHECK(status_of(r) == 400);
  CHECK(body_of(r)["error"] == "text has only whitespace");
}

TEST_CASE("serve: --release-caches-after frees a model's kept buffers once idle; answers unchanged", "[server][http]") {
  auto o = server_test::options();
  o.release_caches_after = 0.05;
  RunningServer s(o);
  auto c = s.client();
  const json req = {{"text", json::array({server_test::sentences()[0], server_test::sentences()[1]})}};
  const json first = body_of(post_json(c, "/v1/translate", req));
  for (int round = 1; round <= 2; ++round) {
    const std::string released = "attend_cache_releases_total{model=\"de\"} " + std::to_string(round) + "\n";
    const std::string body = metrics_with(c, released, 500, std::chrono::milliseconds(10));
    CHECK_THAT(body, Catch::Contains(released));
    CHECK_THAT(body, Catch::Contains("attend_model_cached_bytes{model=\"de\"} 0\n"));
    if (round == 1) CHECK(body_of(post_json(c, "/v1/translate", req)) == first);  // the same after a release
  }
}

TEST_CASE("serve: limits answer 413/400/503/504 naming the limit", "[server][http][limits]") {
  auto o = server_test::options();
  o.max_body_bytes = 4096;
  o.limits.max_texts = 4;
  o.limits.max_chars = 300;
  o.max_queued = 4;
  o.request_timeout = 1.0;
  RunningServer s(o);
  auto c = s.client();
  auto r = c.Post("/v1/translate", std::string(10 << 20, 'a'), "application/json");  // 10 MB
  CHECK(status_of(r) == 413);
  CHECK(body_of(r)["error"] == "the request body is larger than the limit of 4096 bytes (--max-body-bytes)");
  r = post_json(c, "/v1/translate", {{"text", {"a", "b", "c", "d", "e"}}});
  CHECK(status_of(r) == 413);
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("--max-texts"));
  r = post_json(c, "/v1/translate", {{"text", std::string(301, 'x')}});
  CHECK(status_of(r) == 413);
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("--max-chars"));
  r = post_json(c, "/v1/translate", {{"text", "a"}, {"beam_size", 1000}});
  CHECK(status_of(r) == 400);
  r = post_json(c, "/v1/translate", {{"text", "a"}, {"repetition_penalty", -1}});
  CHECK(status_of(r) == 400);
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("repetition_penalty"));
  r = c.Post("/v1/translate", "{\"text\": \"\xff\"}", "application/json");
  CHECK(status_of(r) == 400);

  // Deadline: a request that needs seconds is stopped at --request-timeout.
  const auto t0 = std::chrono::steady_clock::now();
  r = post_json(c, "/v1/translate", slow_request());
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(status_of(r) == 504);
  CHECK(body_of(r)["error"] == "the request took longer than the deadline of 1 s (--request-timeout)");
  CHECK(took < 5.0);

  // Queue full: 4 inputs in flight fill --max-queued 4; another request is refused at once.
  std::thread busy([&] {
    auto c2 = s.client();
    post_json(c2, "/v1/translate", slow_request(4));
  });
  const std::string full = "attend_queue_depth{model=\"de\"} 4\n";
  REQUIRE_THAT(metrics_with(c, full), Catch::Contains(full));
  r = post_json(c, "/v1/translate", {{"text", "A dog."}});
  CHECK(status_of(r) == 503);
  CHECK(r->get_header_value("Retry-After") == "1");
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("--max-queued 4"));
  busy.join();
  CHECK(status_of(post_json(c, "/v1/translate", {{"text", "A dog."}})) == 200);  // room again
}

TEST_CASE("serve: a client that hangs up cancels its request", "[server][http][cancel]") {
  RunningServer s;
  {
    auto c = s.client();
    c.set_read_timeout(0, 300 * 1000);  // gives up after 0.3 s and closes the connection
    CHECK_FALSE(post_json(c, "/v1/translate", slow_request()));
  }
  // The server noticed (status 499 is counted) long before the 500 steps would have ended.
  auto c = s.client();
  const std::string cancelled = "status=\"499\"} 1";
  CHECK_THAT(metrics_with(c, cancelled, 300, std::chrono::milliseconds(10)), Catch::Contains(cancelled));
  CHECK_THAT(c.Get("/metrics")->body, Catch::Contains("attend_queue_depth{model=\"de\"} 0\n"));
}

TEST_CASE("serve: API keys (401 without, 403 wrong, Bearer or api_key), never logged, and CORS", "[server][http][auth]") {
  auto o = server_test::options();
  o.api_keys = {"s3cret-key-1", "other-key"};
  o.cors_origin = "https://example.org";
  RunningServer s(o);
  auto c = s.client();
  const json req{{"text", "A dog."}, {"beam_size", 1}};
  auto r = post_json(c, "/v1/translate", req);
  CHECK(status_of(r) == 401);
  CHECK_THAT(body_of(r)["error"].get<std::string>(), Catch::Contains("API key"));
  CHECK(status_of(post_json(c, "/v1/translate", req, {{"Authorization", "Bearer wrong"}})) == 403);
  CHECK(status_of(post_json(c, "/v1/translate", req, {{"Authorization", "Bearer s3cret-key-1"}})) == 200);
  CHECK(status_of(c.Post("/v1/translate?api_key=other-key", req.dump(), "application/json")) == 200);
  CHECK(status_of(c.Get("/health")) == 200);     // no key needed
  CHECK(status_of(c.Get("/languages")) == 200);  // LibreTranslate clients ask before they have a key
  CHECK(status_of(c.Get("/v1/models")) == 401);
  const json libre{{"q", "A dog."}, {"source", "en"}, {"target", "de"}};
  CHECK(status_of(post_json(c, "/translate", libre)) == 401);
  json keyed = libre;
  keyed["api_key"] = "nope";
  CHECK(status_of(post_json(c, "/translate", keyed)) == 403);
  keyed["api_key"] = "s3cret-key-1";
  r = post_json(c, "/translate", keyed);
  CHECK(status_of(r) == 200);
  CHECK(r->get_header_value("Access-Control-Allow-Origin") == "https://example.org");
  r = c.Options("/translate");
  CHECK(status_of(r) == 204);
  CHECK_THAT(r->get_header_value("Access-Control-Allow-Methods"), Catch::Contains("POST"));
  CHECK_THAT(r->get_header_value("Access-Control-Allow-Headers"), Catch::Contains("Authorization"));
  const std::string log = s.log_containing("\"OPTIONS /translate\"");
  CHECK(log.find("s3cret") == std::string::npos);
  CHECK(log.find("other-key") == std::string::npos);
  CHECK(log.find("A dog.") == std::string::npos);  // no texts without --log-text
  CHECK_THAT(log, Catch::Contains("\"POST /v1/translate\" 200 "));
  CHECK_THAT(log, Catch::Contains("texts=1 tokens="));
}

TEST_CASE("serve: --log-text puts the texts into the access log", "[server][http]") {
  auto o = server_test::options();
  o.log_text = true;
  RunningServer s(o);
  auto c = s.client();
  post_json(c, "/v1/translate", {{"text", "A cat sleeps."}, {"beam_size", 1}});
  CHECK_THAT(s.log_containing("text="), Catch::Contains("text=[\"A cat sleeps.\"]"));
}

TEST_CASE("serve: 256 concurrent connections are all answered with the library's results", "[server][http][load]") {
  auto o = server_test::options();
  RunningServer s(o);
  const auto& in = server_test::sentences();
  const auto want = server_test::library_texts(in, 1);
  constexpr int kClients = 256;
  std::vector<std::string> got(kClients);
  std::vector<int> status(kClients, 0);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i)
    threads.emplace_back([&, i] {
      auto c = s.client();
      ++ready;
      while (ready < kClients) std::this_thread::yield();  // all connect at once
      auto r = post_json(c, "/v1/translate", {{"text", in[i % in.size()]}, {"beam_size", 1}});
      status[i] = status_of(r);
      if (r && r->status == 200) got[i] = json::parse(r->body)["translations"][0]["text"];
    });
  for (auto& t : threads) t.join();
  int ok = 0;
  for (int i = 0; i < kClients; ++i) {
    INFO("client " << i << " status " << status[i]);
    CHECK(status[i] == 200);
    CHECK(got[i] == want[i % in.size()]);
    ok += status[i] == 200 ? 1 : 0;
  }
  CHECK(ok == kClients);
  // They were batched together.
  const std::string m = s.client().Get("/metrics")->body;
  const std::string key = "attend_batch_size_count{model=\"de\"} ";
  const int batches = std::stoi(m.substr(m.find(key) + key.size()));
  CHECK(batches < kClients / 2);
}

// tests/embed/test_translator.cpp — dynamic batching (attend::Translator): 16 threads issuing
// requests on one model get exactly the results of single-threaded Model::translate calls
// (greedy, beam, n-best mixed in one queue), requests are really batched together, memory bounds
// (max_queued) hold with blocking callers, streaming and cancellation work per request, an idle
// worker frees the model's kept buffers.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "embed_fixture.hpp"

namespace {

// Per-call settings mixed in the concurrent test: the model defaults (beam 4), greedy, 2-best.
attend::TranslateOptions options_kind(int kind) {
  attend::TranslateOptions o;
  if (kind == 1) o.generation.num_beams = 1;
  if (kind == 2) {
    o.generation.num_beams = 3;
    o.generation.num_return_sequences = 2;
  }
  return o;
}

void check_same(const attend::TranslationResult& got, const attend::TranslationResult& want) {
  REQUIRE(got.hypotheses.size() == want.hypotheses.size());
  for (size_t h = 0; h < got.hypotheses.size(); ++h) {
    CHECK(got.hypotheses[h].text == want.hypotheses[h].text);
    CHECK(got.hypotheses[h].ids == want.hypotheses[h].ids);
    CHECK(got.hypotheses[h].score == want.hypotheses[h].score);
    CHECK(got.hypotheses[h].token_scores == want.hypotheses[h].token_scores);
  }
}

// A start line for threads, so that their requests meet in the queue.
class Gate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Starts `threads` threads that wait at one gate, then each runs body(t); an exception's message
// lands in the returned errors[t] ("" when the thread succeeded).
std::vector<std::string> run_together(int threads, const std::function<void(int)>& body) {
  std::vector<std::string> errors(static_cast<size_t>(threads));
  Gate gate;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      gate.wait();
      try {
        body(t);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(t)] = e.what();
      }
    });
  }
  gate.open();
  for (auto& th : pool) th.join();
  return errors;
}

}  // namespace

TEST_CASE("translator: 16 threads get exactly the single-threaded results", "[embed][translator]") {
  auto m = embed_test::model();
  const auto& s = embed_test::sentences();
  const int threads = 16, per_thread = 2;
  // Request (t, k): sentence (t + 5k) % |s| with settings kind (t + k) % 3; two-sentence requests
  // for k == 1.
  auto request_inputs = [&](int t, int k) {
    std::vector<std::string> in = {s[static_cast<size_t>(t + 5 * k) % s.size()]};
    if (k == 1) in.push_back(s[static_cast<size_t>(t + 1) % s.size()]);
    return in;
  };
  // Single-threaded reference: each request alone.
  std::vector<std::vector<std::vector<attend::TranslationResult>>> want(threads);
  for (int t = 0; t < threads; ++t)
    for (int k = 0; k < per_thread; ++k) want[t].push_back(m->translate(request_inputs(t, k), options_kind((t + k) % 3)));

  attend::TranslatorOptions to;
  to.wait_ms = 50;
  to.max_batch_size = 16;
  to.max_queued = 64;
  attend::Translator translator(m, to);
  std::vector<std::vector<std::vector<attend::TranslationResult>>> got(threads);
  const auto errors = run_together(threads, [&](int t) {
    for (int k = 0; k < per_thread; ++k) got[t].push_back(translator.translate(request_inputs(t, k), options_kind((t + k) % 3)));
  });
  for (int t = 0; t < threads; ++t) {
    INFO("thread " << t);
    CHECK(errors[t].empty());
    REQUIRE(got[t].size() == static_cast<size_t>(per_thread));
    for (int k = 0; k < per_thread; ++k) {
      REQUIRE(got[t][k].size() == want[t][k].size());
      for (size_t i = 0; i < got[t][k].size(); ++i) check_same(got[t][k][i], want[t][k][i]);
    }
  }
  const auto st = translator.stats();
  CHECK(st.inputs == static_cast<size_t>(threads * (per_thread + 1)));
  CHECK(st.max_batch > 1);             // callers' inputs were decoded together
  CHECK(st.max_batch <= 16);
  CHECK(st.batches < st.inputs);
  // The batch-size histogram accounts for every batch and input.
  REQUIRE(st.batch_sizes.size() == st.max_batch + 1);
  CHECK(st.batch_sizes.back() > 0);
  size_t batches = 0, inputs = 0;
  for (size_t n = 0; n < st.batch_sizes.size(); ++n) batches += st.batch_sizes[n], inputs += n * st.batch_sizes[n];
  CHECK(batches == st.batches);
  CHECK(inputs == st.inputs);
}

TEST_CASE("translator: max_queued bounds the queue, callers block instead of failing", "[embed][translator]") {
  auto m = embed_test::model();
  attend::TranslatorOptions to;
  to.max_queued = 2;
  to.max_batch_size = 2;
  to.max_batch_tokens = 40;
  to.wait_ms = 1;
  attend::Translator translator(m, to);
  attend::TranslateOptions greedy = options_kind(1);
  const auto& s = embed_test::sentences();
  CHECK_THROWS_WITH(translator.translate({s[0], s[1], s[2]}, greedy), Catch::Contains("max_queued"));
  std::vector<std::thread> pool;
  std::vector<std::string> got(8);
  for (size_t t = 0; t < 8; ++t)
    pool.emplace_back([&, t] { got[t] = translator.translate({s[t]}, greedy).at(0).hypotheses.at(0).text; });
  for (auto& th : pool) th.join();
  for (size_t t = 0; t < 8; ++t) CHECK(got[t] == m->translate({s[t]}, greedy).at(0).hypotheses.at(0).text);
  CHECK(translator.stats().max_batch <= 2);
}

TEST_CASE("translator: streaming per request, results unchanged", "[embed][translator]") {
  auto m = embed_test::model();
  attend::Translator translator(m);
  const auto& s = embed_test::sentences();
  std::vector<std::string> in = {s[4], s[5], s[6]};
  attend::TranslateOptions opt;
  std::vector<std::string> text(in.size());
  std::vector<int> finished(in.size(), 0);
  opt.on_stream = [&](const attend::StreamEvent& ev) {
    text.at(ev.input) += ev.text;
    finished.at(ev.input) += ev.finished;
    return true;
  };
  const auto results = translator.translate(in, opt);
  const auto want = m->translate(in);
  for (size_t i = 0; i < in.size(); ++i) {
    check_same(results[i], want[i]);
    CHECK(text[i] == want[i].hypotheses[0].text);
    CHECK(finished[i] == 1);
  }
}

TEST_CASE("translator: a cancelled request ends at once, the others complete", "[embed][translator]") {
  auto m = embed_test::model();
  attend::TranslatorOptions to;
  to.wait_ms = 20;
  attend::Translator translator(m, to);
  const auto& s = embed_test::sentences();
  attend::TranslateOptions cancelled;
  std::atomic<bool> streaming{false};
  cancelled.on_stream = [&](const attend::StreamEvent&) {
    streaming = true;
    return true;
  };
  std::string other_text, other_error;
  std::thread other([&] {
    try {
      other_text = translator.translate({s[7]}).at(0).hypotheses.at(0).text;
    } catch (const std::exception& e) {
      other_error = e.what();
    }
  });
  std::thread canceller([&] {
    while (!streaming) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    cancelled.cancel.cancel();
  });
  CHECK_THROWS_AS(translator.translate(s, cancelled), attend::Cancelled);
  canceller.join();
  other.join();
  CHECK(other_error.empty());
  CHECK(other_text == m->translate({s[7]}).at(0).hypotheses.at(0).text);
  // A request whose callback stops it.
  attend::TranslateOptions stop;
  stop.on_stream = [](const attend::StreamEvent&) { return false; };
  CHECK_THROWS_AS(translator.translate({s[8]}, stop), attend::Cancelled);
  // The translator still works.
  CHECK(translator.translate({s[9]}).at(0).hypotheses.at(0).text == m->translate({s[9]}).at(0).hypotheses.at(0).text);
}

TEST_CASE("translator: an idle worker frees the model's kept buffers, results unchanged; 0 keeps them",
          "[embed][translator][memory]") {
  using namespace std::chrono_literals;
  auto m = embed_test::model();
  const auto& s = embed_test::sentences();
  const std::vector<std::string> in(s.begin(), s.begin() + 8);
  const auto want = m->translate(in);  // the model's beam 4
  {
    attend::TranslatorOptions to;
    to.release_caches_after_ms = 0;
    attend::Translator keep(m, to);
    m->release_caches();
    keep.translate(in);
    std::this_thread::sleep_for(200ms);
    CHECK(keep.stats().cache_releases == 0);
    CHECK(m->cached_bytes() > 0);  // kept for a next batch
  }
  attend::TranslatorOptions to;
  to.release_caches_after_ms = 50;
  attend::Translator translator(m, to);
  for (size_t round = 1; round <= 2; ++round) {
    const auto got = translator.translate(in);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) check_same(got[i], want[i]);
    for (int i = 0; i < 1000 && translator.stats().cache_releases < round; ++i) std::this_thread::sleep_for(10ms);
    CHECK(translator.stats().cache_releases == round);
    CHECK(m->cached_bytes() == 0);
  }
  std::this_thread::sleep_for(200ms);  // idle without work in between: no further release
  CHECK(translator.stats().cache_releases == 2);
}

TEST_CASE("translator: bad options", "[embed][translator]") {
  auto m = embed_test::model();
  attend::TranslatorOptions bad;
  bad.max_batch_size = 0;
  CHECK_THROWS_WITH(attend::Translator(m, bad), Catch::Contains("max_batch_size"));
  bad = attend::TranslatorOptions();
  bad.max_queued = 0;
  CHECK_THROWS_WITH(attend::Translator(m, bad), Catch::Contains("max_queued"));
  bad = attend::TranslatorOptions();
  bad.release_caches_after_ms = -1;
  CHECK_THROWS_WITH(attend::Translator(m, bad), Catch::Contains("release_caches_after_ms"));
  CHECK_THROWS_AS(attend::Translator(nullptr), attend::Error);
  attend::Translator translator(m);
  attend::TranslateOptions o;
  o.generation.num_beams = 0;
  CHECK_THROWS_AS(translator.translate({"A dog."}, o), attend::Error);
  CHECK(translator.translate({}).empty());
}

TEST_CASE("translator: an input the model rejects fails only its own request", "[embed][translator]") {
  auto m = embed_test::model();
  attend::TranslatorOptions to;
  to.wait_ms = 100;  // both requests land in one batch
  attend::Translator translator(m, to);
  std::string too_long;
  for (int i = 0; i < 700; ++i) too_long += "dog ";
  attend::TranslateOptions greedy = options_kind(1);
  std::string error, text;
  Gate gate;
  std::thread bad([&] {
    gate.wait();
    try {
      translator.translate({too_long}, greedy);
    } catch (const attend::Error& e) {
      error = e.what();
    }
  });
  std::thread good([&] {
    gate.wait();
    text = translator.translate({embed_test::sentences()[10]}, greedy).at(0).hypotheses.at(0).text;
  });
  gate.open();
  bad.join();
  good.join();
  CHECK_THAT(error, Catch::Contains("too long"));
  CHECK(text == m->translate({embed_test::sentences()[10]}, greedy).at(0).hypotheses.at(0).text);
}


TEST_CASE("model: 16 threads calling Model::translate directly get the single-threaded results",
          "[embed][concurrency]") {
  // One Model shared by 16 threads without a Translator: each call computes on its own thread
  // (per-thread oneDNN scratchpads and buffers), so results equal serial calls exactly.
  auto m = embed_test::model();
  const auto& s = embed_test::sentences();
  const int threads = 16;
  auto inputs_of = [&](int t) {
    return std::vector<std::string>{s[static_cast<size_t>(t) % s.size()], s[static_cast<size_t>(t + 3) % s.size()]};
  };
  std::vector<std::vector<attend::TranslationResult>> want(threads), got(threads);
  for (int t = 0; t < threads; ++t) want[t] = m->translate(inputs_of(t), options_kind(t % 3));
  const auto errors = run_together(threads, [&](int t) {
    attend::set_num_threads(1);
    got[t] = m->translate(inputs_of(t), options_kind(t % 3));
  });
  for (int t = 0; t < threads; ++t) {
    INFO("thread " << t);
    CHECK(errors[t].empty());
    REQUIRE(got[t].size() == want[t].size());
    for (size_t i = 0; i < got[t].size(); ++i) check_same(got[t][i], want[t][i]);
  }
}

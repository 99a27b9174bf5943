// tests/embed/test_streaming.cpp — streaming and cancellation of Model::translate: the events
// of every input add up to its best hypothesis (ids and text) for greedy and beam search,
// n-best results are unchanged by streaming, and cancellation (token set before the call, from
// another thread, or a callback returning false) throws attend::Cancelled. Progress events come
// after each batch with the inputs and best-hypothesis tokens done so far.
#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "embed_fixture.hpp"

namespace {

struct Collected {
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::string> text;
  std::vector<int> finished;
  size_t events = 0;
  bool out_of_order = false;  // an event after the input's finished event
};

attend::StreamCallback collector(Collected& c, size_t n) {
  c.ids.assign(n, {});
  c.text.assign(n, "");
  c.finished.assign(n, 0);
  return [&c](const attend::StreamEvent& ev) {
    REQUIRE(ev.input < c.ids.size());
    if (c.finished[ev.input]) c.out_of_order = true;
    c.ids[ev.input].insert(c.ids[ev.input].end(), ev.ids.begin(), ev.ids.end());
    c.text[ev.input] += ev.text;
    c.finished[ev.input] += ev.finished ? 1 : 0;
    ++c.events;
    return true;
  };
}

void check_matches(const Collected& c, const std::vector<attend::TranslationResult>& results) {
  REQUIRE(results.size() == c.ids.size());
  CHECK_FALSE(c.out_of_order);
  for (size_t i = 0; i < results.size(); ++i) {
    const attend::Hypothesis& best = results[i].hypotheses.at(0);
    CHECK(c.finished[i] == 1);
    CHECK(c.text[i] == best.text);
    CHECK(c.ids[i] == std::vector<int32_t>(best.ids.begin() + 1, best.ids.end()));
  }
}

}  // namespace

TEST_CASE("streaming: greedy events add up to the results, one token per step", "[embed][stream]") {
  auto m = embed_test::model();
  std::vector<std::string> in(embed_test::sentences().begin(), embed_test::sentences().begin() + 6);
  attend::TranslateOptions opt;
  opt.generation.num_beams = 1;
  const auto plain = m->translate(in, opt);
  Collected c;
  opt.on_stream = collector(c, in.size());
  const auto streamed = m->translate(in, opt);
  check_matches(c, streamed);
  size_t tokens = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    CHECK(streamed[i].hypotheses[0].ids == plain[i].hypotheses[0].ids);
    tokens += plain[i].hypotheses[0].ids.size() - 1;
  }
  CHECK(c.events == tokens);  // greedy decides exactly one token per event
}

TEST_CASE("streaming: beam search reports decided prefixes, n-best unchanged", "[embed][stream]") {
  auto m = embed_test::model();
  std::vector<std::string> in(embed_test::sentences().begin() + 3, embed_test::sentences().begin() + 9);
  attend::TranslateOptions opt;
  opt.generation.num_beams = 4;
  opt.generation.num_return_sequences = 2;
  opt.max_batch_size = 4;  // two batches
  const auto plain = m->translate(in, opt);
  Collected c;
  opt.on_stream = collector(c, in.size());
  const auto streamed = m->translate(in, opt);
  check_matches(c, streamed);
  for (size_t i = 0; i < in.size(); ++i) {
    REQUIRE(streamed[i].hypotheses.size() == 2);
    for (size_t h = 0; h < 2; ++h) {
      CHECK(streamed[i].hypotheses[h].ids == plain[i].hypotheses[h].ids);
      CHECK(streamed[i].hypotheses[h].score == plain[i].hypotheses[h].score);
    }
  }
  CHECK(c.events > in.size());  // text arrives before the end, not only in the final events
}

TEST_CASE("streaming: generate() with token ids streams ids", "[embed][stream]") {
  auto m = embed_test::model();
  std::vector<std::vector<int32_t>> ids = {m->tokenize(embed_test::sentences()[0]), m->tokenize(embed_test::sentences()[1])};
  attend::TranslateOptions opt;
  Collected c;
  opt.on_stream = collector(c, ids.size());
  const auto results = m->generate(ids, opt);
  check_matches(c, results);
}

TEST_CASE("progress: one event per batch, inputs and tokens of the results so far; false cancels", "[embed][stream]") {
  auto m = embed_test::model();
  std::vector<std::string> in(embed_test::sentences().begin(), embed_test::sentences().begin() + 7);
  attend::TranslateOptions opt;
  opt.generation.num_beams = 4;
  opt.max_batch_size = 3;  // batches of 3, 3 and 1 inputs
  std::vector<attend::ProgressEvent> events;
  opt.on_progress = [&](const attend::ProgressEvent& ev) {
    events.push_back(ev);
    return true;
  };
  const auto results = m->translate(in, opt);
  REQUIRE(events.size() == 3);
  int64_t tokens = 0;
  for (const auto& r : results) tokens += static_cast<int64_t>(r.hypotheses.at(0).ids.size()) - 1;
  CHECK(events[0].inputs_done == 3);
  CHECK(events[1].inputs_done == 6);
  CHECK(events[2].inputs_done == 7);
  CHECK(events[2].tokens == tokens);
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].inputs == in.size());
    if (i > 0) CHECK(events[i].tokens > events[i - 1].tokens);
  }
  size_t calls = 0;
  opt.on_progress = [&](const attend::ProgressEvent&) { return ++calls < 2; };
  CHECK_THROWS_AS(m->translate(in, opt), attend::Cancelled);
  CHECK(calls == 2);  // no batch after the callback asked to stop
}

TEST_CASE("cancellation: token set before the call", "[embed][cancel]") {
  auto m = embed_test::model();
  attend::TranslateOptions opt;
  opt.cancel.cancel();
  CHECK_THROWS_AS(m->translate({embed_test::sentences()[0]}, opt), attend::Cancelled);
  attend::CancelToken copy = opt.cancel;
  CHECK(copy.cancelled());
}

TEST_CASE("cancellation: stream callback returning false, greedy and beam", "[embed][cancel]") {
  auto m = embed_test::model();
  for (int beams : {1, 4}) {
    attend::TranslateOptions opt;
    opt.generation.num_beams = beams;
    size_t events = 0;
    opt.on_stream = [&](const attend::StreamEvent&) { return ++events < 2; };
    CHECK_THROWS_AS(m->translate({embed_test::sentences()[1], embed_test::sentences()[2]}, opt), attend::Cancelled);
    CHECK(events == 2);  // no event after the callback asked to stop
  }
}

TEST_CASE("cancellation: from another thread while decoding", "[embed][cancel]") {
  auto m = embed_test::model();
  attend::TranslateOptions opt;
  opt.generation.num_beams = 4;
  std::atomic<bool> started{false};
  opt.on_stream = [&](const attend::StreamEvent&) {
    started = true;
    // Hold the decoding thread until the other thread has cancelled, so the call cannot finish first.
    while (!opt.cancel.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
  };
  std::thread canceller([&] {
    while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    opt.cancel.cancel();
  });
  CHECK_THROWS_AS(m->translate(embed_test::sentences(), opt), attend::Cancelled);
  canceller.join();
}

TEST_CASE("cancellation: Cancelled is an attend::Error, callback exceptions propagate", "[embed][cancel]") {
  auto m = embed_test::model();
  attend::TranslateOptions opt;
  opt.cancel.cancel();
  CHECK_THROWS_AS(m->translate({"A dog."}, opt), attend::Error);
  attend::TranslateOptions opt2;
  opt2.on_stream = [](const attend::StreamEvent&) -> bool { throw std::runtime_error("callback failed"); };
  CHECK_THROWS_WITH(m->translate({"A dog."}, opt2), "callback failed");
}

TEST_CASE("validate: bad per-call options are rejected with the setting named", "[embed][options]") {
  auto m = embed_test::model();
  attend::TranslateOptions ok;
  CHECK_NOTHROW(m->validate(ok));
  attend::TranslateOptions o1;
  o1.generation.num_beams = 0;
  CHECK_THROWS_AS(m->validate(o1), attend::Error);
  attend::TranslateOptions o2;
  o2.generation.num_beams = 2;
  o2.generation.num_return_sequences = 3;
  CHECK_THROWS_AS(m->validate(o2), attend::Error);
  attend::TranslateOptions o3;
  o3.max_batch_size = 0;
  CHECK_THROWS_WITH(m->validate(o3), Catch::Contains("max_batch_size"));
  attend::TranslateOptions o4;
  o4.tgt_lang = "fr";
  CHECK_THROWS_WITH(m->validate(o4), Catch::Contains("fr"));
  attend::TranslateOptions o5;
  o5.generation.early_stopping = "sometimes";
  CHECK_THROWS_WITH(m->validate(o5), Catch::Contains("early_stopping"));
}

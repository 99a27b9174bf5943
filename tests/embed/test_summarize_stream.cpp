// tests/embed/test_summarize_stream.cpp — Model::summarize's streaming and cancellation through
// the shared library, on the bundled model (a "summary" is its translation; a small
// max_input_tokens forces chunks and rounds).
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "embed_fixture.hpp"

namespace {

std::string long_text() {
  std::string t;
  for (size_t i = 0; i < 6; ++i) t += embed_test::sentences()[i] + " ";
  return t;
}

}  // namespace

TEST_CASE("summarize: streamed text adds up to each summary, one finished event per input", "[embed][summarize]") {
  auto m = embed_test::model();
  const std::vector<std::string> texts = {embed_test::sentences()[0], "   ", long_text(), embed_test::sentences()[3]};
  attend::SummarizeOptions plain;
  plain.max_input_tokens = 24;  // the long text needs several chunks
  plain.max_rounds = 1;         // its summary is the joined chunk summaries
  const auto expected = m->summarize(texts, plain);
  REQUIRE(expected.size() == texts.size());
  REQUIRE(expected[2].chunks > 1);
  CHECK(expected[1].error == "empty input");

  for (int beams : {1, 3}) {
    attend::SummarizeOptions opt = plain;
    opt.generation.num_beams = beams;
    plain.generation.num_beams = beams;
    const auto reference = m->summarize(texts, plain);
    std::map<size_t, std::string> text;
    std::map<size_t, int> finished, events;
    opt.on_stream = [&](const attend::StreamEvent& e) {
      REQUIRE(finished[e.input] == 0);  // nothing after the last event
      text[e.input] += e.text;
      ++events[e.input];
      finished[e.input] += e.finished ? 1 : 0;
      return true;
    };
    const auto got = m->summarize(texts, opt);
    for (size_t i = 0; i < texts.size(); ++i) {
      CHECK(got[i].summary == reference[i].summary);
      CHECK(text[i] == reference[i].summary);
      CHECK(finished[i] == 1);
    }
    if (beams == 1) CHECK(events[0] > 2);  // greedy: token by token, not one burst
    CHECK(events[2] == 1);                 // joined chunk summaries: one event
  }
}

TEST_CASE("summarize: cancellation by token and by the stream callback", "[embed][summarize]") {
  auto m = embed_test::model();
  attend::SummarizeOptions opt;
  opt.cancel.cancel();
  CHECK_THROWS_AS(m->summarize({embed_test::sentences()[0]}, opt), attend::Cancelled);
  attend::SummarizeOptions opt2;
  int calls = 0;
  opt2.on_stream = [&](const attend::StreamEvent&) { return ++calls < 2; };
  CHECK_THROWS_AS(m->summarize({embed_test::sentences()[1]}, opt2), attend::Cancelled);
  CHECK(calls == 2);
}

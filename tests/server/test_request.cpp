// tests/server/test_request.cpp — the server's pure parts without sockets: request bodies →
// calls (every field's type, range and limit, with the field named), LibreTranslate's JSON and
// form shapes, language lists from ModelInfo, the Prometheus rendering.
#include <catch2/catch.hpp>

#include <string>

#include "server/languages.hpp"
#include "server/metrics.hpp"
#include "server/request.hpp"

using namespace attend_server;

namespace {

// The status and message a body is refused with.
template <typename F>
std::pair<int, std::string> refusal(F&& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return {e.status(), e.what()};
  }
  return {0, ""};
}

const RequestLimits kLimits{};  // 64 texts, 10000 characters, beam 16, length 1024

}  // namespace

TEST_CASE("request: native translate, all fields", "[server][request]") {
  const TranslateCall c = parse_translate(
      R"({"text": ["A dog.", "Zwei"], "model": "m", "source_lang": "en", "target_lang": "de", "beam_size": 4,
          "max_length": 64, "num_hypotheses": 3, "return_scores": true, "length_penalty": 1.5})",
      kLimits);
  CHECK(c.texts == std::vector<std::string>{"A dog.", "Zwei"});
  CHECK(c.array);
  CHECK(c.model == "m");
  CHECK(c.source_lang == "en");
  CHECK(c.target_lang == "de");
  CHECK(*c.generation.num_beams == 4);
  CHECK(*c.generation.max_length == 64);
  CHECK(*c.generation.num_return_sequences == 3);
  CHECK(*c.generation.length_penalty == 1.5f);
  CHECK(c.num_hypotheses == 3);
  CHECK(c.return_scores);
  CHECK_FALSE(c.stream);
  const TranslateCall one = parse_translate(R"({"text": "A dog.", "stream": true})", kLimits);
  CHECK_FALSE(one.array);
  CHECK(one.stream);
  CHECK_FALSE(one.generation.num_beams);
}

TEST_CASE("request: bad bodies are refused with the field and limit named", "[server][request]") {
  auto translate = [](const std::string& body) { return refusal([&] { parse_translate(body, kLimits); }); };
  CHECK(translate("") == std::make_pair(400, std::string("empty request body: expected a JSON object")));
  CHECK(translate("{\"text\": ").first == 400);
  CHECK_THAT(translate("{\"text\": ").second, Catch::StartsWith("invalid JSON"));
  CHECK(translate("[1]").second == "the request body must be a JSON object");
  CHECK(translate("{}").second == "missing field 'text'");
  CHECK(translate(R"({"text": 5})").second == "text must be a string or an array of strings");
  CHECK(translate(R"({"text": ["a", 5]})").second == "text[1] must be a string");
  CHECK(translate(R"({"text": []})").second == "text is an empty array");
  CHECK(translate(R"({"text": ""})").second == "text is empty");
  CHECK(translate(R"({"text": ["a", ""]})").second == "text[1] is empty");
  CHECK(translate("{\"text\": \"\xff\"}").first == 400);  // invalid UTF-8: the JSON parser refuses it
  CHECK(translate(R"({"text": "a", "beam_size": 0})").second == "beam_size must be an integer from 1 to 16 (--max-beam-size)");
  CHECK(translate(R"({"text": "a", "beam_size": 1e300})").second ==
        "beam_size must be an integer from 1 to 16 (--max-beam-size)");
  CHECK(translate(R"({"text": "a", "beam_size": 99999999999999999999999999})").first == 400);
  CHECK(translate(R"({"text": "a", "beam_size": 18446744073709551615})").first == 400);
  CHECK(translate(R"({"text": "a", "beam_size": -9223372036854775808})").first == 400);
  CHECK(translate(R"({"text": "a", "beam_size": "4"})").first == 400);
  CHECK(translate(R"({"text": "a", "max_length": 5000})").second ==
        "max_length must be an integer from 1 to 1024 (--max-length)");
  CHECK(translate(R"({"text": "a", "length_penalty": 1e309})").first == 400);
  CHECK(translate(R"({"text": "a", "min_length": 9, "max_length": 5})").second ==
        "min_length (9) must not exceed max_length (5)");
  CHECK(translate(R"({"text": "a", "return_scores": 1})").second == "return_scores must be true or false");
  CHECK(translate(R"({"text": "a", "num_hypotheses": 3, "beam_size": 2})").second ==
        "num_hypotheses (3) must not exceed beam_size (2)");
  CHECK_THAT(translate(R"({"text": "a", "beam": 2})").second, Catch::StartsWith("unknown field 'beam'"));
  CHECK(translate(R"({"text": "a", "document": true, "stream": true})").first == 400);
  CHECK(translate(R"({"text": "a", "model": 7})").second == "model must be a string");
  // Limits: 413 naming the option.
  RequestLimits small;
  small.max_texts = 2;
  small.max_chars = 5;
  auto limited = [&](const std::string& body) { return refusal([&] { parse_translate(body, small); }); };
  CHECK(limited(R"({"text": ["a", "b", "c"]})") ==
        std::make_pair(413, std::string("text has 3 texts, more than the limit of 2 per request (--max-texts)")));
  CHECK(limited(R"({"text": "abcdef"})") ==
        std::make_pair(413, std::string("text has 6 characters, more than the limit of 5 per text (--max-chars)")));
  CHECK(limited("{\"text\": \"\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\"}").first == 0);  // 5 characters, 10 bytes
}

TEST_CASE("request: summarize", "[server][request]") {
  const SummarizeCall c = parse_summarize(R"({"text": "Long text.", "prefix": "", "max_length": 30, "stream": true})", kLimits);
  CHECK(c.texts.size() == 1);
  CHECK(c.prefix == std::string());
  CHECK(*c.generation.max_length == 30);
  CHECK(c.stream);
  CHECK(refusal([] { parse_summarize(R"({"text": "a", "num_hypotheses": 2})", kLimits); }).first == 400);
  CHECK(refusal([] { parse_summarize(R"({"text": "a", "prefix": 3})", kLimits); }).second == "prefix must be a string");
}

TEST_CASE("request: LibreTranslate JSON and form shapes", "[server][request][libre]") {
  const LibreCall j = parse_libre_json(R"({"q": "Hello", "source": "en", "target": "de", "format": "text",
                                           "api_key": "k", "alternatives": 3})",
                                       kLimits);
  CHECK(j.texts == std::vector<std::string>{"Hello"});
  CHECK_FALSE(j.array);
  CHECK(j.source == "en");
  CHECK(j.target == "de");
  CHECK(j.api_key == "k");
  const LibreCall a = parse_libre_json(R"({"q": ["a", "b"], "source": "auto", "target": "de"})", kLimits);
  CHECK(a.array);
  CHECK(a.texts.size() == 2);
  CHECK(a.source == "auto");

  const LibreCall f = parse_libre_form({{"q", "Hello world!"}, {"source", "en"}, {"target", "de"}}, kLimits);
  CHECK(f.texts == std::vector<std::string>{"Hello world!"});
  CHECK_FALSE(f.array);
  const LibreCall f2 = parse_libre_form({{"q", "a"}, {"q", "b"}, {"source", "en"}, {"target", "de"}}, kLimits);
  CHECK(f2.array);
  CHECK(f2.texts == std::vector<std::string>{"a", "b"});

  auto json_refusal = [](const std::string& body) { return refusal([&] { parse_libre_json(body, kLimits); }); };
  CHECK(json_refusal(R"({"source": "en", "target": "de"})").second == "Invalid request: missing q parameter");
  CHECK(json_refusal(R"({"q": "a", "target": "de"})").second == "Invalid request: missing source parameter");
  CHECK(json_refusal(R"({"q": "a", "source": "en"})").second == "Invalid request: missing target parameter");
  CHECK(parse_libre_json(R"({"q": "<b>a</b>", "source": "en", "target": "de", "format": "html"})", kLimits).html);
  CHECK_FALSE(parse_libre_json(R"({"q": "a", "source": "en", "target": "de", "format": "text"})", kLimits).html);
  // /v1/translate: attention fields and format html
  {
    const TranslateCall t = parse_translate(
        R"({"text": "a", "return_attention": true, "attention_layer": -2, "attention_head": 1, "alignments": true})", kLimits);
    CHECK(t.return_attention);
    CHECK(t.alignments);
    CHECK(t.attention_layer == -2);
    CHECK(t.attention_head == 1);
    CHECK(parse_translate(R"({"text": "<p>a</p>", "format": "html"})", kLimits).html);
    CHECK(refusal([] { parse_translate(R"({"text": "a", "format": "html", "stream": true})", kLimits); }).first == 400);
    CHECK(refusal([] { parse_translate(R"({"text": "a", "attention_layer": 1.5})", kLimits); }).first == 400);
    CHECK(refusal([] { parse_translate(R"({"text": "a", "format": "pdf"})", kLimits); }).second ==
          "format must be text or html (got 'pdf')");
  }
  CHECK(json_refusal(R"({"q": "a", "source": "en", "target": "de", "format": "pdf"})").first == 400);
  CHECK(refusal([] { parse_libre_form({{"q", "\xc3("}, {"source", "en"}, {"target", "de"}}, kLimits); }).second ==
        "q is not valid UTF-8");
  CHECK(refusal([] { parse_libre_form({{"q", "a"}, {"source", "en"}, {"source", "fr"}, {"target", "de"}}, kLimits); })
            .second == "Invalid request: source is given more than once");
}

TEST_CASE("request: UTF-8 validation", "[server][request]") {
  CHECK(valid_utf8("plain"));
  CHECK(valid_utf8("\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80"));  // ä € 😀
  CHECK_FALSE(valid_utf8("\xc0\xaf"));                       // overlong
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));                   // surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));               // above U+10FFFF
  CHECK_FALSE(valid_utf8("\xe2\x82"));                       // cut short
  CHECK(utf8_length("\xc3\xa4x\xf0\x9f\x98\x80") == 3);
}

TEST_CASE("languages: from ModelInfo, in LibreTranslate's spelling", "[server][languages]") {
  attend::ModelInfo marian;
  marian.family = "marian";
  marian.source_language = "en";
  marian.target_language = "de";
  const ModelLanguages l = languages_of(marian);
  CHECK(l.sources == std::vector<std::string>{"en"});
  CHECK(l.targets == std::vector<std::string>{"de"});
  CHECK_FALSE(l.multilingual);
  CHECK(model_language_code(marian, "de").empty());
  CHECK_THROWS_AS(model_language_code(marian, "fr"), attend::Error);

  attend::ModelInfo mbart;
  mbart.family = "mbart";
  mbart.languages = {"en_XX", "de_DE", "fr_XX"};
  const ModelLanguages m = languages_of(mbart);
  CHECK(m.multilingual);
  CHECK(m.sources == std::vector<std::string>{"en", "de", "fr"});
  CHECK(model_language_code(mbart, "de") == "de_DE");
  CHECK(model_language_code(mbart, "de_DE") == "de_DE");

  attend::ModelInfo multi;  // opus-mt-en-mul style
  multi.family = "marian";
  multi.source_language = "en";
  multi.languages = {">>fra<<", ">>deu<<"};
  const ModelLanguages mm = languages_of(multi);
  CHECK(mm.sources == std::vector<std::string>{"en"});
  CHECK(mm.targets == std::vector<std::string>{"fra", "deu"});
  CHECK(model_language_code(multi, "fra") == ">>fra<<");

  attend::ModelInfo t5;  // summarization model: no languages
  t5.family = "t5";
  CHECK(languages_of(t5).sources.empty());
  CHECK(language_name("de") == "German");
  CHECK(language_name("xx") == "xx");
}

TEST_CASE("metrics: Prometheus text with counters, histograms and gauges", "[server][metrics]") {
  Metrics m;
  m.request("/v1/translate", 200, 0.02);
  m.request("/v1/translate", 200, 3.0);
  m.request("/v1/translate", 413, 0.001);
  m.generated_tokens("de", 42);
  ModelSample s;
  s.model = "de";
  s.load_seconds = 0.5;
  s.queued_inputs = 3;
  s.batch_sizes = {0, 2, 0, 1};  // two batches of 1, one of 3
  s.cached_bytes = 33042432;
  s.cache_releases = 2;
  const std::string text = m.render({s}, 4);
  CHECK_THAT(text, Catch::Contains("attend_requests_total{endpoint=\"/v1/translate\",status=\"200\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("attend_requests_total{endpoint=\"/v1/translate\",status=\"413\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("attend_request_duration_seconds_bucket{endpoint=\"/v1/translate\",le=\"0.025\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("attend_request_duration_seconds_bucket{endpoint=\"/v1/translate\",le=\"2.5\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("attend_request_duration_seconds_bucket{endpoint=\"/v1/translate\",le=\"+Inf\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("attend_request_duration_seconds_count{endpoint=\"/v1/translate\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("attend_batch_size_bucket{model=\"de\",le=\"2\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("attend_batch_size_bucket{model=\"de\",le=\"4\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("attend_batch_size_sum{model=\"de\"} 5\n"));
  CHECK_THAT(text, Catch::Contains("attend_queue_depth{model=\"de\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("attend_generated_tokens_total{model=\"de\"} 42\n"));
  CHECK_THAT(text, Catch::Contains("attend_model_load_seconds{model=\"de\"} 0.5\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE attend_model_cached_bytes gauge\nattend_model_cached_bytes{model=\"de\"} 33042432\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE attend_cache_releases_total counter\nattend_cache_releases_total{model=\"de\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE attend_queue_depth gauge\nattend_queue_depth{model=\"de\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("attend_requests_in_flight 4\n"));
  CHECK(prometheus_escape("a\"b\\c\n") == "a\\\"b\\\\c\\n");
}

TEST_CASE("request: sampling fields (issue 17)", "[server][request][sampling]") {
  const TranslateCall c = parse_translate(
      R"({"text": "A dog.", "do_sample": true, "temperature": 0.7, "top_k": 20, "top_p": 0.9, "typical_p": 0.95,
          "seed": 18446744073709551615})",
      kLimits);
  CHECK(*c.generation.do_sample);
  CHECK(*c.generation.temperature == 0.7f);
  CHECK(*c.generation.top_k == 20);
  CHECK(*c.generation.top_p == 0.9f);
  CHECK(*c.generation.typical_p == 0.95f);
  CHECK(*c.generation.seed == 18446744073709551615ull);
  auto translate = [](const std::string& body) { return refusal([&] { parse_translate(body, kLimits); }); };
  CHECK(translate(R"({"text": "a", "temperature": 0})").second == "temperature must be a number > 0");
  CHECK(translate(R"({"text": "a", "top_p": 0})").second == "top_p must be a number in (0, 1]");
  CHECK(translate(R"({"text": "a", "top_p": 1.5})").first == 400);
  CHECK(translate(R"({"text": "a", "typical_p": 0})").second == "typical_p must be a number in (0, 1]");
  CHECK(translate(R"({"text": "a", "top_k": -1})").first == 400);
  CHECK(translate(R"({"text": "a", "seed": -1})").second == "seed must be a non-negative integer");
  CHECK(translate(R"({"text": "a", "do_sample": "yes"})").second == "do_sample must be true or false");
  CHECK(translate(R"({"text": "a", "do_sample": true, "beam_size": 4})").second == "do_sample needs beam_size 1");
}

// server/request.cpp — request bodies → validated calls (see request.hpp): JSON through
// nlohmann (which rejects malformed JSON and invalid UTF-8 in strings), form fields checked for
// UTF-8 here, every field's type and range checked with the field named in the error.
#include "server/request.hpp"

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

namespace attend_server {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& message) { throw RequestError(400, message); }

json parse_object(std::string_view body) {
  if (body.empty()) bad("empty request body: expected a JSON object");
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) {
    // Parse again for the message (position and reason); the first pass avoids exceptions
    // for the common case.
    try {
      const json again = json::parse(body.begin(), body.end());
      (void)again;
    } catch (const json::exception& e) {
      bad(std::string("invalid JSON: ") + e.what());
    }
    bad("invalid JSON");
  }
  if (!j.is_object()) bad("the request body must be a JSON object");
  return j;
}

// One text: well-formed UTF-8 (form fields; JSON strings are checked by the parser), not empty,
// at most limits.max_chars code points.
void check_text(const std::string& text, const std::string& field, const RequestLimits& limits) {
  if (!valid_utf8(text)) bad(field + " is not valid UTF-8");
  if (text.empty()) bad(field + " is empty");
  const size_t n = utf8_length(text);
  if (n > limits.max_chars)
    throw RequestError(413, field + " has " + std::to_string(n) + " characters, more than the limit of " +
                                std::to_string(limits.max_chars) + " per text (--max-chars)");
}

void check_count(size_t n, const std::string& field, const RequestLimits& limits) {
  if (n == 0) bad(field + " is an empty array");
  if (n > limits.max_texts)
    throw RequestError(413, field + " has " + std::to_string(n) + " texts, more than the limit of " +
                                std::to_string(limits.max_texts) + " per request (--max-texts)");
}

// "text": a string or a non-empty array of strings.
std::vector<std::string> texts_of(const json& j, const std::string& field, const RequestLimits& limits, bool* array) {
  std::vector<std::string> out;
  if (j.is_string()) {
    *array = false;
    out.push_back(j.get<std::string>());
    check_text(out[0], field, limits);
  } else if (j.is_array()) {
    *array = true;
    check_count(j.size(), field, limits);
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string name = field + "[" + std::to_string(i) + "]";
      if (!j[i].is_string()) bad(name + " must be a string");
      out.push_back(j[i].get<std::string>());
      check_text(out.back(), name, limits);
    }
  } else {
    bad(field + " must be a string or an array of strings");
  }
  return out;
}

std::string string_field(const json& j, const char* key, size_t max_size = 256) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (!it->is_string()) bad(std::string(key) + " must be a string");
  std::string s = it->get<std::string>();
  if (s.size() > max_size) bad(std::string(key) + " is longer than " + std::to_string(max_size) + " bytes");
  return s;
}

bool bool_field(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) bad(std::string(key) + " must be true or false");
  return it->get<bool>();
}

// An integer in [lo, hi]; floats, strings and numbers out of range (however large) are refused.
std::optional<int> int_field(const json& j, const char* key, int lo, int hi, const char* limit_option = nullptr) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  const std::string range = std::string(key) + " must be an integer from " + std::to_string(lo) + " to " +
                            std::to_string(hi) + (limit_option ? std::string(" (") + limit_option + ")" : "");
  if (!it->is_number_integer()) bad(range);
  if (it->is_number_unsigned()) {
    const auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(hi) || static_cast<int64_t>(v) < lo) bad(range);
    return static_cast<int>(v);
  }
  const auto v = it->get<int64_t>();
  if (v < lo || v > hi) bad(range);
  return static_cast<int>(v);
}

std::optional<float> float_field(const json& j, const char* key, double lo, double hi) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) bad(std::string(key) + " must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s must be a number from %g to %g", key, lo, hi);
    bad(buf);
  }
  return static_cast<float>(v);
}

void reject_unknown(const json& j, const std::set<std::string>& known) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key())) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      bad("unknown field '" + it.key() + "' (known: " + list + ")");
    }
}

// The generation overrides both native endpoints take.
const std::set<std::string> kGenerationKeys = {"beam_size", "max_length", "min_length", "length_penalty",
                                               "no_repeat_ngram_size", "repetition_penalty",
                                               // issue 17: sampling
                                               "do_sample", "temperature", "top_k", "top_p", "typical_p", "seed"};

// issue 17: the sampling fields (transformers' names). Ranges as the engine checks them.
void sampling_fields(const json& j, attend::GenerationOptions& g) {
  if (j.contains("do_sample") && !j["do_sample"].is_null()) g.do_sample = bool_field(j, "do_sample");
  g.temperature = float_field(j, "temperature", 0.0, 1e6);
  if (g.temperature && !(*g.temperature > 0.0f)) bad("temperature must be a number > 0");
  g.top_k = int_field(j, "top_k", 0, 1 << 30);
  g.top_p = float_field(j, "top_p", 0.0, 1.0);
  if (g.top_p && !(*g.top_p > 0.0f)) bad("top_p must be a number in (0, 1]");
  g.typical_p = float_field(j, "typical_p", 0.0, 1.0);
  if (g.typical_p && !(*g.typical_p > 0.0f)) bad("typical_p must be a number in (0, 1]");
  const auto it = j.find("seed");
  if (it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0))
      bad("seed must be a non-negative integer");
    g.seed = it->get<uint64_t>();
  }
  if (g.do_sample.value_or(false) && g.num_beams && *g.num_beams > 1) bad("do_sample needs beam_size 1");
}

attend::GenerationOptions generation_fields(const json& j, const RequestLimits& limits) {
  attend::GenerationOptions g;
  g.num_beams = int_field(j, "beam_size", 1, limits.max_beam_size, "--max-beam-size");
  g.max_length = int_field(j, "max_length", 1, limits.max_length, "--max-length");
  g.min_length = int_field(j, "min_length", 0, limits.max_length, "--max-length");
  g.length_penalty = float_field(j, "length_penalty", -10.0, 10.0);
  g.no_repeat_ngram_size = int_field(j, "no_repeat_ngram_size", 0, 100);
  g.repetition_penalty = float_field(j, "repetition_penalty", 0.01, 100.0);
  sampling_fields(j, g);
  if (g.min_length && g.max_length && *g.min_length > *g.max_length)
    bad("min_length (" + std::to_string(*g.min_length) + ") must not exceed max_length (" +
        std::to_string(*g.max_length) + ")");
  return g;
}

const json& required(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) bad(std::string("missing field '") + key + "'");
  return *it;
}

}  // namespace

TranslateCall parse_translate(std::string_view body, const RequestLimits& limits) {
  const json j = parse_object(body);
  std::set<std::string> known = {"text",        "model",         "source_lang", "target_lang", "num_hypotheses",
                                 "return_scores", "document",    "stream",
                                 // cross-attention and markup (docs/attention.md)
                                 "return_attention", "attention_layer", "attention_head", "attention_all_layers",
                                 "attention_all_heads", "alignments", "format"};
  known.insert(kGenerationKeys.begin(), kGenerationKeys.end());
  reject_unknown(j, known);
  TranslateCall c;
  c.return_attention = bool_field(j, "return_attention");
  c.alignments = bool_field(j, "alignments");
  c.attention_layer = int_field(j, "attention_layer", -64, 63, "the model's layers").value_or(-1);
  c.attention_head = int_field(j, "attention_head", -1, 1023, "the model's heads").value_or(-1);
  c.attention_all_layers = bool_field(j, "attention_all_layers");
  c.attention_all_heads = bool_field(j, "attention_all_heads");
  {
    const std::string format = string_field(j, "format", 32);
    if (!format.empty() && format != "text" && format != "html")
      bad("format must be text or html (got '" + format + "')");
    c.html = format == "html";
  }
  c.texts = texts_of(required(j, "text"), "text", limits, &c.array);
  c.model = string_field(j, "model");
  c.source_lang = string_field(j, "source_lang", 32);
  c.target_lang = string_field(j, "target_lang", 32);
  c.generation = generation_fields(j, limits);
  c.num_hypotheses = int_field(j, "num_hypotheses", 1, limits.max_beam_size, "--max-beam-size").value_or(1);
  if (c.num_hypotheses > 1) {
    // Without beam_size the server raises the model's default beam to num_hypotheses.
    if (c.generation.num_beams && c.num_hypotheses > *c.generation.num_beams)
      bad("num_hypotheses (" + std::to_string(c.num_hypotheses) + ") must not exceed beam_size (" +
          std::to_string(*c.generation.num_beams) + ")");
    c.generation.num_return_sequences = c.num_hypotheses;
  }
  c.return_scores = bool_field(j, "return_scores");
  c.document = bool_field(j, "document");
  c.stream = bool_field(j, "stream");
  if (c.document && (c.num_hypotheses > 1 || c.return_scores))
    bad("document: num_hypotheses and return_scores are not available for documents");
  if (c.document && c.stream) bad("document: stream is not available for documents");
  if (c.html && (c.document || c.stream || c.num_hypotheses > 1 || c.return_attention || c.alignments))
    bad("format html: document, stream, num_hypotheses, return_attention and alignments are not available for html");
  if (c.document && (c.return_attention || c.alignments))
    bad("document: return_attention and alignments are not available for documents");
  return c;
}

SummarizeCall parse_summarize(std::string_view body, const RequestLimits& limits) {
  const json j = parse_object(body);
  std::set<std::string> known = {"text", "model", "prefix", "stream"};
  known.insert(kGenerationKeys.begin(), kGenerationKeys.end());
  reject_unknown(j, known);
  SummarizeCall c;
  c.texts = texts_of(required(j, "text"), "text", limits, &c.array);
  c.model = string_field(j, "model");
  c.generation = generation_fields(j, limits);
  if (j.contains("prefix") && !j["prefix"].is_null()) c.prefix = string_field(j, "prefix", 1024);
  c.stream = bool_field(j, "stream");
  return c;
}

namespace {

// true for "html"
bool check_format(const std::string& format) {
  if (format.empty() || format == "text") return false;
  if (format == "html") return true;
  bad("Invalid request: format must be text or html (got '" + format + "')");
}

void check_languages(const LibreCall& c) {
  if (c.source.empty()) bad("Invalid request: missing source parameter");
  if (c.target.empty()) bad("Invalid request: missing target parameter");
}

}  // namespace

LibreCall parse_libre_json(std::string_view body, const RequestLimits& limits) {
  const json j = parse_object(body);
  LibreCall c;
  const auto q = j.find("q");
  if (q == j.end() || q->is_null()) bad("Invalid request: missing q parameter");
  c.texts = texts_of(*q, "q", limits, &c.array);
  c.source = string_field(j, "source", 32);
  c.target = string_field(j, "target", 32);
  c.api_key = string_field(j, "api_key", 1024);
  c.html = check_format(string_field(j, "format", 32));
  check_languages(c);
  return c;
}

LibreCall parse_libre_form(const FormFields& fields, const RequestLimits& limits) {
  LibreCall c;
  auto one = [&](const char* key, size_t max_size) -> std::string {
    const auto range = fields.equal_range(key);
    if (range.first == range.second) return "";
    if (std::next(range.first) != range.second) bad(std::string("Invalid request: ") + key + " is given more than once");
    const std::string& v = range.first->second;
    if (!valid_utf8(v)) bad(std::string(key) + " is not valid UTF-8");
    if (v.size() > max_size) bad(std::string(key) + " is longer than " + std::to_string(max_size) + " bytes");
    return v;
  };
  const size_t nq = fields.count("q");
  if (nq == 0) bad("Invalid request: missing q parameter");
  c.array = nq > 1;
  if (c.array) check_count(nq, "q", limits);
  size_t i = 0;
  const auto range = fields.equal_range("q");
  for (auto it = range.first; it != range.second; ++it, ++i) {
    c.texts.push_back(it->second);
    check_text(it->second, c.array ? "q[" + std::to_string(i) + "]" : "q", limits);
  }
  c.source = one("source", 32);
  c.target = one("target", 32);
  c.api_key = one("api_key", 1024);
  c.html = check_format(one("format", 32));
  check_languages(c);
  return c;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace attend_server

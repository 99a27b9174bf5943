// server/request.hpp — request bodies of `attend serve` (JSON, or LibreTranslate's form fields)
// turned into validated calls, as pure functions: no sockets, no model. Every rejection is a
// RequestError carrying the HTTP status and a message naming the field and the limit.
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "attend/attend.hpp"

namespace attend_server {

// A request the server refuses: `status` (400, 413, ...) and what() for {"error": ...}.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// What one request may ask for at most (the server's command-line options).
struct RequestLimits {
  size_t max_texts = 64;        // texts per request (413)
  size_t max_chars = 10000;     // characters (code points) per text (413)
  int max_beam_size = 16;       // beam_size (400 beyond)
  int max_length = 1024;        // max_length / min_length, in tokens (400 beyond)
};

// POST /v1/translate.
struct TranslateCall {
  std::vector<std::string> texts;
  bool array = false;                 // "text" was an array: answer with an array
  std::string model;                  // "" = the default model
  std::string source_lang, target_lang;
  attend::GenerationOptions generation;
  int num_hypotheses = 1;             // > 1: "hypotheses" in each translation
  bool return_scores = false;
  bool document = false;              // texts are documents (paragraphs and sentences kept)
  bool stream = false;                // Server-Sent Events
  // cross-attention (docs/attention.md): weights and/or word alignments in each translation;
  // format "html": texts are HTML, translated with their markup (Model::translate_html)
  bool return_attention = false, alignments = false, html = false;
  int attention_layer = -1, attention_head = -1;
  bool attention_all_layers = false, attention_all_heads = false;
};

// POST /v1/summarize.
struct SummarizeCall {
  std::vector<std::string> texts;
  bool array = false;
  std::string model;
  attend::GenerationOptions generation;
  std::optional<std::string> prefix;
  bool stream = false;
};

// LibreTranslate's POST /translate.
struct LibreCall {
  std::vector<std::string> texts;
  bool array = false;                 // "q" was an array (JSON) or given more than once (form)
  std::string source, target;         // as sent ("auto" allowed here; the server decides)
  std::string api_key;
  bool html = false;                  // format "html"
};

// Form fields (application/x-www-form-urlencoded or multipart/form-data), already decoded.
using FormFields = std::multimap<std::string, std::string>;

TranslateCall parse_translate(std::string_view body, const RequestLimits& limits);
SummarizeCall parse_summarize(std::string_view body, const RequestLimits& limits);
LibreCall parse_libre_json(std::string_view body, const RequestLimits& limits);
LibreCall parse_libre_form(const FormFields& fields, const RequestLimits& limits);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view s);
// Code points of well-formed UTF-8 text.
size_t utf8_length(std::string_view s);

}  // namespace attend_server

// fuzz/fuzz_server_request.cpp — libFuzzer target: `attend serve`'s request parsing (body →
// validated call) on arbitrary bytes. The first byte picks the parser (native translate,
// summarize, LibreTranslate JSON, LibreTranslate form fields split on '&' and '='). Every
// refusal must be a RequestError with status 400 or 413 and a message; every accepted call must
// hold only non-empty, well-formed UTF-8 texts within the limits.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/request.hpp"

namespace {

using namespace attend_server;

void check_texts(const std::vector<std::string>& texts, const RequestLimits& limits) {
  if (texts.empty() || texts.size() > limits.max_texts) std::abort();
  for (const auto& t : texts)
    if (t.empty() || !valid_utf8(t) || utf8_length(t) > limits.max_chars) std::abort();
}

FormFields split_form(std::string_view s) {
  FormFields f;
  while (!s.empty()) {
    const size_t amp = s.find('&');
    const std::string_view pair = s.substr(0, amp);
    const size_t eq = pair.find('=');
    f.emplace(std::string(pair.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  RequestLimits limits;
  limits.max_texts = 8;
  limits.max_chars = 64;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: {
        const TranslateCall c = parse_translate(body, limits);
        check_texts(c.texts, limits);
        if (c.num_hypotheses < 1 || c.num_hypotheses > limits.max_beam_size) std::abort();
        if (c.generation.num_beams && (*c.generation.num_beams < 1 || *c.generation.num_beams > limits.max_beam_size))
          std::abort();
        break;
      }
      case 1: check_texts(parse_summarize(body, limits).texts, limits); break;
      case 2: check_texts(parse_libre_json(body, limits).texts, limits); break;
      default: check_texts(parse_libre_form(split_form(body), limits).texts, limits); break;
    }
  } catch (const RequestError& e) {
    if ((e.status() != 400 && e.status() != 413) || std::string(e.what()).empty()) std::abort();
  }
  return 0;
}

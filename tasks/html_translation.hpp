// tasks/html_translation.hpp — markup-preserving translation (internal): HTML parsed with Gumbo,
// the text of every block (a run of text and inline elements) handed to a translator as one
// input, inline tags re-placed around the target words aligned to their source words, everything
// else serialized back unchanged. Model::translate_html plugs the model in; the fuzz target and
// tests plug in a synthetic translator.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "attend/attend.hpp"

namespace attend {

// One translated block: the target text and, for every target word (whitespace-separated), the
// source word it is aligned to (WordLink::target = target word, ::source = source word).
struct HtmlRunTranslation {
  std::string text;
  std::vector<WordLink> links;
};
// Translates the blocks' source texts (words separated by single spaces), one result each.
using HtmlRunTranslator = std::function<std::vector<HtmlRunTranslation>(const std::vector<std::string>&)>;

// The translation of each HTML document or fragment. A document (starting with <!DOCTYPE or
// <html) comes back as a whole document, a fragment as a fragment. Throws attend::Error for
// input that is not valid UTF-8 or has a NUL byte.
std::vector<std::string> translate_html_with(const std::vector<std::string>& html, const HtmlRunTranslator& translate);

}  // namespace attend

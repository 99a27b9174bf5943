// fuzz/fuzz_html.cpp — libFuzzer target: markup-preserving translation (tasks/html_translation)
// on arbitrary bytes with a synthetic translator whose word order and alignment come from the
// input (reversed, shifted, some words unaligned). Invalid UTF-8 must be refused with
// attend::Error; otherwise the output must be well-formed (every tag opened is closed, in order)
// and hold the translated words.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "attend/error.hpp"
#include "tasks/html_translation.hpp"
#include "tests/support/html_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string html(reinterpret_cast<const char*>(data) + 1, size - 1);
  const attend::HtmlRunTranslator translator = [mode](const std::vector<std::string>& sources) {
    std::vector<attend::HtmlRunTranslation> out;
    for (const std::string& s : sources) {
      std::vector<std::string> w;
      std::istringstream in(s);
      for (std::string x; in >> x;) w.push_back(x);
      attend::HtmlRunTranslation t;
      const int n = static_cast<int>(w.size());
      for (int i = 0; i < n; ++i) {
        int src = (mode & 1) ? n - 1 - i : i;
        if (mode & 2) src = (src + mode / 4) % n;
        t.text += (i ? " " : "") + std::string("w") + std::to_string(i);
        if ((mode & 4) == 0 || i % 3 != 1) t.links.push_back(attend::WordLink{src, i});
      }
      if (mode & 8) t.links.push_back(attend::WordLink{n + 5, n + 7});  // out of range: ignored
      out.push_back(t);
    }
    return out;
  };
  std::vector<std::string> out;
  try {
    out = attend::translate_html_with({html}, translator);
  } catch (const attend::Error&) {
    return 0;  // invalid UTF-8 / NUL: refused with a message
  }
  if (out.size() != 1) std::abort();
  if (!attend_test::scan_tags(out[0]).well_formed) std::abort();
  return 0;
}

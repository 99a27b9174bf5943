// tests/support/html_check.hpp — checks of HTML output for the HTML translation tests and fuzz
// target: a tag scanner over serialized output (Attend's own serializer writes every attribute
// quoted and every comment closed, so scanning suffices) that verifies every tag opened is
// closed in order, and lists the start tags (name and attributes) for "no tag lost" checks.
#pragma once
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace attend_test {

struct TagScan {
  bool well_formed = true;
  std::string problem;
  std::vector<std::string> start_tags;  // "<b>", "<a href=\"x\">", in order
};

inline bool html_void(const std::string& n) {
  static const char* v[] = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                            "source", "track", "wbr", "keygen"};
  return std::find(std::begin(v), std::end(v), n) != std::end(v);
}

// Inside <svg> or <math> (and not back in HTML through an integration point) a <script> or
// <style> is an ordinary element with children, as an HTML parser reads it: not raw text.
inline bool in_foreign_content(const std::vector<std::string>& stack) {
  for (size_t k = stack.size(); k-- > 0;) {
    std::string n = stack[k];
    for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (n == "foreignobject" || n == "desc" || n == "title" || n == "annotation-xml") return false;
    if (n == "svg" || n == "math") return true;
  }
  return false;
}

inline TagScan scan_tags(const std::string& html) {
  TagScan r;
  std::vector<std::string> stack;
  size_t i = 0;
  auto fail = [&](const std::string& why) {
    if (r.well_formed) r.problem = why + " at byte " + std::to_string(i);
    r.well_formed = false;
  };
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 4, "<!--") == 0) {
      const size_t e = html.find("-->", i + 4);
      if (e == std::string::npos) return fail("unclosed comment"), r;
      i = e + 3;
      continue;
    }
    if (html.compare(i, 9, "<![CDATA[") == 0) {
      const size_t e = html.find("]]>", i + 9);
      if (e == std::string::npos) return fail("unclosed CDATA"), r;
      i = e + 3;
      continue;
    }
    if (html.compare(i, 2, "<!") == 0) {  // doctype
      i = html.find('>', i);
      if (i == std::string::npos) break;
      continue;
    }
    {  // as the HTML tokenizer reads it: a tag name starts with an ASCII letter, else '<' is text
      const size_t at = i + (html.compare(i, 2, "</") == 0 ? 2 : 1);
      if (at >= html.size() || !std::isalpha(static_cast<unsigned char>(html[at]))) {
        ++i;
        continue;
      }
    }
    const size_t e = html.find('>', i);
    if (e == std::string::npos) return fail("unclosed tag"), r;
    const std::string tag = html.substr(i, e - i + 1);
    const bool end = tag.size() > 1 && tag[1] == '/';
    size_t a = end ? 2 : 1, b = a;
    while (b < tag.size() && tag[b] != ' ' && tag[b] != '>' && tag[b] != '/') ++b;
    const std::string name = tag.substr(a, b - a);
    i = e + 1;
    if (end) {
      if (stack.empty() || stack.back() != name) return fail("</" + name + "> closes " + (stack.empty() ? "nothing" : "<" + stack.back() + ">")), r;
      stack.pop_back();
      continue;
    }
    r.start_tags.push_back(tag);
    if (html_void(name)) continue;
    stack.push_back(name);
    if (!in_foreign_content(stack) &&
        (name == "script" || name == "style" || name == "xmp" || name == "iframe" || name == "noembed" ||
         name == "noframes" || name == "plaintext")) {  // raw text up to the end tag
      const size_t close = html.find("</" + name + ">", i);
      if (close == std::string::npos) return fail("unclosed <" + name + ">"), r;
      i = close;
    }
  }
  if (!stack.empty()) fail("<" + stack.back() + "> never closed");
  return r;
}

}  // namespace attend_test

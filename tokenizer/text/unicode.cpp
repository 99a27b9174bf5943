// tokenizer/text/unicode.cpp — UTF-8 decoding/encoding, Python-compatible replacement decoding and
// whitespace stripping, and range lookups into the generated \p{L} / \p{N} tables.
#include "tokenizer/text/unicode.hpp"

#include <algorithm>

namespace attend {
namespace {

bool in_ranges(const CodepointRange* ranges, size_t count, char32_t cp) {
  const CodepointRange* end = ranges + count;
  // First range whose last >= cp.
  const CodepointRange* it = std::lower_bound(
      ranges, end, static_cast<uint32_t>(cp),
      [](const CodepointRange& r, uint32_t value) { return r.last < value; });
  return it != end && it->first <= cp;
}

// Length of the sequence announced by lead byte b (0 = invalid lead) and the allowed range of the
// first continuation byte (RFC 3629 / Unicode table 3-7).
int sequence_info(uint8_t b, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b == 0xE0) { *lo = 0xA0; return 3; }
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return 3;
  if (b == 0xED) { *hi = 0x9F; return 3; }
  if (b == 0xF0) { *lo = 0x90; return 4; }
  if (b >= 0xF1 && b <= 0xF3) return 4;
  if (b == 0xF4) { *hi = 0x8F; return 4; }
  return 0;
}

// Length of the valid prefix of the sequence starting at s[pos] (1..len) and whether it is complete.
size_t valid_prefix(const std::string& s, size_t pos, int* expected) {
  uint8_t lo, hi;
  const int len = sequence_info(static_cast<uint8_t>(s[pos]), &lo, &hi);
  *expected = len;
  if (len <= 1) return 1;
  size_t j = pos + 1;
  for (int k = 1; k < len; ++k, ++j) {
    if (j >= s.size()) break;
    const uint8_t c = static_cast<uint8_t>(s[j]);
    const uint8_t l = (k == 1) ? lo : 0x80;
    const uint8_t h = (k == 1) ? hi : 0xBF;
    if (c < l || c > h) break;
  }
  return j - pos;
}

}  // namespace

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  return in_ranges(unicode_tables::kLetterRanges, unicode_tables::kLetterRanges_count, cp);
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(unicode_tables::kNumberRanges, unicode_tables::kNumberRanges_count, cp);
}

bool is_regex_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

bool is_python_space(char32_t cp) {
  return is_regex_space(cp) || (cp >= 0x1C && cp <= 0x1F);
}

size_t utf8_next(const std::string& s, size_t pos, char32_t* cp) {
  int expected = 0;
  const size_t n = valid_prefix(s, pos, &expected);
  if (expected == 1) {
    *cp = static_cast<uint8_t>(s[pos]);
    return 1;
  }
  if (expected == 0 || static_cast<int>(n) != expected) {
    *cp = kReplacementChar;
    return 1;
  }
  const uint8_t b0 = static_cast<uint8_t>(s[pos]);
  char32_t v = b0 & (0x7F >> expected);
  for (size_t k = 1; k < n; ++k) v = (v << 6) | (static_cast<uint8_t>(s[pos + k]) & 0x3F);
  *cp = v;
  return n;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_encode(char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

std::string utf8_decode_replace(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    int expected = 0;
    const size_t n = valid_prefix(bytes, i, &expected);
    if (expected != 0 && static_cast<int>(n) == expected) {
      out.append(bytes, i, n);
    } else {
      append_utf8(out, kReplacementChar);  // one U+FFFD per maximal invalid subpart
    }
    i += n;
  }
  return out;
}

size_t utf8_incomplete_tail(const std::string& bytes) {
  const size_t size = bytes.size();
  // A sequence is at most 4 bytes long, so its lead byte is among the last 3 bytes.
  for (size_t back = 1; back <= 3 && back <= size; ++back) {
    const size_t pos = size - back;
    const uint8_t b = static_cast<uint8_t>(bytes[pos]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    int expected = 0;
    const size_t n = valid_prefix(bytes, pos, &expected);
    if (expected > 1 && n == back && static_cast<int>(n) < expected) return back;
    return 0;
  }
  return 0;
}

bool is_valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    int expected = 0;
    const size_t n = valid_prefix(s, i, &expected);
    if (expected == 0 || static_cast<int>(n) != expected) return false;
    i += n;
  }
  return true;
}

std::string py_lstrip(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    const size_t n = utf8_next(s, i, &cp);
    if (!is_python_space(cp)) break;
    i += n;
  }
  return s.substr(i);
}

std::string py_rstrip(const std::string& s) {
  // Walk forward (UTF-8 cannot be decoded backwards reliably when invalid) and remember where
  // the trailing whitespace run starts.
  size_t i = 0, end = 0;
  while (i < s.size()) {
    char32_t cp;
    const size_t n = utf8_next(s, i, &cp);
    i += n;
    if (!is_python_space(cp)) end = i;
  }
  return s.substr(0, end);
}

std::string py_strip(const std::string& s) { return py_rstrip(py_lstrip(s)); }

}  // namespace attend

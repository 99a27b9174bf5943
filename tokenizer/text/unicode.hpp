// tokenizer/text/unicode.hpp — UTF-8 helpers and the Unicode character classes the tokenizers need
// (\p{L}, \p{N}, regex \s, Python str.isspace) plus Python-compatible "errors=replace" decoding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace attend {

struct CodepointRange {
  uint32_t first;
  uint32_t last;
};

namespace unicode_tables {  // generated: tokenizer/unicode_tables.cpp
extern const CodepointRange kLetterRanges[];
extern const size_t kLetterRanges_count;
extern const CodepointRange kNumberRanges[];
extern const size_t kNumberRanges_count;
}  // namespace unicode_tables

constexpr char32_t kReplacementChar = 0xFFFD;

// General category L* (\p{L} of the `regex` module, Unicode 15.0).
bool is_letter(char32_t cp);
// General category N* (\p{N}).
bool is_number(char32_t cp);
// `\s` of the Python `regex` module: the Unicode White_Space property.
bool is_regex_space(char32_t cp);
// Python's str.isspace() (what str.strip()/lstrip()/rstrip() remove).
bool is_python_space(char32_t cp);

// Decodes the code point starting at s[pos] and returns its length in bytes (>= 1 while
// pos < s.size()). An invalid or truncated sequence yields U+FFFD and consumes one byte.
size_t utf8_next(const std::string& s, size_t pos, char32_t* cp);
// Appends the UTF-8 encoding of cp (code points above U+10FFFF or surrogates become U+FFFD).
void append_utf8(std::string& out, char32_t cp);
std::string utf8_encode(char32_t cp);

// Python's bytes.decode("utf-8", errors="replace"): every maximal invalid subpart of the input
// becomes one U+FFFD, valid sequences are copied unchanged.
std::string utf8_decode_replace(const std::string& bytes);
// Number of trailing bytes that form the valid beginning of a multi-byte sequence which is not
// complete yet (0..3): the bytes a stream decoder must hold back.
size_t utf8_incomplete_tail(const std::string& bytes);
bool is_valid_utf8(const std::string& s);

// Python str.strip()/lstrip()/rstrip() without arguments (Unicode whitespace, see is_python_space).
std::string py_strip(const std::string& s);
std::string py_lstrip(const std::string& s);
std::string py_rstrip(const std::string& s);

}  // namespace attend

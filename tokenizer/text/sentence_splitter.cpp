// tokenizer/text/sentence_splitter.cpp — rule-based sentence splitter (English, German, French,
// Spanish, CJK punctuation) over byte ranges of a paragraph; rules listed in the header.
#include "tokenizer/text/sentence_splitter.hpp"

#include <algorithm>
#include <iterator>
#include <string>
#include <cstdint>
#include <string_view>

#include "tokenizer/text/unicode.hpp"

namespace attend::text {
namespace {

struct Cp {
  char32_t cp;
  size_t off;  // byte offset of the code point in the paragraph
};

// Strict UTF-8 decoding of one code point; an invalid, overlong, surrogate or truncated
// sequence yields U+FFFD and consumes one byte.
size_t decode(std::string_view s, size_t pos, char32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[pos + k]); };
  const uint8_t b0 = b(0);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  char32_t v = 0, min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) { len = 2; v = b0 & 0x1F; min = 0x80; }
  else if (b0 >= 0xE0 && b0 <= 0xEF) { len = 3; v = b0 & 0x0F; min = 0x800; }
  else if (b0 >= 0xF0 && b0 <= 0xF4) { len = 4; v = b0 & 0x07; min = 0x10000; }
  if (len == 0 || pos + len > s.size()) {
    *cp = kReplacementChar;
    return 1;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) {
      *cp = kReplacementChar;
      return 1;
    }
    v = (v << 6) | (b(k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
    *cp = kReplacementChar;
    return 1;
  }
  *cp = v;
  return len;
}

bool is_space(char32_t c) { return is_regex_space(c) || c == 0xFEFF; }

// Sentence-final punctuation that needs a following space (Latin scripts).
bool is_terminator(char32_t c) {
  return c == '.' || c == '!' || c == '?' || c == 0x2026 /* … */ || c == 0x203C /* ‼ */ ||
         c == 0x2047 || c == 0x2048 || c == 0x2049 /* ⁇ ⁈ ⁉ */;
}

// CJK sentence-final punctuation: ends a sentence without a following space.
bool is_cjk_terminator(char32_t c) {
  return c == 0x3002 /* 。 */ || c == 0xFF01 /* ！ */ || c == 0xFF1F /* ？ */ || c == 0xFF61 /* ｡ */ ||
         c == 0xFF0E /* ． */;
}

// Closing quotes and brackets that stay with the sentence they follow (no space in between).
// “ closes German „…“ quotes, « closes German »…« quotes.
bool is_attached_closer(char32_t c) {
  switch (c) {
    case '"': case '\'': case ')': case ']': case '}':
    case 0x2019: case 0x201D: case 0x201C: case 0x2018:  // ’ ” “ ‘
    case 0x00BB: case 0x00AB: case 0x203A: case 0x2039:  // » « › ‹
    case 0x300D: case 0x300F: case 0xFF09: case 0x300B: case 0x3009: case 0x3011: case 0x3015:  // 」』）》〉】〕
    case 0xFF63: case 0xFF3D:                             // ｣ ］
      return true;
    default:
      return false;
  }
}

// Opening quotes/brackets and Spanish inverted marks looked through before the next word.
bool is_opener(char32_t c) {
  switch (c) {
    case '"': case '\'': case '(': case '[': case '{':
    case 0x201C: case 0x201E: case 0x2018: case 0x201A:  // “ „ ‘ ‚
    case 0x00AB: case 0x00BB: case 0x2039: case 0x203A:  // « » ‹ ›
    case 0x00BF: case 0x00A1:                             // ¿ ¡
    case 0x300C: case 0x300E: case 0xFF08: case 0x300A: case 0x3008: case 0x3010: case 0x3014:
    case 0xFF62: case 0xFF3B:
      return true;
    default:
      return false;
  }
}

bool is_lower(char32_t c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c < 0x80) return false;
  if (c == 0xAA || c == 0xBA || c == 0xB5) return true;
  if (c >= 0xDF && c <= 0xFF) return c != 0xF7;
  if (c >= 0x100 && c <= 0x137) return (c & 1) == 1;
  if (c >= 0x139 && c <= 0x148) return (c & 1) == 0;
  if (c >= 0x14A && c <= 0x177) return (c & 1) == 1;
  if (c >= 0x179 && c <= 0x17E) return (c & 1) == 0;
  if (c == 0x17F || c == 0x138 || c == 0x149) return true;
  if (c >= 0x180 && c <= 0x24F) return false;  // Latin Extended-B: treated as not lower (rare)
  if (c >= 0x250 && c <= 0x2AF) return true;   // IPA extensions
  if (c >= 0x3AC && c <= 0x3CE) return true;   // Greek small letters
  if (c >= 0x430 && c <= 0x45F) return true;   // Cyrillic small letters
  if (c >= 0x460 && c <= 0x4FF) return (c & 1) == 1 && c != 0x4C0;
  if (c >= 0x1E00 && c <= 0x1EFF) return (c & 1) == 1;  // Latin Extended Additional
  return false;
}

bool is_upper(char32_t c) {
  if (c >= 'A' && c <= 'Z') return true;
  if (c < 0x80) return false;
  if (c >= 0xC0 && c <= 0xDE) return c != 0xD7;
  if (c >= 0x100 && c <= 0x17F) return is_letter(c) && !is_lower(c);
  if (c >= 0x386 && c <= 0x3AB) return true;
  if (c >= 0x400 && c <= 0x42F) return true;
  if (c >= 0x1E00 && c <= 0x1EFF) return (c & 1) == 0;
  return false;
}

bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

// Abbreviations after which a period never ends a sentence (compared without the period).
constexpr std::string_view kAbbreviations[] = {
    // English titles, ranks, Latin
    "Mr", "Mrs", "Ms", "Messrs", "Dr", "Drs", "Prof", "Sr", "Jr", "St", "Mt", "Ft", "Gen", "Col",
    "Capt", "Lt", "Sgt", "Cpl", "Maj", "Adm", "Cmdr", "Rev", "Hon", "Gov", "Pres", "Sen", "Rep",
    "Supt", "Insp", "vs", "cf", "e.g", "i.e", "viz", "approx", "dept", "Dept", "ca", "al", "Fig",
    "fig", "Figs", "Eq", "Eqs", "Jan", "Feb", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
    "Nov", "Dec", "Ave", "Blvd",
    // German
    "Hr", "Hrn", "Fr", "Frl", "Dipl", "Ing", "bzw", "evtl", "ggf", "inkl", "exkl", "zzgl", "vgl",
    "Mio", "Mrd", "Str", "Tel", "Jh", "Jhd", "geb", "gest", "ehem", "sog", "Std", "Abb", "Tab",
    "z.B", "z.T", "d.h", "u.a", "v.a", "o.ä", "s.o", "s.u", "u.U", "u.v.m", "bspw", "Bsp", "allg",
    "Anm", "Hrsg", "hrsg", "Verf", "zit", "Dr.-Ing", "Dr.med",
    // French
    "MM", "Mme", "Mmes", "Mlle", "Mlles", "Mgr", "Pr", "env", "av", "apr", "chap", "éd", "Éd",
    "boul", "J.-C",
    // Spanish
    "Sra", "Srta", "Sres", "Sras", "Dra", "Lic", "Ud", "Uds", "Vd", "Vds", "Dña", "Av", "Avda",
    "aprox", "ej", "pág", "págs", "núm", "Núm", "admón", "Cía", "cía", "Excmo", "Excma", "Ilmo",
};

// Abbreviations after which a period does not end a sentence when a number follows.
constexpr std::string_view kNumericAbbreviations[] = {
    "No", "Nos", "no", "Nr", "nr", "Art", "art", "pp", "Abs", "Bd", "Bde", "Kap", "Vol", "vol",
    "ch", "Ch", "Nº", "nº", "Tab", "Nrn", "Pkt", "Ziff"};

// German nouns that follow an ordinal number ("am 3. Oktober", "im 19. Jahrhundert").
constexpr std::string_view kOrdinalNouns[] = {
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
    "November", "Dezember", "Jahrhundert", "Jahrhunderts", "Jahrtausend", "Mal", "Platz", "Stock",
    "Klasse", "Kapitel", "Auflage", "Geburtstag", "Lebensjahr", "Jänner"};

template <size_t N>
bool contains(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

class Splitter {
 public:
  explicit Splitter(std::string_view text) : text_(text) {
    for (size_t pos = 0; pos < text.size();) {
      char32_t cp;
      const size_t len = decode(text, pos, &cp);
      cps_.push_back({cp, pos});
      pos += len;
    }
  }

  std::vector<Span> run() {
    const size_t n = cps_.size();
    size_t start = skip_space(0);
    size_t i = start;
    while (i < n) {
      const char32_t c = cps_[i].cp;
      if (is_cjk_terminator(c)) {
        size_t j = i + 1;
        while (j < n && (is_cjk_terminator(cps_[j].cp) || is_terminator(cps_[j].cp))) ++j;
        while (j < n && is_attached_closer(cps_[j].cp)) ++j;
        emit(start, j);
        start = skip_space(j);
        i = start;
        continue;
      }
      if (!is_terminator(c)) {
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < n && is_terminator(cps_[j].cp)) ++j;
      const size_t e = consume_closers(j, start);
      if (e >= n) break;
      if (!is_space(cps_[e].cp)) {
        i = e;
        continue;
      }
      const size_t next = skip_space(e);
      if (next >= n) break;
      if (ends_sentence(i, j, next, start)) {
        emit(start, e);
        start = next;
      }
      i = next;
    }
    emit(start, n);
    return std::move(spans_);
  }

 private:
  size_t offset(size_t idx) const { return idx < cps_.size() ? cps_[idx].off : text_.size(); }

  size_t skip_space(size_t i) const {
    while (i < cps_.size() && is_space(cps_[i].cp)) ++i;
    return i;
  }

  // Pushes [begin, end) (code point indices) without trailing whitespace, if not empty.
  void emit(size_t begin, size_t end) {
    while (end > begin && is_space(cps_[end - 1].cp)) --end;
    if (end > begin) spans_.push_back({offset(begin), offset(end)});
  }

  // After a terminator run ending at j: closing quotes/brackets; a French " »" only when the
  // sentence so far has an unclosed «.
  size_t consume_closers(size_t j, size_t sentence_start) const {
    const size_t n = cps_.size();
    for (;;) {
      if (j < n && is_attached_closer(cps_[j].cp)) {
        ++j;
        continue;
      }
      size_t m = j;
      while (m < n && is_space(cps_[m].cp) && cps_[m].cp != '\n' && cps_[m].cp != '\r') ++m;
      if (m > j && m < n && cps_[m].cp == 0x00BB && unclosed_guillemet(sentence_start, j)) {
        j = m + 1;
        continue;
      }
      return j;
    }
  }

  bool unclosed_guillemet(size_t begin, size_t end) const {
    int depth = 0;
    for (size_t k = begin; k < end; ++k) {
      if (cps_[k].cp == 0x00AB) ++depth;
      if (cps_[k].cp == 0x00BB && depth > 0) --depth;
    }
    return depth > 0;
  }

  std::string_view bytes(size_t begin, size_t end) const {
    return text_.substr(offset(begin), offset(end) - offset(begin));
  }

  // Terminator run [i, j), next non-space character at `next`: is this a sentence end?
  bool ends_sentence(size_t i, size_t j, size_t next, size_t sentence_start) const {
    const size_t n = cps_.size();
    size_t m = next;
    while (m < n && is_opener(cps_[m].cp)) ++m;
    if (m >= n) return true;
    const char32_t nc = cps_[m].cp;
    if (is_lower(nc)) return false;
    if (!(j == i + 1 && cps_[i].cp == '.')) return true;  // '!', '?', '…', "...", "?!"

    // A single period: look at the word before it.
    size_t w = i;
    while (w > sentence_start && !is_space(cps_[w - 1].cp)) --w;
    while (w < i && is_opener(cps_[w].cp)) ++w;
    if (w == i) return true;
    const std::string_view word = bytes(w, i);
    if (contains(kAbbreviations, word)) return false;
    if (word[0] >= 'A' && word[0] <= 'Z') {
      std::string lowered(word);
      lowered[0] = static_cast<char>(lowered[0] - 'A' + 'a');
      if (contains(kAbbreviations, std::string_view(lowered))) return false;
    }
    if (word.size() > 3 && word.substr(word.size() - 3) == "str") return false;  // Hauptstr.
    if (i - w == 1 && is_letter(cps_[w].cp) && cps_[w].cp != 'I') return false;  // initial
    bool all_digits = true, dotted = false, has_upper = false, letters_dots = true;
    for (size_t k = w; k < i; ++k) {
      const char32_t c = cps_[k].cp;
      if (!is_digit(c)) all_digits = false;
      if (c == '.') dotted = true;
      if (is_upper(c)) has_upper = true;
      if (c != '.' && c != '-' && !is_letter(c)) letters_dots = false;
    }
    if (dotted && letters_dots && has_upper) return false;  // U.S., EE.UU., J.R.R.
    if (is_digit(nc) && contains(kNumericAbbreviations, word)) return false;
    if (all_digits) {
      if (w == sentence_start) return false;  // "1. Introduction"
      size_t e = m;
      while (e < n && is_letter(cps_[e].cp)) ++e;
      if (contains(kOrdinalNouns, bytes(m, e))) return false;
    }
    return true;
  }

  std::string_view text_;
  std::vector<Cp> cps_;
  std::vector<Span> spans_;
};

}  // namespace

std::vector<Span> split_sentences(std::string_view paragraph) { return Splitter(paragraph).run(); }

}  // namespace attend::text

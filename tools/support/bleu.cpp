// tools/support/bleu.cpp — corpus BLEU matching sacreBLEU 2.x defaults (13a tokenizer, exp smoothing,
// n-grams up to 4, one reference): tokenizer, clipped n-gram statistics, score and its text.
#include "tools/support/bleu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "attend/error.hpp"

namespace attend {

namespace {

constexpr int kMaxOrder = 4;

// Byte length of the Python whitespace character (str.isspace) starting at s[i], or 0.
// Set: U+0009-000D, U+001C-001F, U+0020, U+0085, U+00A0, U+1680, U+2000-200A, U+2028,
// U+2029, U+202F, U+205F, U+3000 — what str.split() / str.rstrip() treat as whitespace.
std::size_t py_space_len(const std::string& s, std::size_t i) {
  const auto b = [&](std::size_t k) -> unsigned {
    return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u;
  };
  const unsigned c = b(i);
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return 1;
  if (c == 0xC2 && (b(i + 1) == 0x85 || b(i + 1) == 0xA0)) return 2;
  if (c == 0xE1 && b(i + 1) == 0x9A && b(i + 2) == 0x80) return 3;  // U+1680
  if (c == 0xE2 && b(i + 1) == 0x80) {
    const unsigned t = b(i + 2);
    if ((t >= 0x80 && t <= 0x8A) || t == 0xA8 || t == 0xA9 || t == 0xAF) return 3;
  }
  if (c == 0xE2 && b(i + 1) == 0x81 && b(i + 2) == 0x9F) return 3;  // U+205F
  if (c == 0xE3 && b(i + 1) == 0x80 && b(i + 2) == 0x80) return 3;  // U+3000
  return 0;
}

// Python's str.split() with no argument: runs of whitespace separate, no empty tokens.
std::vector<std::string> py_split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t w = py_space_len(s, i);
    if (w > 0) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
      i += w;
    } else {
      cur.push_back(s[i]);
      ++i;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Python's str.rstrip() with no argument.
std::string py_rstrip(const std::string& s) {
  std::size_t end = 0, i = 0;
  while (i < s.size()) {
    const std::size_t w = py_space_len(s, i);
    if (w > 0) {
      i += w;
    } else {
      ++i;
      end = i;
    }
  }
  return s.substr(0, end);
}

// Python's str.replace(from, to): every non-overlapping occurrence, left to right.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The first 13a regex class [\{-\~\[-\` -\&\(-\+\:-\@\/]: ASCII punctuation except ' , - .
// (and the space, which is harmless to pad).
bool is_split_punct(char ch) {
  const unsigned c = static_cast<unsigned char>(ch);
  return (c >= 0x7B && c <= 0x7E) ||  // { | } ~
         (c >= 0x5B && c <= 0x60) ||  // [ \ ] ^ _ `
         (c >= 0x20 && c <= 0x26) ||  // space ! " # $ % &
         (c >= 0x28 && c <= 0x2B) ||  // ( ) * +
         (c >= 0x3A && c <= 0x40) ||  // : ; < = > ? @
         c == 0x2F;                   // /
}

// re.sub of a two-character pattern (first, second) over s, scanning left to right without
// overlaps as Python does; emit writes the replacement. On UTF-8 bytes this equals Python's
// code-point matching here: the classes are ASCII or negated-digit, and a multi-byte character
// can only take part through its last byte (before) or its lead byte (after), each then copied.
template <typename First, typename Second, typename Emit>
std::string sub_pairs(const std::string& s, First first, Second second, Emit emit) {
  std::string out;
  out.reserve(s.size() + s.size() / 4 + 8);
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

bool is_period_or_comma(char c) { return c == '.' || c == ','; }
bool not_digit(char c) { return !is_digit(c); }

// An n-gram key: tokens never contain whitespace, so joining with ' ' is unambiguous.
using NgramCounts = std::unordered_map<std::string, std::size_t>;

void count_ngrams(const std::vector<std::string>& tokens, int n, NgramCounts& out) {
  out.clear();
  if (tokens.size() < static_cast<std::size_t>(n)) return;
  for (std::size_t i = 0; i + n <= tokens.size(); ++i) {
    std::string key = tokens[i];
    for (int k = 1; k < n; ++k) {
      key += ' ';
      key += tokens[i + k];
    }
    ++out[key];
  }
}

std::string format_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::string tokenize_13a(const std::string& input) {
  // Language-independent part (mteval-v13a), in sacreBLEU's order.
  std::string line = replace_all(input, "<skipped>", "");
  line = replace_all(line, "-\n", "");
  line = replace_all(line, "\n", " ");
  line = replace_all(line, "&quot;", "\"");
  line = replace_all(line, "&amp;", "&");
  line = replace_all(line, "&lt;", "<");
  line = replace_all(line, "&gt;", ">");
  line = " " + line + " ";

  // Punctuation: every character of the class becomes " c ".
  std::string padded;
  padded.reserve(line.size() * 2);
  for (char c : line) {
    if (is_split_punct(c)) {
      padded += ' ';
      padded += c;
      padded += ' ';
    } else {
      padded += c;
    }
  }
  // ([^0-9])([\.,]) -> "\1 \2 ": period/comma unless preceded by a digit.
  line = sub_pairs(padded, not_digit, is_period_or_comma, [](std::string& o, char a, char b) {
    o += a;
    o += ' ';
    o += b;
    o += ' ';
  });
  // ([\.,])([^0-9]) -> " \1 \2": period/comma unless followed by a digit.
  line = sub_pairs(line, is_period_or_comma, not_digit, [](std::string& o, char a, char b) {
    o += ' ';
    o += a;
    o += ' ';
    o += b;
  });
  // ([0-9])(-) -> "\1 \2 ": dash after a digit.
  line = sub_pairs(line, is_digit, [](char c) { return c == '-'; },
                   [](std::string& o, char a, char b) {
                     o += a;
                     o += ' ';
                     o += b;
                     o += ' ';
                   });

  // ' '.join(line.strip().split())
  const std::vector<std::string> tokens = py_split(line);
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ' ';
    out += tokens[i];
  }
  return out;
}

BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  if (hyps.size() != refs.size()) {
    throw Error("corpus_bleu: " + std::to_string(hyps.size()) + " hypotheses but " +
                std::to_string(refs.size()) + " references");
  }

  std::size_t sys_len = 0, ref_len = 0;
  std::size_t correct[kMaxOrder] = {0, 0, 0, 0};
  std::size_t total[kMaxOrder] = {0, 0, 0, 0};

  NgramCounts hyp_counts, ref_counts;
  for (std::size_t s = 0; s < hyps.size(); ++s) {
    const std::string ref_line = py_rstrip(refs[s]);
    if (ref_line.empty()) {
      throw Error("corpus_bleu: empty reference at line " + std::to_string(s + 1));
    }
    const std::vector<std::string> ref_tokens = py_split(tokenize_13a(ref_line));
    const std::vector<std::string> hyp_tokens = py_split(tokenize_13a(py_rstrip(hyps[s])));
    sys_len += hyp_tokens.size();
    ref_len += ref_tokens.size();  // one reference: it is the closest one
    for (int n = 1; n <= kMaxOrder; ++n) {
      count_ngrams(hyp_tokens, n, hyp_counts);
      count_ngrams(ref_tokens, n, ref_counts);
      for (const auto& [ngram, count] : hyp_counts) {
        total[n - 1] += count;
        const auto it = ref_counts.find(ngram);
        if (it != ref_counts.end()) correct[n - 1] += std::min(count, it->second);
      }
    }
  }

  BleuScore r;
  r.hyp_len = sys_len;
  r.ref_len = ref_len;
  r.ratio = ref_len ? static_cast<double>(sys_len) / static_cast<double>(ref_len) : 0.0;
  for (int n = 0; n < kMaxOrder; ++n) {
    r.counts[n] = correct[n];
    r.totals[n] = total[n];
  }
  if (sys_len < ref_len) {
    r.bp = sys_len > 0
               ? std::exp(1.0 - static_cast<double>(ref_len) / static_cast<double>(sys_len))
               : 0.0;
  } else {
    r.bp = 1.0;
  }

  bool any_match = false;
  for (int n = 0; n < kMaxOrder; ++n) any_match = any_match || correct[n] > 0;
  if (!any_match) return r;  // score 0, precisions 0 (sacreBLEU's early stop)

  // Precisions with "exp" smoothing (mteval's): the k-th order with no match gets
  // 100 / (2^k * total). An order with no hypothesis n-gram at all ends the loop and leaves
  // its precision (and the following ones) at 0, whose log is floored below.
  double smooth = 1.0;
  for (int n = 0; n < kMaxOrder; ++n) {
    if (total[n] == 0) break;
    if (correct[n] == 0) {
      smooth *= 2.0;
      r.precisions[n] = 100.0 / (smooth * static_cast<double>(total[n]));
    } else {
      r.precisions[n] = 100.0 * static_cast<double>(correct[n]) / static_cast<double>(total[n]);
    }
  }
  double log_sum = 0.0;
  for (int n = 0; n < kMaxOrder; ++n) {
    log_sum += r.precisions[n] == 0.0 ? -9999999999.0 : std::log(r.precisions[n]);
  }
  r.score = r.bp * std::exp(log_sum / kMaxOrder);
  return r;
}

std::string BleuScore::signature_line() const {
  std::string s = format_fixed(score, 2) + " ";
  for (int n = 0; n < kMaxOrder; ++n) {
    if (n) s += '/';
    s += format_fixed(precisions[n], 1);
  }
  s += " (BP = " + format_fixed(bp, 3) + " ratio = " + format_fixed(ratio, 3) +
       " hyp_len = " + std::to_string(hyp_len) + " ref_len = " + std::to_string(ref_len) + ")";
  return s;
}

std::vector<std::string> read_bleu_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw Error("cannot read " + path);
  const std::string text = buf.str();
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(pos));
      break;
    }
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

}  // namespace attend

// engine/logits_processors.cpp — transformers 4.30 logits processors (see the header) and the
// log_softmax used by beam search.
#include "engine/logits_processors.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "attend/error.hpp"

namespace attend {
namespace logits {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
inline bool in_vocab(int32_t id, int vocab) { return id >= 0 && id < vocab; }
}  // namespace

void repetition_penalty(const int32_t* history, int len, float penalty, float* scores, int vocab,
                        uint32_t* seen, uint32_t stamp) {
  // HF gathers the scores of all history tokens first and scatters the penalised values back,
  // so a repeated token is penalised once: mark tokens as done with `stamp`.
  for (int i = 0; i < len; ++i) {
    const int32_t t = history[i];
    if (!in_vocab(t, vocab) || seen[t] == stamp) continue;
    seen[t] = stamp;
    const float s = scores[t];
    scores[t] = s < 0.0f ? s * penalty : s / penalty;
  }
}

void no_repeat_ngram(const int32_t* history, int len, int n, float* scores, int vocab) {
  if (n <= 0 || len + 1 < n) return;
  // The n-1 most recent tokens form the prefix; every earlier n-gram starting with that
  // prefix bans its last token.
  const int32_t* prefix = history + (len - (n - 1));
  for (int s = 0; s + n <= len; ++s) {
    if (std::equal(prefix, prefix + (n - 1), history + s)) {
      const int32_t t = history[s + n - 1];
      if (in_vocab(t, vocab)) scores[t] = kNegInf;
    }
  }
}

void bad_words_multi(const int32_t* history, int len, const std::vector<std::vector<int32_t>>& words,
                     float* scores, int vocab) {
  for (const auto& w : words) {
    const int k = static_cast<int>(w.size()) - 1;  // tokens that must precede the banned one
    if (k > len) continue;
    if (std::equal(w.begin(), w.begin() + k, history + (len - k))) {
      const int32_t t = w.back();
      if (in_vocab(t, vocab)) scores[t] = kNegInf;
    }
  }
}

void force_token(int32_t token, float* scores, int vocab) {
  std::fill(scores, scores + vocab, kNegInf);
  if (in_vocab(token, vocab)) scores[token] = 0.0f;
}

namespace {

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define ATTEND_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ATTEND_MULTIVERSION
#endif

// exp(d) for d <= 0 in double, branch-free so the loop vectorizes: 2^n * p(r) with
// n = round(d / ln 2), r = d - n ln 2 (two-part ln 2), p the degree-13 Taylor polynomial on
// |r| <= ln2/2 (truncation below 5e-18 relative: a few ulp of double). The sum of these in
// double, then log and rounding to float, gives the same lse as std::exp except when the
// double result lies within a few double ulps of a float rounding boundary.
inline double exp_nonpositive(double d) {
  const double dd = std::max(d, -700.0);
  const double n = (dd * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0;
  const double r = (dd - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const int64_t bits = (static_cast<int64_t>(n) + 1023) << 52;
#if defined(__GNUC__)
  const double scale = __builtin_bit_cast(double, bits);  // no memcpy: keeps the loop vectorizable
#else
  double scale;
  std::memcpy(&scale, &bits, 8);
#endif
  return d < -700.0 ? 0.0 : p * scale;
}

ATTEND_MULTIVERSION
float max_of(const float* x, int n) {
  float m = kNegInf;
#pragma omp simd reduction(max : m)
  for (int i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

ATTEND_MULTIVERSION
double sum_exp(const float* x, int n, float mx) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < n; ++i) sum += exp_nonpositive(static_cast<double>(x[i] - mx));
  return sum;
}

ATTEND_MULTIVERSION
void subtract(float* x, int n, float mx, float lse) {
#pragma omp simd
  for (int i = 0; i < n; ++i) x[i] = (x[i] - mx) - lse;
}

}  // namespace

void log_softmax(float* x, int n) {
  if (n <= 0) return;
  const float mx = max_of(x, n);
  if (mx == kNegInf) return;  // everything -inf: leave as is (torch would produce NaN)
  if (std::isnan(mx)) {       // NaN logits: keep the exact scalar path's behaviour (NaN out)
    for (int i = 0; i < n; ++i) x[i] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  const float lse = static_cast<float>(std::log(sum_exp(x, n, mx)));
  subtract(x, n, mx, lse);
}

}  // namespace logits

LogitsProcessorList::LogitsProcessorList(const GenerationConfig& config, int vocab_size)
    : vocab_(vocab_size),
      repetition_penalty_(config.repetition_penalty),
      no_repeat_ngram_size_(config.no_repeat_ngram_size),
      min_length_(config.min_length),
      min_new_tokens_(config.min_new_tokens ? *config.min_new_tokens : 0),
      forced_bos_(config.forced_bos_token_id ? *config.forced_bos_token_id : -1),
      forced_eos_(config.forced_eos_token_id ? *config.forced_eos_token_id : -1),
      max_length_(config.resolved_max_length()) {
  if (vocab_size <= 0) throw Error("logits processors: vocabulary size must be positive");
  for (int32_t id : config.eos_token_ids)
    if (id >= 0 && id < vocab_size) eos_.push_back(id);
  // NoBadWordsLogitsProcessor drops entries that are exactly one EOS token.
  for (const auto& w : config.bad_words_ids) {
    if (w.empty()) throw Error("generation config: bad_words_ids entries must not be empty");
    if (w.size() == 1) {
      if (config.is_eos(w[0])) continue;
      if (w[0] >= 0 && w[0] < vocab_size) bad_single_.push_back(w[0]);
    } else {
      bad_multi_.push_back(w);
    }
  }
  if (repetition_penalty_ != 1.0f) seen_.assign(static_cast<size_t>(vocab_size), 0);
}

void LogitsProcessorList::apply(const int32_t* history, int len, float* scores) {
  if (repetition_penalty_ != 1.0f) {
    if (++stamp_ == 0) {  // wrapped: reset the scratch so stale marks cannot match
      std::fill(seen_.begin(), seen_.end(), 0u);
      stamp_ = 1;
    }
    logits::repetition_penalty(history, len, repetition_penalty_, scores, vocab_, seen_.data(), stamp_);
  }
  if (no_repeat_ngram_size_ > 0) logits::no_repeat_ngram(history, len, no_repeat_ngram_size_, scores, vocab_);
  if (!bad_single_.empty() || !bad_multi_.empty()) {
    for (int32_t t : bad_single_) scores[t] = -std::numeric_limits<float>::infinity();
    if (!bad_multi_.empty()) logits::bad_words_multi(history, len, bad_multi_, scores, vocab_);
  }
  if (len < min_length_ || len - 1 < min_new_tokens_)
    for (int32_t t : eos_) scores[t] = -std::numeric_limits<float>::infinity();
  if (forced_bos_ >= 0 && len == 1) logits::force_token(forced_bos_, scores, vocab_);
  if (forced_eos_ >= 0 && len == max_length_ - 1) logits::force_token(forced_eos_, scores, vocab_);
}

}  // namespace attend

// engine/decoding/logits_processors.cpp — transformers 4.30 logits processors (see the header) and the
// log_softmax used by beam search.
#include "engine/decoding/logits_processors.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif
#include <limits>

#include "attend/error.hpp"
#include "engine/kernels/simd.hpp"

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

namespace {
// The tokens no_repeat_ngram / bad_words_multi mask, each passed to ban(t) (in vocab only).
template <class Ban>
void for_ngram_bans(const int32_t* history, int len, int n, int vocab, Ban ban) {
  if (n <= 0 || len + 1 < n) return;
  // The n-1 most recent tokens form the prefix; every earlier n-gram starting with that
  // prefix bans its last token.
  const int32_t* prefix = history + (len - (n - 1));
  for (int s = 0; s + n <= len; ++s) {
    if (std::equal(prefix, prefix + (n - 1), history + s)) {
      const int32_t t = history[s + n - 1];
      if (in_vocab(t, vocab)) ban(t);
    }
  }
}

template <class Ban>
void for_bad_word_bans(const int32_t* history, int len, const std::vector<std::vector<int32_t>>& words, int vocab,
                       Ban ban) {
  for (const auto& w : words) {
    const int k = static_cast<int>(w.size()) - 1;  // tokens that must precede the banned one
    if (k > len) continue;
    if (std::equal(w.begin(), w.begin() + k, history + (len - k))) {
      const int32_t t = w.back();
      if (in_vocab(t, vocab)) ban(t);
    }
  }
}
}  // namespace

void no_repeat_ngram(const int32_t* history, int len, int n, float* scores, int vocab) {
  for_ngram_bans(history, len, n, vocab, [scores](int32_t t) { scores[t] = kNegInf; });
}

void bad_words_multi(const int32_t* history, int len, const std::vector<std::vector<int32_t>>& words,
                     float* scores, int vocab) {
  for_bad_word_bans(history, len, words, vocab, [scores](int32_t t) { scores[t] = kNegInf; });
}

void force_token(int32_t token, float* scores, int vocab) {
  std::fill(scores, scores + vocab, kNegInf);
  if (in_vocab(token, vocab)) scores[token] = 0.0f;
}

namespace {

// exp(d) for d <= 0 in double, branch-free so the loop vectorizes: 2^n * p(r) with
// n = round(d / ln 2), r = d - n ln 2 (two-part ln 2), p the degree-13 Taylor polynomial on
// |r| <= ln2/2 (truncation below 5e-18 relative: a few ulp of double). The sum of these in
// double, then log and rounding to float, gives the same lse as std::exp except when the
// double result lies within a few double ulps of a float rounding boundary.
inline double exp_nonpositive(double d) {
  const double dd = d < -700.0 ? -700.0 : d;
  // t = 1.5 * 2^52 + round(dd / ln 2): its low mantissa bits hold the integer n, so 2^n is
  // built with integer adds and shifts only (no float -> int conversion: vectorizes)
  const double t = dd * 1.4426950408889634 + 6755399441055744.0;
  const double n = t - 6755399441055744.0;
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
  uint64_t tb;
  std::memcpy(&tb, &t, 8);
  const uint64_t bits = (tb + 1023u) << 52;  // exponent field = n + 1023 (n >= -1010)
  double scale;
  std::memcpy(&scale, &bits, 8);
  const double e = p * scale;
  return d < -700.0 ? 0.0 : e;
}

double sum_exp_scalar(const float* x, int n, float mx) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += exp_nonpositive(static_cast<double>(x[i] - mx));
  return sum;
}

#if defined(__GNUC__) && defined(__x86_64__)
// The same arithmetic as exp_nonpositive, 8 lanes at a time (GCC does not vectorize the
// scalar form: it keeps the -inf test as a branch).
__attribute__((target("avx512f"))) double sum_exp_avx512(const float* x, int n, float mx) {
  const __m512d shift = _mm512_set1_pd(6755399441055744.0), lo_clamp = _mm512_set1_pd(-700.0);
  const __m512d log2e = _mm512_set1_pd(1.4426950408889634), ln2hi = _mm512_set1_pd(0.6931471803691238),
                ln2lo = _mm512_set1_pd(1.9082149292705877e-10);
  const double coef[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                         1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
                         1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        0.5,
                         1.0,                1.0};
  const __m256 vmx = _mm256_set1_ps(mx);
  __m512d acc = _mm512_setzero_pd();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d d = _mm512_maskz_cvtps_pd(0xFF, _mm256_sub_ps(_mm256_loadu_ps(x + i), vmx));
    const __mmask8 live = _mm512_cmp_pd_mask(d, lo_clamp, _CMP_GE_OQ);  // d >= -700 (not -inf, NaN)
    const __m512d dd = _mm512_maskz_max_pd(0xFF, d, lo_clamp);
    const __m512d t = _mm512_fmadd_pd(dd, log2e, shift);
    const __m512d nn = _mm512_sub_pd(t, shift);
    const __m512d r = _mm512_fnmadd_pd(nn, ln2lo, _mm512_fnmadd_pd(nn, ln2hi, dd));
    __m512d p = _mm512_set1_pd(coef[0]);
    for (int k = 1; k < 14; ++k) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(coef[k]));
    const __m512i bits = _mm512_maskz_slli_epi64(0xFF, _mm512_add_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(1023)), 52);
    const __m512d e = _mm512_mul_pd(p, _mm512_castsi512_pd(bits));
    acc = _mm512_mask_add_pd(acc, live, acc, e);
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, acc);
  double sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  for (; i < n; ++i) sum += exp_nonpositive(static_cast<double>(x[i] - mx));
  return sum;
}
#endif

double sum_exp(const float* x, int n, float mx) {
#if defined(__GNUC__) && defined(__x86_64__)
  if (simd::has_avx512()) return sum_exp_avx512(x, n, mx);  // the engine's one cpuid switch
#endif
  return sum_exp_scalar(x, n, mx);
}

ATTEND_MULTIVERSION
void subtract(float* x, int n, float mx, float lse) {
#pragma omp simd
  for (int i = 0; i < n; ++i) x[i] = (x[i] - mx) - lse;
}

}  // namespace

namespace {

// x - max - lse in place, lse = lse_of(x, n, max); all -inf stays as is, NaN logits give NaN.
template <class LseOf>
void log_softmax_with(float* x, int n, LseOf lse_of) {
  if (n <= 0) return;
  const float mx = simd::max_value(x, n);
  if (mx == kNegInf) return;  // everything -inf: leave as is (torch would produce NaN)
  if (std::isnan(mx)) {       // NaN logits: keep the exact scalar path's behaviour (NaN out)
    for (int i = 0; i < n; ++i) x[i] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  subtract(x, n, mx, lse_of(x, n, mx));
}

}  // namespace

void log_softmax(float* x, int n) {
  log_softmax_with(x, n, [](const float* v, int m, float mx) {
    return static_cast<float>(std::log(sum_exp(v, m, mx)));
  });
}

void log_softmax_fast(float* x, int n) {
  log_softmax_with(x, n, [](const float* v, int m, float mx) { return std::log(simd::sum_exp(v, m, mx)); });
}

}  // namespace logits

LogitsProcessorList::LogitsProcessorList(const GenerationConfig& config, int vocab_size, int prefix_length)
    : vocab_(vocab_size),
      repetition_penalty_(config.repetition_penalty),
      no_repeat_ngram_size_(config.no_repeat_ngram_size),
      min_length_(config.min_length),
      min_new_tokens_(config.min_new_tokens ? *config.min_new_tokens : 0),
      prefix_length_(prefix_length),
      forced_bos_(config.forced_bos_token_id ? *config.forced_bos_token_id : -1),
      forced_eos_(config.forced_eos_token_id ? *config.forced_eos_token_id : -1),
      max_length_(config.resolved_max_length(prefix_length)) {
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

bool LogitsProcessorList::masks_only(int len) const {
  return repetition_penalty_ == 1.0f && !(forced_bos_ >= 0 && len == 1) && !(forced_eos_ >= 0 && len == max_length_ - 1);
}

int32_t LogitsProcessorList::forced_token(int len) const {
  if (forced_eos_ >= 0 && len == max_length_ - 1) return forced_eos_;  // apply() forces it last
  if (forced_bos_ >= 0 && len == 1) return forced_bos_;
  return -1;
}

void LogitsProcessorList::banned(const int32_t* history, int len, std::vector<int32_t>& out) const {
  out.clear();
  auto ban = [&out](int32_t t) { out.push_back(t); };
  if (no_repeat_ngram_size_ > 0) logits::for_ngram_bans(history, len, no_repeat_ngram_size_, vocab_, ban);
  out.insert(out.end(), bad_single_.begin(), bad_single_.end());
  if (!bad_multi_.empty()) logits::for_bad_word_bans(history, len, bad_multi_, vocab_, ban);
  if (len < min_length_ || len - prefix_length_ < min_new_tokens_) out.insert(out.end(), eos_.begin(), eos_.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
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
  if (len < min_length_ || len - prefix_length_ < min_new_tokens_)
    for (int32_t t : eos_) scores[t] = -std::numeric_limits<float>::infinity();
  if (forced_bos_ >= 0 && len == 1) logits::force_token(forced_bos_, scores, vocab_);
  if (forced_eos_ >= 0 && len == max_length_ - 1) logits::force_token(forced_eos_, scores, vocab_);
}

}  // namespace attend

// engine/decoding/sampling.cpp — transformers 4.30's TemperatureLogitsWarper, TopKLogitsWarper,
// TopPLogitsWarper and TypicalLogitsWarper on one row of processed scores, and the counter-based
// draw of sample search.
#include "engine/decoding/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "attend/error.hpp"

namespace attend {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// softmax(scores) in double; returns the max (or -inf when nothing is finite) and fills probs.
double softmax_into(const float* scores, int n, std::vector<double>& probs) {
  probs.resize(static_cast<size_t>(n));
  float mx = kNegInf;
  for (int v = 0; v < n; ++v) mx = std::max(mx, scores[v]);
  if (mx == kNegInf) {
    std::fill(probs.begin(), probs.end(), 0.0);
    return mx;
  }
  double sum = 0;
  for (int v = 0; v < n; ++v) {
    const double e = scores[v] == kNegInf ? 0.0 : std::exp(static_cast<double>(scores[v]) - mx);
    probs[static_cast<size_t>(v)] = e;
    sum += e;
  }
  for (double& p : probs) p /= sum;
  return mx;
}

}  // namespace

LogitsWarperList::LogitsWarperList(const GenerationConfig& config, int vocab_size)
    : vocab_(vocab_size), temperature_(config.temperature), top_k_(config.top_k), top_p_(config.top_p),
      typical_p_(config.typical_p) {
  if (vocab_size <= 0) throw Error("logits warpers: vocabulary size must be positive");
}

void LogitsWarperList::apply(float* scores) {
  if (temperature_ != 1.0f)
    for (int v = 0; v < vocab_; ++v) scores[v] = scores[v] / temperature_;
  if (top_k_ != 0) top_k(scores);
  if (top_p_ < 1.0f) top_p(scores);
  if (typical_p_ < 1.0f) typical(scores);
}

// indices_to_remove = scores < topk(scores, k)[-1]: ties with the k-th are kept; with fewer than
// k finite scores the k-th is -inf and nothing is removed.
void LogitsWarperList::top_k(float* scores) {
  const int k = std::min(std::max(top_k_, 1), vocab_);
  if (k >= vocab_) return;
  std::vector<float> copy(scores, scores + vocab_);
  std::nth_element(copy.begin(), copy.begin() + (k - 1), copy.end(), std::greater<float>());
  const float kth = copy[static_cast<size_t>(k - 1)];
  for (int v = 0; v < vocab_; ++v)
    if (scores[v] < kth) scores[v] = kNegInf;
}

// Sorted ascending, cumulative softmax from the smallest; remove cumulative <= 1 - p; the most
// probable token always stays.
void LogitsWarperList::top_p(float* scores) {
  std::vector<double> probs;
  if (softmax_into(scores, vocab_, probs) == kNegInf) return;
  order_.resize(static_cast<size_t>(vocab_));
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(), [&](int32_t a, int32_t b) { return scores[a] < scores[b]; });
  const double limit = 1.0 - static_cast<double>(top_p_);
  double cum = 0;
  for (int i = 0; i < vocab_ - 1; ++i) {  // the last (largest) is always kept
    const int32_t t = order_[static_cast<size_t>(i)];
    cum += probs[static_cast<size_t>(t)];
    if (cum <= limit) scores[t] = kNegInf;
    else break;  // cumulative sums only grow
  }
}

// Tokens sorted by |-log p - entropy| ascending; keep the shortest head whose probability mass
// reaches typical_p (the first index where the cumulative mass is >= p, and every token tied
// with it in that key).
void LogitsWarperList::typical(float* scores) {
  std::vector<double> probs;
  const double mx = softmax_into(scores, vocab_, probs);
  if (mx == kNegInf) return;
  double ent = 0;
  for (double p : probs)
    if (p > 0) ent -= p * std::log(p);
  key_.resize(static_cast<size_t>(vocab_));
  for (int v = 0; v < vocab_; ++v) {
    const double p = probs[static_cast<size_t>(v)];
    key_[static_cast<size_t>(v)] = p > 0 ? std::fabs(-std::log(p) - ent) : std::numeric_limits<double>::infinity();
  }
  order_.resize(static_cast<size_t>(vocab_));
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(), [&](int32_t a, int32_t b) { return key_[a] < key_[b]; });
  // last_ind = number of sorted positions whose cumulative probability is < mass
  double cum = 0;
  int last = 0;
  for (int i = 0; i < vocab_; ++i) {
    cum += probs[static_cast<size_t>(order_[static_cast<size_t>(i)])];
    if (cum < static_cast<double>(typical_p_)) last = i + 1;
    else break;
  }
  last = std::min(last, vocab_ - 1);
  const double cut = key_[static_cast<size_t>(order_[static_cast<size_t>(last)])];
  for (int v = 0; v < vocab_; ++v)
    if (key_[static_cast<size_t>(v)] > cut) scores[v] = kNegInf;
}

double counter_uniform(uint64_t seed, uint64_t stream, uint64_t counter) {
  const uint64_t h = mix64(mix64(mix64(seed) ^ stream) ^ counter);
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

int32_t sample_from_scores(const float* scores, int vocab, double u) {
  float mx = kNegInf;
  for (int v = 0; v < vocab; ++v) mx = std::max(mx, scores[v]);
  if (mx == kNegInf) return -1;
  double total = 0;
  for (int v = 0; v < vocab; ++v)
    if (scores[v] != kNegInf) total += std::exp(static_cast<double>(scores[v]) - mx);
  const double target = u * total;
  double cum = 0;
  int32_t last = -1;
  for (int v = 0; v < vocab; ++v) {
    if (scores[v] == kNegInf) continue;
    cum += std::exp(static_cast<double>(scores[v]) - mx);
    last = v;
    if (cum > target) return v;
  }
  return last;  // rounding: u * total at the very end
}

}  // namespace attend

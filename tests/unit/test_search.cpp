// tests/unit/test_search.cpp — unit tests of the decoding layer: GenerationConfig JSON handling,
// the logits processors, greedy and beam search (hand-computed cases on a 5-token bigram model,
// batch-vs-single equivalence, row dropping, cancellation) and a property test against a
// straightforward re-implementation of transformers 4.30 greedy/beam search on random models.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "engine/decoding/generation_config.hpp"
#include "engine/decoding/logits_processors.hpp"
#include "engine/decoding/search.hpp"

using attend::EarlyStopping;
using attend::GenerationConfig;
using attend::Hypothesis;
using Ids = std::vector<int32_t>;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// ---------------------------------------------------------------------------------------------
// Fake models

// logits of the next token of input `input` whose decoder sequence so far is `history`.
using LogitFn = std::function<void(int input, const Ids& history, float* out)>;

// A StepModel whose rows remember (input, history) and whose logits are fn(input, history).
// Records the number of rows of every step so tests can check that finished rows are dropped.
class FakeStepModel : public attend::StepModel {
 public:
  FakeStepModel(int vocab, std::vector<int> inputs, LogitFn fn) : vocab_(vocab), fn_(std::move(fn)) {
    for (int in : inputs) rows_.push_back(Row{in, {}});
  }
  int vocab_size() const override { return vocab_; }
  int num_rows() const override { return static_cast<int>(rows_.size()); }
  float* step(const Ids& tokens) override {
    REQUIRE(tokens.size() == rows_.size());
    buf_.assign(rows_.size() * static_cast<size_t>(vocab_), std::nanf(""));
    for (size_t r = 0; r < rows_.size(); ++r) {
      REQUIRE(tokens[r] >= 0);
      REQUIRE(tokens[r] < vocab_);
      rows_[r].history.push_back(tokens[r]);
      fn_(rows_[r].input, rows_[r].history, buf_.data() + r * static_cast<size_t>(vocab_));
    }
    rows_per_step.push_back(static_cast<int>(rows_.size()));
    return buf_.data();
  }
  void select_rows(const std::vector<int32_t>& src) override {
    std::vector<Row> next;
    for (int32_t s : src) {
      REQUIRE(s >= 0);
      REQUIRE(s < static_cast<int32_t>(rows_.size()));
      next.push_back(rows_[static_cast<size_t>(s)]);
    }
    rows_ = std::move(next);
    ++select_calls;
  }

  std::vector<int> rows_per_step;
  int select_calls = 0;

 private:
  struct Row {
    int input;
    Ids history;
  };
  int vocab_;
  LogitFn fn_;
  std::vector<Row> rows_;
  std::vector<float> buf_;
};

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Pseudo-random model: logits are a hash of (seed, input, history, token) in [-3, 3), EOS tokens
// get `eos_bias`. `coarse` quantises the logits to multiples of 0.25 to provoke exact ties.
LogitFn hash_model(uint64_t seed, int vocab, Ids eos, float eos_bias, bool coarse) {
  return [=](int input, const Ids& history, float* out) {
    uint64_t h = splitmix(seed ^ (static_cast<uint64_t>(input) * 0x1234567ull));
    for (int32_t t : history) h = splitmix(h ^ static_cast<uint64_t>(t + 1));
    for (int v = 0; v < vocab; ++v) {
      const uint64_t r = splitmix(h + static_cast<uint64_t>(v) * 0x9E37ull);
      float x = static_cast<float>(static_cast<double>(r >> 40) / static_cast<double>(1ull << 24) * 6.0 - 3.0);
      if (coarse) x = std::round(x * 4.0f) / 4.0f;
      if (std::find(eos.begin(), eos.end(), v) != eos.end()) x += eos_bias;
      out[v] = x;
    }
  };
}

// A search over hash_model's tokens: EOS 1, pad and decoder start 0.
GenerationConfig hash_config(int num_beams, int num_return_sequences, int max_length) {
  GenerationConfig c;
  c.num_beams = num_beams;
  c.num_return_sequences = num_return_sequences;
  c.max_length = max_length;
  c.eos_token_ids = std::vector<int32_t>{1};
  c.pad_token_id = 0;
  c.decoder_start_token_id = 0;
  return c;
}

// The hand-crafted 5-token bigram model: logits = log P(next | last token), so log_softmax gives
// the log-probabilities back. Tokens: 0 = S (start and pad), 1 = E (EOS), 2 = A, 3 = B, 4 = C.
constexpr int32_t S = 0, E = 1, A = 2, B = 3, C = 4;
const double kP[5][5] = {
    /* after S */ {0.01, 0.05, 0.5, 0.4, 0.04},
    /* after E */ {0.2, 0.2, 0.2, 0.2, 0.2},
    /* after A */ {0.01, 0.6, 0.02, 0.02, 0.35},
    /* after B */ {0.01, 0.6, 0.02, 0.02, 0.35},
    /* after C */ {0.002, 0.99, 0.002, 0.004, 0.002},
};
double lnP(int32_t from, int32_t to) { return std::log(kP[from][to]); }

void bigram(int, const Ids& history, float* out) {
  for (int v = 0; v < 5; ++v) out[v] = static_cast<float>(std::log(kP[history.back()][v]));
}

GenerationConfig bigram_config(int num_beams) {
  GenerationConfig c;
  c.num_beams = num_beams;
  c.max_length = 20;
  c.decoder_start_token_id = S;
  c.pad_token_id = S;
  c.eos_token_ids = std::vector<int32_t>{E};
  return c;
}

// ---------------------------------------------------------------------------------------------
// Reference implementation: transformers 4.30 greedy_search / beam_search / BeamSearchScorer
// transcribed as plainly as possible (all rows of all inputs every step, pads for finished
// ones, full sorts, Python-like hypothesis lists). Independent of engine/*_search.cpp and
// engine/logits_processors.cpp.
namespace ref {

void log_softmax(std::vector<float>& x) {
  float mx = -kInf;
  for (float v : x) mx = std::max(mx, v);
  double sum = 0.0;
  for (float v : x) sum += std::exp(static_cast<double>(v - mx));
  const float lse = static_cast<float>(std::log(sum));
  for (float& v : x) v = (v - mx) - lse;
}

bool is_eos(const GenerationConfig& c, int32_t t) {
  for (int32_t e : c.eos_token_ids)
    if (e == t) return true;
  return false;
}

void process(const GenerationConfig& c, const Ids& ids, std::vector<float>& s) {
  const int V = static_cast<int>(s.size());
  const int len = static_cast<int>(ids.size());
  if (c.repetition_penalty != 1.0f) {  // gather, transform, scatter
    std::vector<float> g;
    for (int32_t t : ids) g.push_back(s[static_cast<size_t>(t)]);
    for (size_t i = 0; i < ids.size(); ++i)
      s[static_cast<size_t>(ids[i])] = g[i] < 0 ? g[i] * c.repetition_penalty : g[i] / c.repetition_penalty;
  }
  const int n = c.no_repeat_ngram_size;
  if (n > 0 && len + 1 >= n) {
    std::map<Ids, Ids> seen;
    for (int i = 0; i + n <= len; ++i)
      seen[Ids(ids.begin() + i, ids.begin() + i + n - 1)].push_back(ids[static_cast<size_t>(i + n - 1)]);
    for (int32_t t : seen[Ids(ids.end() - (n - 1), ids.end())]) s[static_cast<size_t>(t)] = -kInf;
  }
  for (const Ids& w : c.bad_words_ids) {
    bool is_single_eos = w.size() == 1 && is_eos(c, w[0]);
    if (is_single_eos) continue;
    const size_t k = w.size() - 1;
    if (k > ids.size()) continue;
    if (Ids(ids.end() - static_cast<std::ptrdiff_t>(k), ids.end()) == Ids(w.begin(), w.end() - 1))
      s[static_cast<size_t>(w.back())] = -kInf;
  }
  if (len < c.min_length)
    for (int32_t e : c.eos_token_ids) s[static_cast<size_t>(e)] = -kInf;
  if (c.min_new_tokens && len - 1 < *c.min_new_tokens)
    for (int32_t e : c.eos_token_ids) s[static_cast<size_t>(e)] = -kInf;
  if (c.forced_bos_token_id && len == 1) {
    for (int v = 0; v < V; ++v) s[static_cast<size_t>(v)] = -kInf;
    s[static_cast<size_t>(*c.forced_bos_token_id)] = 0.0f;
  }
  if (c.forced_eos_token_id && len == c.resolved_max_length() - 1) {
    for (int v = 0; v < V; ++v) s[static_cast<size_t>(v)] = -kInf;
    s[static_cast<size_t>(*c.forced_eos_token_id)] = 0.0f;
  }
}

struct Output {
  std::vector<Ids> sequences;                // HF `sequences`
  std::vector<float> scores;                 // beam: sequences_scores; greedy: sum of chosen
  std::vector<std::vector<float>> chosen;    // greedy: chosen_token_scores (up to the EOS)
  bool error = false;                        // HF raised (too many EOS candidates)
};

Output greedy(const LogitFn& fn, int vocab, int batch, const GenerationConfig& c) {
  Output out;
  std::vector<Ids> ids(static_cast<size_t>(batch), Ids{c.decoder_start_token_id});
  std::vector<int> unfinished(static_cast<size_t>(batch), 1);
  out.chosen.resize(static_cast<size_t>(batch));
  std::vector<double> sums(static_cast<size_t>(batch), 0.0);
  int cur_len = 1;
  while (true) {
    for (int b = 0; b < batch; ++b) {
      std::vector<float> s(static_cast<size_t>(vocab));
      fn(b, ids[static_cast<size_t>(b)], s.data());
      process(c, ids[static_cast<size_t>(b)], s);
      int32_t tok = static_cast<int32_t>(std::max_element(s.begin(), s.end()) - s.begin());
      if (!c.eos_token_ids.empty() && !unfinished[static_cast<size_t>(b)]) tok = c.pad_token_id;
      if (unfinished[static_cast<size_t>(b)]) {
        out.chosen[static_cast<size_t>(b)].push_back(s[static_cast<size_t>(tok)]);
        sums[static_cast<size_t>(b)] += s[static_cast<size_t>(tok)];
      }
      ids[static_cast<size_t>(b)].push_back(tok);
      if (is_eos(c, tok)) unfinished[static_cast<size_t>(b)] = 0;
    }
    ++cur_len;
    if (*std::max_element(unfinished.begin(), unfinished.end()) == 0 || cur_len >= c.resolved_max_length()) break;
  }
  out.sequences = ids;
  for (double s : sums) out.scores.push_back(static_cast<float>(s));
  return out;
}

struct Hyps {
  std::vector<std::pair<double, Ids>> beams;  // (score, ids without EOS)
  double worst = 1e9;
};

Output beam(const LogitFn& fn, int vocab, int batch, const GenerationConfig& c) {
  Output out;
  const int nb = c.num_beams;
  const int max_len = c.resolved_max_length();
  const double lp = c.length_penalty;
  std::vector<Ids> ids(static_cast<size_t>(batch * nb), Ids{c.decoder_start_token_id});
  std::vector<float> beam_scores(static_cast<size_t>(batch * nb), 0.0f);
  for (int i = 0; i < batch * nb; ++i)
    if (i % nb != 0) beam_scores[static_cast<size_t>(i)] = -1e9f;
  std::vector<Hyps> hyps(static_cast<size_t>(batch));
  std::vector<bool> done(static_cast<size_t>(batch), false);
  auto add = [&](Hyps& h, const Ids& hyp, float sum) {
    const double score = static_cast<double>(sum) / std::pow(static_cast<double>(hyp.size()), lp);
    if (static_cast<int>(h.beams.size()) < nb || score > h.worst) {
      h.beams.emplace_back(score, hyp);
      if (static_cast<int>(h.beams.size()) > nb) {
        std::vector<std::pair<double, size_t>> sorted;
        for (size_t i = 0; i < h.beams.size(); ++i) sorted.emplace_back(h.beams[i].first, i);
        std::sort(sorted.begin(), sorted.end());
        h.beams.erase(h.beams.begin() + static_cast<std::ptrdiff_t>(sorted[0].second));
        h.worst = sorted[1].first;
      } else {
        h.worst = std::min(score, h.worst);
      }
    }
  };
  auto is_done_fn = [&](const Hyps& h, float best, int cur_len) {
    if (static_cast<int>(h.beams.size()) < nb) return false;
    if (c.early_stopping == EarlyStopping::True) return true;
    double denom = std::pow(static_cast<double>(cur_len), lp);
    if (c.early_stopping == EarlyStopping::Never && lp > 0.0) denom = std::pow(static_cast<double>(max_len), lp);
    return h.worst >= static_cast<double>(best) / denom;
  };
  int cur_len = 1;
  while (true) {
    std::vector<std::vector<float>> scores(static_cast<size_t>(batch * nb));
    for (int i = 0; i < batch * nb; ++i) {
      std::vector<float> s(static_cast<size_t>(vocab));
      fn(i / nb, ids[static_cast<size_t>(i)], s.data());
      if (c.beam_suppress_pad_before_log_softmax) s[static_cast<size_t>(c.pad_token_id)] = -kInf;
      log_softmax(s);
      process(c, ids[static_cast<size_t>(i)], s);
      for (float& v : s) v = v + beam_scores[static_cast<size_t>(i)];
      scores[static_cast<size_t>(i)] = s;
    }
    std::vector<float> next_scores(static_cast<size_t>(batch * nb), 0.0f);
    std::vector<int32_t> next_tokens(static_cast<size_t>(batch * nb), c.pad_token_id);
    std::vector<int> next_idx(static_cast<size_t>(batch * nb), 0);
    for (int b = 0; b < batch; ++b) {
      std::vector<std::pair<float, int64_t>> all;  // (score, beam*V + token)
      for (int k = 0; k < nb; ++k)
        for (int v = 0; v < vocab; ++v)
          all.emplace_back(scores[static_cast<size_t>(b * nb + k)][static_cast<size_t>(v)],
                           static_cast<int64_t>(k) * vocab + v);
      std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) {
        return x.first > y.first || (x.first == y.first && x.second < y.second);
      });
      all.resize(static_cast<size_t>(std::min<int>(2 * nb, static_cast<int>(all.size()))));
      if (done[static_cast<size_t>(b)]) {
        for (int j = 0; j < nb; ++j) next_idx[static_cast<size_t>(b * nb + j)] = b * nb;
        continue;
      }
      int filled = 0;
      for (size_t rank = 0; rank < all.size(); ++rank) {
        const int k = static_cast<int>(all[rank].second / vocab);
        const int32_t tok = static_cast<int32_t>(all[rank].second % vocab);
        if (is_eos(c, tok)) {
          if (static_cast<int>(rank) >= nb) continue;
          add(hyps[static_cast<size_t>(b)], ids[static_cast<size_t>(b * nb + k)], all[rank].first);
        } else {
          next_scores[static_cast<size_t>(b * nb + filled)] = all[rank].first;
          next_tokens[static_cast<size_t>(b * nb + filled)] = tok;
          next_idx[static_cast<size_t>(b * nb + filled)] = b * nb + k;
          ++filled;
        }
        if (filled == nb) break;
      }
      if (filled < nb) {
        out.error = true;
        return out;
      }
      done[static_cast<size_t>(b)] = done[static_cast<size_t>(b)] ||
                                     is_done_fn(hyps[static_cast<size_t>(b)], all[0].first, cur_len + 1);
    }
    std::vector<Ids> next_ids;
    for (int i = 0; i < batch * nb; ++i) {
      next_ids.push_back(ids[static_cast<size_t>(next_idx[static_cast<size_t>(i)])]);
      next_ids.back().push_back(next_tokens[static_cast<size_t>(i)]);
    }
    ids = next_ids;
    beam_scores = next_scores;
    ++cur_len;
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; }) || cur_len >= max_len) break;
  }
  // finalize
  for (int b = 0; b < batch; ++b) {
    if (done[static_cast<size_t>(b)]) continue;
    for (int k = 0; k < nb; ++k)
      add(hyps[static_cast<size_t>(b)], ids[static_cast<size_t>(b * nb + k)], beam_scores[static_cast<size_t>(b * nb + k)]);
  }
  std::vector<Ids> best;
  for (int b = 0; b < batch; ++b) {
    auto sorted = hyps[static_cast<size_t>(b)].beams;
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (int j = 0; j < c.num_return_sequences; ++j) {
      best.push_back(sorted.back().second);
      out.scores.push_back(static_cast<float>(sorted.back().first));
      sorted.pop_back();
    }
  }
  size_t longest = 0;
  for (const Ids& h : best) longest = std::max(longest, h.size());
  const size_t width = std::min(longest + 1, static_cast<size_t>(max_len));
  for (const Ids& h : best) {
    Ids row(width, c.pad_token_id);
    std::copy(h.begin(), h.end(), row.begin());
    if (h.size() < width) row[h.size()] = c.eos_token_ids[0];
    out.sequences.push_back(row);
  }
  return out;
}

}  // namespace ref

std::vector<int> iota_inputs(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

}  // namespace

// =============================================================================================
// GenerationConfig

TEST_CASE("GenerationConfig::apply_json reads a fixture-style effective config", "[search][config]") {
  const auto j = nlohmann::json::parse(R"({
    "num_beams": 4, "num_return_sequences": 2, "max_length": 40, "max_new_tokens": 24,
    "min_length": 8, "min_new_tokens": null, "early_stopping": "never", "length_penalty": -0.7,
    "no_repeat_ngram_size": 3, "encoder_no_repeat_ngram_size": 0, "repetition_penalty": 1.5,
    "bad_words_ids": [[195, 249], [31]], "forced_bos_token_id": 0, "forced_eos_token_id": 2,
    "decoder_start_token_id": 2, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1,
    "renormalize_logits": false, "do_sample": false, "num_beam_groups": 1, "diversity_penalty": 0.0,
    "suppress_tokens": null, "begin_suppress_tokens": null, "forced_decoder_ids": null,
    "remove_invalid_values": false, "exponential_decay_length_penalty": null,
    "resolved_max_length": 25, "method": "beam"})");
  GenerationConfig c;
  c.apply_json(j);
  CHECK(c.num_beams == 4);
  CHECK(c.num_return_sequences == 2);
  CHECK(c.max_length == 40);
  REQUIRE(c.max_new_tokens);
  CHECK(*c.max_new_tokens == 24);
  CHECK(c.resolved_max_length() == 25);
  CHECK(c.min_length == 8);
  CHECK_FALSE(c.min_new_tokens);
  CHECK(c.early_stopping == EarlyStopping::Never);
  CHECK(c.length_penalty == Approx(-0.7));
  CHECK(c.no_repeat_ngram_size == 3);
  CHECK(c.repetition_penalty == Approx(1.5));
  CHECK(c.bad_words_ids == std::vector<Ids>{{195, 249}, {31}});
  CHECK(c.forced_bos_token_id == std::optional<int32_t>(0));
  CHECK(c.forced_eos_token_id == std::optional<int32_t>(2));
  CHECK(c.decoder_start_token_id == 2);
  CHECK(c.eos_token_ids == Ids{2});
  CHECK(c.pad_token_id == 1);
  CHECK(c.is_eos(2));
  CHECK_FALSE(c.is_eos(1));
  c.validate();

  // to_json round-trips.
  GenerationConfig d;
  d.apply_json(c.to_json());
  CHECK(d.to_json() == c.to_json());
  CHECK(c.to_json()["early_stopping"] == "never");
  CHECK(c.to_json()["eos_token_id"] == 2);
}

TEST_CASE("GenerationConfig::apply_json: lists, nulls, booleans and errors", "[search][config]") {
  GenerationConfig c;
  c.forced_bos_token_id = 5;
  c.max_new_tokens = 3;
  c.bad_words_ids = {{1}};
  c.apply_json(nlohmann::json::parse(
      R"({"eos_token_id": [3, 7], "early_stopping": true, "forced_bos_token_id": null,
          "max_new_tokens": null, "bad_words_ids": null, "some_unknown_key": {"x": 1}})"));
  CHECK(c.eos_token_ids == Ids{3, 7});
  CHECK(c.early_stopping == EarlyStopping::True);
  CHECK_FALSE(c.forced_bos_token_id);
  CHECK_FALSE(c.max_new_tokens);
  CHECK(c.bad_words_ids.empty());
  CHECK(c.to_json()["eos_token_id"] == nlohmann::json::array({3, 7}));
  c.apply_json(nlohmann::json::parse(R"({"early_stopping": false, "pad_token_id": null})"));
  CHECK(c.early_stopping == EarlyStopping::False);
  CHECK(c.pad_token_id == 3);  // HF: pad falls back to the first EOS
  c.apply_json(nlohmann::json::parse(R"({"forced_eos_token_id": [9]})"));
  CHECK(c.forced_eos_token_id == std::optional<int32_t>(9));

  auto throws_naming = [](const char* text, const char* key) {
    GenerationConfig g;
    try {
      g.apply_json(nlohmann::json::parse(text));
      FAIL("no exception for " << text);
    } catch (const attend::Error& e) {
      CHECK(std::string(e.what()).find(key) != std::string::npos);
    }
  };
  throws_naming(R"({"num_beams": "four"})", "num_beams");
  throws_naming(R"({"num_beams": 2.5})", "num_beams");
  throws_naming(R"({"early_stopping": "sometimes"})", "early_stopping");
  throws_naming(R"({"eos_token_id": [1, "x"]})", "eos_token_id");
  throws_naming(R"({"bad_words_ids": [1, 2]})", "bad_words_ids");
  throws_naming(R"({"length_penalty": "big"})", "length_penalty");
  throws_naming(R"({"do_sample": "yes"})", "do_sample");
  throws_naming(R"({"top_k": 1.5})", "top_k");
  throws_naming(R"({"epsilon_cutoff": 0.1})", "epsilon_cutoff");
  CHECK_THROWS_AS(c.apply_json(nlohmann::json::array()), attend::Error);
}

TEST_CASE("GenerationConfig::validate rejects bad ranges", "[search][config]") {
  auto bad = [](std::function<void(GenerationConfig&)> f) {
    GenerationConfig c;
    c.eos_token_ids = std::vector<int32_t>{1};
    f(c);
    CHECK_THROWS_AS(c.validate(), attend::Error);
  };
  bad([](GenerationConfig& c) { c.num_beams = 0; });
  bad([](GenerationConfig& c) { c.num_return_sequences = 2; });  // > num_beams
  bad([](GenerationConfig& c) { c.max_length = 1; });
  bad([](GenerationConfig& c) { c.max_new_tokens = 0; });
  bad([](GenerationConfig& c) { c.repetition_penalty = 0.0f; });
  bad([](GenerationConfig& c) { c.bad_words_ids = {{}}; });
  bad([](GenerationConfig& c) { c.no_repeat_ngram_size = -1; });
  GenerationConfig ok;
  ok.num_beams = 3;
  ok.num_return_sequences = 3;
  CHECK_NOTHROW(ok.validate());
}

// =============================================================================================
// Logits processors

TEST_CASE("repetition penalty divides positive and multiplies negative scores once per token",
          "[search][processors]") {
  GenerationConfig c;
  c.repetition_penalty = 2.0f;
  attend::LogitsProcessorList p(c, 5);
  std::vector<float> s = {2.0f, -2.0f, 1.0f, 0.5f, -1.0f};
  p.apply(Ids{0, 1, 1, 3}, s.data());  // token 1 twice: penalised once
  CHECK(s == std::vector<float>{1.0f, -4.0f, 1.0f, 0.25f, -1.0f});
  // The scratch marks of the previous call must not leak into the next one.
  std::vector<float> t = {2.0f, -2.0f, 1.0f, 0.5f, -1.0f};
  p.apply(Ids{4}, t.data());
  CHECK(t == std::vector<float>{2.0f, -2.0f, 1.0f, 0.5f, -2.0f});
}

TEST_CASE("no_repeat_ngram bans tokens completing an earlier n-gram", "[search][processors]") {
  GenerationConfig c;
  c.no_repeat_ngram_size = 2;
  attend::LogitsProcessorList p2(c, 6);
  std::vector<float> s(6, 1.0f);
  p2.apply(Ids{0, 1, 2, 1}, s.data());  // bigrams (0,1) (1,2) (2,1); prefix (1) -> ban 2
  CHECK(s == std::vector<float>{1, 1, -kInf, 1, 1, 1});

  c.no_repeat_ngram_size = 3;
  attend::LogitsProcessorList p3(c, 6);
  s.assign(6, 1.0f);
  p3.apply(Ids{5, 1, 2, 5, 1}, s.data());  // prefix (5,1) seen before followed by 2
  CHECK(s == std::vector<float>{1, 1, -kInf, 1, 1, 1});
  s.assign(6, 1.0f);
  p3.apply(Ids{5}, s.data());  // len + 1 < n: nothing
  CHECK(s == std::vector<float>(6, 1.0f));
  s.assign(6, 1.0f);
  p3.apply(Ids{5, 5}, s.data());  // (5,5) is the prefix, but no complete trigram yet
  CHECK(s == std::vector<float>(6, 1.0f));
  s.assign(6, 1.0f);
  p3.apply(Ids{5, 5, 5}, s.data());  // trigram (5,5,5) exists, prefix (5,5) -> ban 5
  CHECK(s == std::vector<float>{1, 1, 1, 1, 1, -kInf});

  c.no_repeat_ngram_size = 1;  // every token already present is banned
  attend::LogitsProcessorList p1(c, 6);
  s.assign(6, 1.0f);
  p1.apply(Ids{0, 3}, s.data());
  CHECK(s == std::vector<float>{-kInf, 1, 1, -kInf, 1, 1});
}

TEST_CASE("bad_words: single tokens always, multi-token words only after their prefix",
          "[search][processors]") {
  GenerationConfig c;
  c.eos_token_ids = std::vector<int32_t>{1};
  c.bad_words_ids = {{3}, {4, 2}, {0, 4, 5}, {1}};  // [1] = [eos] is dropped as in HF
  attend::LogitsProcessorList p(c, 6);
  std::vector<float> s(6, 1.0f);
  p.apply(Ids{0, 1}, s.data());
  CHECK(s == std::vector<float>{1, 1, 1, -kInf, 1, 1});
  s.assign(6, 1.0f);
  p.apply(Ids{0, 4}, s.data());  // [4,2] matches -> ban 2; [0,4,5] matches -> ban 5
  CHECK(s == std::vector<float>{1, 1, -kInf, -kInf, 1, -kInf});
  s.assign(6, 1.0f);
  p.apply(Ids{2, 4}, s.data());  // only [4,2]
  CHECK(s == std::vector<float>{1, 1, -kInf, -kInf, 1, 1});
  s.assign(6, 1.0f);
  p.apply(Ids{4}, s.data());  // [0,4,5] needs two tokens before
  CHECK(s == std::vector<float>{1, 1, -kInf, -kInf, 1, 1});
}

TEST_CASE("LogitsProcessorList::banned lists exactly what apply() masks; masks_only knows when", "[search][processors]") {
  GenerationConfig c;
  c.eos_token_ids = std::vector<int32_t>{1};
  c.bad_words_ids = {{3}, {4, 2}, {0, 4, 5}};
  c.no_repeat_ngram_size = 2;
  c.min_length = 4;
  c.forced_eos_token_id = 1;
  c.max_length = 6;
  attend::LogitsProcessorList p(c, 8);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> tok(0, 7);
  int checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    Ids h{0};
    const int len = 1 + trial % 5;
    while (static_cast<int>(h.size()) < len) h.push_back(tok(rng));
    INFO("history length " << h.size());
    CHECK(p.masks_only(static_cast<int>(h.size())) == (h.size() != 5));  // forced EOS at max_length - 1
    if (!p.masks_only(static_cast<int>(h.size()))) continue;
    std::vector<float> s(8, 0.25f);
    p.apply(h, s.data());
    Ids masked;
    for (int32_t v = 0; v < 8; ++v)
      if (s[static_cast<size_t>(v)] == -kInf) masked.push_back(v);
    Ids listed;
    p.banned(h, listed);
    CHECK(listed == masked);
    ++checked;
  }
  CHECK(checked > 100);
  GenerationConfig r;
  r.repetition_penalty = 1.2f;  // changes values: not a mask
  CHECK_FALSE(attend::LogitsProcessorList(r, 8).masks_only(3));
}

TEST_CASE("min_length / min_new_tokens mask every EOS while the sequence is too short",
          "[search][processors]") {
  GenerationConfig c;
  c.eos_token_ids = std::vector<int32_t>{1, 3};
  c.min_length = 3;  // counts the start token
  attend::LogitsProcessorList p(c, 4);
  std::vector<float> s(4, 0.5f);
  p.apply(Ids{0, 2}, s.data());
  CHECK(s == std::vector<float>{0.5f, -kInf, 0.5f, -kInf});
  s.assign(4, 0.5f);
  p.apply(Ids{0, 2, 2}, s.data());
  CHECK(s == std::vector<float>(4, 0.5f));

  GenerationConfig d;
  d.eos_token_ids = std::vector<int32_t>{1};
  d.min_new_tokens = 2;  // generated tokens, start token excluded
  attend::LogitsProcessorList q(d, 4);
  s.assign(4, 0.5f);
  q.apply(Ids{0, 2}, s.data());
  CHECK(s == std::vector<float>{0.5f, -kInf, 0.5f, 0.5f});
  s.assign(4, 0.5f);
  q.apply(Ids{0, 2, 2}, s.data());
  CHECK(s == std::vector<float>(4, 0.5f));
}

TEST_CASE("forced BOS at step 1 and forced EOS at max_length-1, applied last", "[search][processors]") {
  GenerationConfig c;
  c.eos_token_ids = std::vector<int32_t>{1};
  c.forced_bos_token_id = 2;
  c.forced_eos_token_id = 1;
  c.max_length = 5;
  c.min_length = 10;               // masks EOS, but forced EOS comes later and wins
  c.bad_words_ids = {{2}};         // bans 2, but forced BOS comes later and wins
  attend::LogitsProcessorList p(c, 4);
  std::vector<float> s = {0.1f, 0.2f, 0.3f, 0.4f};
  p.apply(Ids{0}, s.data());
  CHECK(s == std::vector<float>{-kInf, -kInf, 0.0f, -kInf});
  s = {0.1f, 0.2f, 0.3f, 0.4f};
  p.apply(Ids{0, 2, 3}, s.data());  // len 3: nothing forced; EOS masked (min_length), 2 banned
  CHECK(s == std::vector<float>{0.1f, -kInf, -kInf, 0.4f});
  s = {0.1f, 0.2f, 0.3f, 0.4f};
  p.apply(Ids{0, 2, 3, 3}, s.data());  // len 4 = max_length - 1
  CHECK(s == std::vector<float>{-kInf, 0.0f, -kInf, -kInf});

  GenerationConfig d = c;
  d.max_new_tokens = 2;  // resolved max length 3 -> forced at len 2
  attend::LogitsProcessorList q(d, 4);
  s = {0.1f, 0.2f, 0.3f, 0.4f};
  q.apply(Ids{0, 2}, s.data());
  CHECK(s == std::vector<float>{-kInf, 0.0f, -kInf, -kInf});
}

TEST_CASE("processors run in HF order: repetition penalty before the masks", "[search][processors]") {
  GenerationConfig c;
  c.repetition_penalty = 4.0f;
  c.no_repeat_ngram_size = 1;  // bans every seen token after the penalty touched it
  attend::LogitsProcessorList p(c, 3);
  std::vector<float> s = {8.0f, 8.0f, 8.0f};
  p.apply(Ids{1}, s.data());
  CHECK(s == std::vector<float>{8.0f, -kInf, 8.0f});
}

TEST_CASE("log_softmax", "[search][processors]") {
  std::vector<float> x = {0.0f, static_cast<float>(std::log(3.0)), -kInf};
  attend::logits::log_softmax(x.data(), 3);
  CHECK(x[0] == Approx(std::log(0.25)).margin(1e-6));
  CHECK(x[1] == Approx(std::log(0.75)).margin(1e-6));
  CHECK(x[2] == -kInf);
  std::vector<float> big = {1000.0f, 1000.0f};
  attend::logits::log_softmax(big.data(), 2);
  CHECK(big[0] == Approx(std::log(0.5)).margin(1e-6));
}

// =============================================================================================
// Greedy search

TEST_CASE("greedy: argmax of processed raw logits, stops at EOS, pads in the batch layout",
          "[search][greedy]") {
  GenerationConfig c = bigram_config(1);
  FakeStepModel m(5, {0}, bigram);
  auto res = attend::generate(m, c);
  REQUIRE(res.size() == 1);
  REQUIRE(res[0].size() == 1);
  // S -> A (0.5) -> E (0.6)
  CHECK(res[0][0].ids == Ids{S, A, E});
  CHECK(attend::ended_by_eos(res[0][0], c));
  REQUIRE(res[0][0].token_scores.size() == 2);
  CHECK(res[0][0].token_scores[0] == static_cast<float>(lnP(S, A)));
  CHECK(res[0][0].token_scores[1] == static_cast<float>(lnP(A, E)));
  CHECK(res[0][0].score == Approx(lnP(S, A) + lnP(A, E)));

  // Batch: input 1 has no EOS (a model that never wants it) -> runs to max_length.
  LogitFn fn = [](int input, const Ids& h, float* out) {
    bigram(input, h, out);
    if (input == 1) out[E] = -100.0f;
  };
  c.max_length = 6;
  FakeStepModel mb(5, {0, 1}, fn);
  auto rb = attend::generate(mb, c);
  CHECK(rb[0][0].ids == Ids{S, A, E});
  // input 1: S -> A -> C (0.35) -> B (0.004 beats 0.002s) -> C -> B, cut at 6 tokens
  CHECK(rb[1][0].ids == Ids{S, A, C, B, C, B});
  CHECK_FALSE(attend::ended_by_eos(rb[1][0], c));
  // After input 0 emitted EOS (step 2) its row is gone.
  CHECK(mb.rows_per_step == std::vector<int>{2, 2, 1, 1, 1});
  auto seqs = attend::to_hf_sequences(rb, c);
  CHECK(seqs == std::vector<Ids>{{S, A, E, S, S, S}, {S, A, C, B, C, B}});
}

TEST_CASE("greedy: forced BOS has score 0, min_length delays EOS, forced EOS at the limit",
          "[search][greedy]") {
  GenerationConfig c = bigram_config(1);
  c.forced_bos_token_id = C;
  FakeStepModel m(5, {0}, bigram);
  auto r = attend::generate(m, c);
  CHECK(r[0][0].ids == Ids{S, C, E});
  CHECK(r[0][0].token_scores == std::vector<float>{0.0f, static_cast<float>(lnP(C, E))});

  GenerationConfig d = bigram_config(1);
  d.min_length = 4;  // EOS banned while length (with S) < 4
  FakeStepModel m2(5, {0}, bigram);
  auto r2 = attend::generate(m2, d);
  // S A, then EOS masked at len 2 -> C (0.35); at len 3 EOS masked -> B (0.004); then E.
  CHECK(r2[0][0].ids == Ids{S, A, C, B, E});

  GenerationConfig e = bigram_config(1);
  e.eos_token_ids = std::vector<int32_t>{E};
  e.forced_eos_token_id = E;
  e.max_length = 4;
  LogitFn no_eos = [](int, const Ids& h, float* out) {
    bigram(0, h, out);
    out[E] = -50.0f;
  };
  FakeStepModel m3(5, {0}, no_eos);
  auto r3 = attend::generate(m3, e);
  CHECK(r3[0][0].ids == Ids{S, A, C, E});
  CHECK(r3[0][0].token_scores.back() == 0.0f);
}

// =============================================================================================
// Beam search on the hand-crafted bigram model (num_beams = 2, so 4 candidates per step).
//
// Step 1 (only beam 0 alive): A (.5), B (.4), E (.05), C (.04) -> E has rank 2 >= num_beams and
//   is ignored; beams SA = ln.5, SB = ln.4.
// Step 2: SA+E = ln.5+ln.6, SB+E = ln.4+ln.6 (ranks 0,1 -> both become hypotheses of length 2),
//   SA+C = ln.5+ln.35, SB+C = ln.4+ln.35 -> the new beams SAC, SBC.
// Step 3: SAC+E = ln.5+ln.35+ln.99 (len 3), SBC+E likewise -> hypotheses; beams SACB, SBCB.
//   With length_penalty 1: SACE = -1.753/3 = -0.584 beats SAE = -1.204/2 = -0.602.

TEST_CASE("beam: early_stopping true stops with the first num_beams hypotheses", "[search][beam]") {
  GenerationConfig c = bigram_config(2);
  c.early_stopping = EarlyStopping::True;
  c.num_return_sequences = 2;
  FakeStepModel m(5, {0}, bigram);
  auto r = attend::generate(m, c);
  REQUIRE(r[0].size() == 2);
  CHECK(r[0][0].ids == Ids{S, A, E});
  CHECK(r[0][0].score == Approx((lnP(S, A) + lnP(A, E)) / 2).epsilon(1e-5));
  CHECK(r[0][1].ids == Ids{S, B, E});
  CHECK(r[0][1].score == Approx((lnP(S, B) + lnP(B, E)) / 2).epsilon(1e-5));
  CHECK(m.rows_per_step == std::vector<int>{1, 2});  // first step: one shared row
  CHECK(attend::to_hf_sequences(r, c) == std::vector<Ids>{{S, A, E}, {S, B, E}});
}

TEST_CASE("beam: early_stopping false keeps searching and finds a better longer hypothesis",
          "[search][beam]") {
  GenerationConfig c = bigram_config(2);
  c.early_stopping = EarlyStopping::False;
  c.num_return_sequences = 2;
  FakeStepModel m(5, {0}, bigram);
  auto r = attend::generate(m, c);
  const double sace = lnP(S, A) + lnP(A, C) + lnP(C, E);
  const double sae = lnP(S, A) + lnP(A, E);
  CHECK(r[0][0].ids == Ids{S, A, C, E});
  CHECK(r[0][0].score == Approx(sace / 3).epsilon(1e-5));
  CHECK(r[0][1].ids == Ids{S, A, E});
  CHECK(r[0][1].score == Approx(sae / 2).epsilon(1e-5));
  // Done-check after step 4 (cur_len 5): the best candidate, SACB+E = -7.78, / 5 is below the
  // worst hypothesis (SAE, -0.602) -> done after 4 steps.
  CHECK(m.rows_per_step.size() == 4);
  // Row layout: EOS appended to both (stored lengths 3 and 2 < min(3+1, 20)), pad after.
  CHECK(attend::to_hf_sequences(r, c) == std::vector<Ids>{{S, A, C, E}, {S, A, E, S}});
}

TEST_CASE("beam: length_penalty changes the winner", "[search][beam]") {
  // length_penalty 0 (sums, no normalisation): SAE = -1.204 beats SACE = -1.753, and the
  // done-check at step 3 (best -1.753 <= worst SBE -1.427) stops.
  GenerationConfig c = bigram_config(2);
  c.length_penalty = 0.0f;
  FakeStepModel m(5, {0}, bigram);
  auto r = attend::generate(m, c);
  CHECK(r[0][0].ids == Ids{S, A, E});
  CHECK(r[0][0].score == Approx(lnP(S, A) + lnP(A, E)).epsilon(1e-5));
  CHECK(m.rows_per_step.size() == 3);

  // length_penalty 2: divided by len^2: SACE/9 = -0.195 is best, SBCE/9 second.
  GenerationConfig d = bigram_config(2);
  d.length_penalty = 2.0f;
  d.num_return_sequences = 2;
  FakeStepModel m2(5, {0}, bigram);
  auto r2 = attend::generate(m2, d);
  CHECK(r2[0][0].ids == Ids{S, A, C, E});
  CHECK(r2[0][0].score == Approx((lnP(S, A) + lnP(A, C) + lnP(C, E)) / 9).epsilon(1e-5));
  CHECK(r2[0][1].ids == Ids{S, B, C, E});
  CHECK(r2[0][1].score == Approx((lnP(S, B) + lnP(B, C) + lnP(C, E)) / 9).epsilon(1e-5));

  // length_penalty -1 multiplies by the length: the short SAE wins.
  GenerationConfig e = bigram_config(2);
  e.length_penalty = -1.0f;
  FakeStepModel m3(5, {0}, bigram);
  auto r3 = attend::generate(m3, e);
  CHECK(r3[0][0].ids == Ids{S, A, E});
  CHECK(r3[0][0].score == Approx((lnP(S, A) + lnP(A, E)) * 2).epsilon(1e-5));
}

TEST_CASE("beam: early_stopping never with length_penalty > 0 bounds with max_length",
          "[search][beam]") {
  // With length_penalty 2 and max_length 20, "false" stops after step 4 (as above), but "never"
  // divides the best candidate by 20^2 and cannot stop before the limit: the beam cycling
  // C B C B ... ends up cut at 20 tokens and, divided by 400, beats SACE/9.
  GenerationConfig c = bigram_config(2);
  c.length_penalty = 2.0f;
  c.early_stopping = EarlyStopping::Never;
  FakeStepModel m(5, {0}, bigram);
  auto r = attend::generate(m, c);
  Ids expected = {S, A, C};
  double sum = lnP(S, A) + lnP(A, C);
  for (int i = 0; i < 8; ++i) {
    expected.push_back(B);
    expected.push_back(C);
    sum += lnP(C, B) + lnP(B, C);
  }
  expected.push_back(B);
  sum += lnP(C, B);
  CHECK(r[0][0].ids == expected);
  CHECK_FALSE(attend::ended_by_eos(r[0][0], c));
  CHECK(r[0][0].score == Approx(sum / 400).epsilon(1e-5));
  CHECK(m.rows_per_step.size() == 19);
  // Same setting with "false": stops early with SACE.
  c.early_stopping = EarlyStopping::False;
  FakeStepModel m2(5, {0}, bigram);
  CHECK(attend::generate(m2, c)[0][0].ids == Ids{S, A, C, E});
  CHECK(m2.rows_per_step.size() == 4);
}

TEST_CASE("beam: max_length cut adds the running beams as hypotheses without EOS", "[search][beam]") {
  // max_length 3: after step 2 the hypotheses are SAE (-0.602), SBE (-0.714); the running beams
  // SAC (-1.743/3 = -0.581) and SBC (-0.655) are added by finalize: SAC replaces SBE, SBC
  // (-0.655 < worst -0.602) is rejected.
  GenerationConfig c = bigram_config(2);
  c.max_length = 3;
  c.num_return_sequences = 2;
  FakeStepModel m(5, {0}, bigram);
  auto r = attend::generate(m, c);
  CHECK(r[0][0].ids == Ids{S, A, C});
  CHECK_FALSE(attend::ended_by_eos(r[0][0], c));
  CHECK(r[0][0].score == Approx((lnP(S, A) + lnP(A, C)) / 3).epsilon(1e-5));
  CHECK(r[0][1].ids == Ids{S, A, E});
  // Row length min(3 + 1, max_length 3) = 3: the cut row gets no EOS.
  CHECK(attend::to_hf_sequences(r, c) == std::vector<Ids>{{S, A, C}, {S, A, E}});
  // Same via max_new_tokens.
  GenerationConfig d = bigram_config(2);
  d.max_new_tokens = 2;
  d.num_return_sequences = 2;
  FakeStepModel m2(5, {0}, bigram);
  CHECK(attend::to_hf_sequences(attend::generate(m2, d), d) == std::vector<Ids>{{S, A, C}, {S, A, E}});
}

TEST_CASE("beam: forced BOS step adds 0, Marian pad suppression renormalises", "[search][beam]") {
  GenerationConfig c = bigram_config(2);
  c.forced_bos_token_id = C;
  c.max_length = 3;
  FakeStepModel m(5, {0}, bigram);
  auto r = attend::generate(m, c);
  CHECK(r[0][0].ids == Ids{S, C, E});
  CHECK(r[0][0].score == Approx(lnP(C, E) / 2).epsilon(1e-5));

  GenerationConfig d = bigram_config(2);
  d.early_stopping = EarlyStopping::True;
  d.beam_suppress_pad_before_log_softmax = true;  // pad = S, probability renormalised without it
  FakeStepModel m2(5, {0}, bigram);
  auto r2 = attend::generate(m2, d);
  CHECK(r2[0][0].ids == Ids{S, A, E});
  const double renorm = std::log(1.0 - 0.01);
  CHECK(r2[0][0].score == Approx((lnP(S, A) - renorm + lnP(A, E) - renorm) / 2).epsilon(1e-5));
}

// FakeStepModel that advances without logits at forced steps (StepModel::step_without_logits),
// counting them; its logits, when asked, are those of the plain fake.
class LogitFreeFake : public FakeStepModel {
 public:
  using FakeStepModel::FakeStepModel;
  bool step_without_logits(const Ids& tokens) override {
    step(tokens);  // the histories advance; the logits are computed here but never read
    ++logit_free_steps;
    return true;
  }
  int logit_free_steps = 0;
};

TEST_CASE("beam: forced steps without logits give the hypotheses and scores of the logits path", "[search][beam]") {
  // Forced BOS at the first step and forced EOS at max_length - 1: the search takes every
  // beam's candidates from the forced row instead of the model's logits (int8 and large fp32
  // heads skip their LM head there); the results must not change, ties and -inf candidates
  // included (coarse logits), with and without a pad suppressed before log_softmax.
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    for (const bool suppress_pad : {false, true}) {
      const int V = 9;
      LogitFn fn = hash_model(seed, V, {1}, 0.5f, seed % 2 == 0);
      GenerationConfig c = hash_config(3, 3, 6);
      c.forced_bos_token_id = 4;
      c.forced_eos_token_id = 1;
      c.beam_suppress_pad_before_log_softmax = suppress_pad;
      FakeStepModel plain(V, iota_inputs(3), fn);
      LogitFreeFake free(V, iota_inputs(3), fn);
      const auto want = attend::generate(plain, c);
      const auto got = attend::generate(free, c);
      INFO("seed " << seed << " suppress_pad " << suppress_pad);
      CHECK(free.logit_free_steps == 2);  // the forced BOS and the forced EOS step
      CHECK(free.rows_per_step == plain.rows_per_step);
      REQUIRE(got.size() == want.size());
      for (size_t b = 0; b < want.size(); ++b) {
        REQUIRE(got[b].size() == want[b].size());
        for (size_t j = 0; j < want[b].size(); ++j) {
          CHECK(got[b][j].ids == want[b][j].ids);
          CHECK(got[b][j].score == want[b][j].score);
          CHECK(got[b][j].token_scores == want[b][j].token_scores);
        }
        CHECK(want[b][0].ids[1] == 4);
      }
    }
  }
}

TEST_CASE("beam: finished inputs' rows are dropped, batch equals single", "[search][beam]") {
  // Input 1 never emits EOS and runs to the limit; input 0 is the bigram model.
  LogitFn fn = [](int input, const Ids& h, float* out) {
    bigram(input, h, out);
    if (input == 1) out[E] = -100.0f;
  };
  GenerationConfig c = bigram_config(2);
  c.max_length = 8;
  c.early_stopping = EarlyStopping::True;
  FakeStepModel mb(5, {0, 1}, fn);
  auto rb = attend::generate(mb, c);
  // Input 0 is done after step 2 (early_stopping true, two hypotheses): 2 rows remain.
  CHECK(mb.rows_per_step == std::vector<int>{2, 4, 2, 2, 2, 2, 2});
  for (int b = 0; b < 2; ++b) {
    FakeStepModel ms(5, {b}, fn);
    auto rs = attend::generate(ms, c);
    CHECK(rs[0][0].ids == rb[static_cast<size_t>(b)][0].ids);
    CHECK(rs[0][0].score == rb[static_cast<size_t>(b)][0].score);
  }
  CHECK(rb[0][0].ids == Ids{S, A, E});
  CHECK(rb[1][0].ids.size() == 8);
}

TEST_CASE("generate: batch of random inputs equals each input alone (greedy and beam)",
          "[search][batch]") {
  for (int num_beams : {1, 3}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const int V = 12;
      LogitFn fn = hash_model(seed, V, {1}, 1.5f, false);
      GenerationConfig c = hash_config(num_beams, num_beams == 1 ? 1 : 2, 12);
      c.no_repeat_ngram_size = 3;
      c.length_penalty = 1.3f;
      FakeStepModel mb(V, iota_inputs(4), fn);
      auto rb = attend::generate(mb, c);
      REQUIRE(rb.size() == 4);
      for (int b = 0; b < 4; ++b) {
        FakeStepModel ms(V, {b}, fn);
        auto rs = attend::generate(ms, c);
        REQUIRE(rs[0].size() == rb[static_cast<size_t>(b)].size());
        for (size_t j = 0; j < rs[0].size(); ++j) {
          CHECK(rs[0][j].ids == rb[static_cast<size_t>(b)][j].ids);
          CHECK(rs[0][j].score == rb[static_cast<size_t>(b)][j].score);
          CHECK(rs[0][j].token_scores == rb[static_cast<size_t>(b)][j].token_scores);
        }
      }
      // Rows never grow beyond B*num_beams and shrink when inputs finish.
      for (size_t i = 1; i < mb.rows_per_step.size(); ++i) {
        CHECK(mb.rows_per_step[i] <= 4 * num_beams);
        CHECK(mb.rows_per_step[i] % num_beams == 0);
      }
    }
  }
}

TEST_CASE("generate: step callback sees tokens and can cancel", "[search][callback]") {
  GenerationConfig c = bigram_config(1);
  FakeStepModel m(5, {0}, bigram);
  std::vector<int32_t> seen;
  auto r = attend::generate(m, c, [&](const attend::StepInfo& info) {
    REQUIRE(info.new_tokens);
    REQUIRE(info.finished);
    seen.push_back((*info.new_tokens)[0]);
    return true;
  });
  CHECK(seen == Ids{A, E});

  // A callback written for the old `bool(int step)` signature still works; false cancels.
  FakeStepModel m2(5, {0}, bigram);
  GenerationConfig d = bigram_config(2);
  int calls = 0;
  attend::StepCallback cb = [&](int step) {
    ++calls;
    return step < 2;  // continue after step 1, cancel after step 2
  };
  try {
    attend::generate(m2, d, cb);
    FAIL("not cancelled");
  } catch (const attend::Error& e) {
    CHECK(std::string(e.what()) == "generation cancelled");
  }
  CHECK(calls == 2);
}

TEST_CASE("generate: rejects token ids outside the vocabulary", "[search]") {
  GenerationConfig c = bigram_config(2);
  c.forced_bos_token_id = 5;
  FakeStepModel m(5, {0}, bigram);
  CHECK_THROWS_AS(attend::generate(m, c), attend::Error);
  GenerationConfig d = bigram_config(1);
  d.decoder_start_token_id = 7;
  CHECK_THROWS_AS(attend::generate(m, d), attend::Error);
}

// =============================================================================================
// Property test against the reference implementation.

TEST_CASE("property: greedy and beam search agree with a plain HF re-implementation",
          "[search][property]") {
  std::mt19937_64 rng(12345);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int compared = 0, errors = 0, beam_cases = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const int V = pick(3, 9);
    GenerationConfig c;
    c.num_beams = pick(0, 3) == 0 ? 1 : pick(2, 4);
    c.num_return_sequences = pick(1, c.num_beams);
    if (pick(0, 3) == 0) c.max_new_tokens = pick(1, 7);
    else c.max_length = pick(2, 9);
    const int eos_kind = pick(0, 5);
    if (eos_kind == 0 && V >= 6) c.eos_token_ids = std::vector<int32_t>{1, 2};
    else c.eos_token_ids = std::vector<int32_t>{1};
    c.pad_token_id = pick(0, 1) ? 0 : V - 1;
    c.decoder_start_token_id = pick(0, 2) == 0 ? pick(0, V - 1) : c.pad_token_id;
    const float lps[] = {1.0f, 0.0f, 2.0f, -0.7f, 0.5f};
    c.length_penalty = lps[pick(0, 4)];
    const EarlyStopping es[] = {EarlyStopping::False, EarlyStopping::True, EarlyStopping::Never};
    c.early_stopping = es[pick(0, 2)];
    if (pick(0, 2) == 0) c.min_length = pick(0, 5);
    if (pick(0, 5) == 0) c.min_new_tokens = pick(0, 3);
    if (pick(0, 2) == 0) c.no_repeat_ngram_size = pick(1, 3);
    if (pick(0, 3) == 0) c.repetition_penalty = pick(0, 1) ? 1.7f : 0.6f;
    for (int w = pick(0, 2); w > 0; --w) {
      Ids word;
      for (int k = pick(1, 3); k > 0; --k) word.push_back(pick(0, V - 1));
      c.bad_words_ids.push_back(word);
    }
    if (pick(0, 3) == 0) c.forced_bos_token_id = pick(0, V - 1);
    if (pick(0, 3) == 0) c.forced_eos_token_id = pick(0, 2) ? 1 : pick(0, V - 1);
    c.beam_suppress_pad_before_log_softmax = pick(0, 2) == 0;
    const int batch = pick(1, 3);
    const bool coarse = pick(0, 2) == 0;
    LogitFn fn = hash_model(static_cast<uint64_t>(iter) * 7919u + 17u, V, c.eos_token_ids,
                            static_cast<float>(pick(0, 3)), coarse);
    INFO("iter " << iter << " config " << c.to_json().dump() << " V " << V << " batch " << batch);

    const ref::Output expected = c.num_beams == 1 ? ref::greedy(fn, V, batch, c) : ref::beam(fn, V, batch, c);
    FakeStepModel m(V, iota_inputs(batch), fn);
    if (c.num_beams > 1) ++beam_cases;
    if (expected.error) {
      ++errors;
      CHECK_THROWS_AS(attend::generate(m, c), attend::Error);
      continue;
    }
    const auto got = attend::generate(m, c);
    REQUIRE(got.size() == static_cast<size_t>(batch));
    CHECK(attend::to_hf_sequences(got, c) == expected.sequences);
    std::vector<float> scores;
    for (const auto& input : got) {
      REQUIRE(input.size() == static_cast<size_t>(c.num_return_sequences));
      for (const auto& h : input) scores.push_back(h.score);
    }
    CHECK(scores == expected.scores);
    if (c.num_beams == 1)
      for (int b = 0; b < batch; ++b) CHECK(got[static_cast<size_t>(b)][0].token_scores == expected.chosen[static_cast<size_t>(b)]);
    // The model never ran more rows than HF would, and finished inputs cost nothing.
    for (int rows : m.rows_per_step) CHECK(rows <= batch * c.num_beams);
    ++compared;
  }
  CHECK(compared > 2500);
  CHECK(beam_cases > 1500);
  WARN("property test: " << compared << " compared, " << errors << " HF-error cases");
}

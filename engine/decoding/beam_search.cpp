// engine/decoding/beam_search.cpp — transformers 4.30 beam_search + BeamSearchScorer + BeamHypotheses over
// a StepModel. Per input: processors on log_softmax(logits), top 2*num_beams (beam, token)
// candidates, EOS candidates of rank < num_beams become finished hypotheses, the best num_beams
// other candidates continue; an input whose hypotheses are done has its rows dropped.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <omp.h>

#include "attend/error.hpp"
#include "engine/decoding/logits_processors.hpp"
#include "engine/decoding/search.hpp"
#include "engine/kernels/profile.hpp"
#include "engine/kernels/simd.hpp"

namespace attend {
namespace {

// One (beam, token) candidate; `flat` = beam * vocab + token is HF's index into the
// [num_beams * vocab] score row, used as the tie-break (lower first).
struct Candidate {
  float score;
  int64_t flat;
};

inline bool better(const Candidate& a, const Candidate& b) {
  return a.score > b.score || (a.score == b.score && a.flat < b.flat);
}

// Top-k of base + row[v] over v, best first, ties by lower v. One pass with a small sorted
// buffer; once it is full, simd::first_above skips every entry that does not beat the current
// k-th best (most of the row).
int top_k_row(const float* row, int vocab, float base, int k, int64_t flat_offset, Candidate* out) {
  int n = 0;
  for (int v = 0; v < vocab;) {
    if (n == k) {
      v = static_cast<int>(simd::first_above(row, v, vocab, base, out[n - 1].score));
      if (v == vocab) break;
    }
    const float s = base + row[v];
    int pos = n < k ? n : k - 1;  // slot that gets freed / filled
    while (pos > 0 && out[pos - 1].score < s) {
      out[pos] = out[pos - 1];
      --pos;
    }
    out[pos] = Candidate{s, flat_offset + v};
    if (n < k) ++n;
    ++v;
  }
  return n;
}

// transformers' BeamHypotheses: the num_beams best finished hypotheses of one input.
class BeamHypotheses {
 public:
  BeamHypotheses(int num_beams, double length_penalty, EarlyStopping early_stopping, int max_length)
      : num_beams_(num_beams), length_penalty_(length_penalty), early_stopping_(early_stopping),
        max_length_(max_length) {}

  size_t size() const { return entries_.size(); }

  // `ids[0..len)` without the EOS; `eos` the EOS token that closed it, or -1 (length cut).
  // `att`: the hypothesis's captured attention rows (empty when not capturing).
  void add(const std::vector<int32_t>& ids, float sum_logprobs, int32_t eos, std::vector<float> att = {}) {
    const double score = static_cast<double>(sum_logprobs) /
                         std::pow(static_cast<double>(ids.size()), length_penalty_);
    if (static_cast<int>(entries_.size()) < num_beams_ || score > worst_score_) {
      Entry e;
      e.score = score;
      e.ids.reserve(ids.size() + 1);
      e.ids = ids;
      if (eos >= 0) e.ids.push_back(eos);
      e.att = std::move(att);
      entries_.push_back(std::move(e));
      if (static_cast<int>(entries_.size()) > num_beams_) {
        // Python: sorted((score, index)) -> drop the first, worst = the second's score.
        size_t first = 0;
        for (size_t i = 1; i < entries_.size(); ++i)
          if (entries_[i].score < entries_[first].score) first = i;
        size_t second = first == 0 ? 1 : 0;
        for (size_t i = 0; i < entries_.size(); ++i)
          if (i != first && entries_[i].score < entries_[second].score) second = i;
        worst_score_ = entries_[second].score;
        entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(first));
      } else {
        worst_score_ = std::min(score, worst_score_);
      }
    }
  }

  bool is_done(float best_sum_logprobs, int cur_len) const {
    if (static_cast<int>(entries_.size()) < num_beams_) return false;
    if (early_stopping_ == EarlyStopping::True) return true;
    int len = cur_len;
    if (early_stopping_ == EarlyStopping::Never && length_penalty_ > 0.0) len = max_length_;
    const double highest = static_cast<double>(best_sum_logprobs) / std::pow(static_cast<double>(len), length_penalty_);
    return worst_score_ >= highest;
  }

  // The best `n` hypotheses, best first, in the order transformers' finalize pops them
  // (stable ascending sort by score, then taken from the end).
  // Ids of the hypothesis best(1) would return (nullptr when empty).
  const std::vector<int32_t>* best_ids() const {
    const Entry* b = nullptr;
    for (const Entry& e : entries_)
      if (!b || e.score >= b->score) b = &e;  // ties: the later entry, as best()'s stable sort
    return b ? &b->ids : nullptr;
  }

  // Shortens `len` to the length of the prefix of `ids` that every stored hypothesis shares.
  void common_prefix(const std::vector<int32_t>& ids, size_t& len) const {
    for (const Entry& e : entries_) {
      size_t n = std::min(len, e.ids.size());
      size_t i = 0;
      while (i < n && e.ids[i] == ids[i]) ++i;
      len = i;
    }
  }

  std::vector<Hypothesis> best(int n) {
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const Entry& a, const Entry& b) { return a.score < b.score; });
    std::vector<Hypothesis> out;
    for (int i = 0; i < n && !entries_.empty(); ++i) {
      Entry& e = entries_.back();
      Hypothesis h;
      h.ids = std::move(e.ids);
      h.score = static_cast<float>(e.score);
      h.attention.weights = std::move(e.att);
      out.push_back(std::move(h));
      entries_.pop_back();
    }
    return out;
  }

 private:
  struct Entry {
    double score = 0.0;
    std::vector<int32_t> ids;
    std::vector<float> att;
  };
  int num_beams_;
  double length_penalty_;
  EarlyStopping early_stopping_;
  int max_length_;
  std::vector<Entry> entries_;
  double worst_score_ = 1e9;
};

struct InputState {
  BeamHypotheses hyps;
  bool done = false;
  std::vector<std::vector<int32_t>> beam_ids, next_ids;  // running beams (start token first)
  std::vector<float> beam_scores, next_scores;           // cumulative processed log-probs
  std::vector<std::vector<float>> beam_att, next_att;     // captured attention rows, per beam
};

// Extends `decided` to the prefix shared by the running beams and the finished hypotheses (every
// hypothesis the input can still return descends from one of them); when the input is done, to
// its best hypothesis.
void update_decided(const InputState& st, std::vector<int32_t>& decided) {
  if (st.done) {
    if (const std::vector<int32_t>* best = st.hyps.best_ids()) decided = *best;
    return;
  }
  const std::vector<int32_t>& first = st.beam_ids[0];
  size_t len = first.size();
  for (const auto& ids : st.beam_ids) {
    size_t n = std::min(len, ids.size());
    size_t i = 0;
    while (i < n && ids[i] == first[i]) ++i;
    len = i;
  }
  st.hyps.common_prefix(first, len);
  if (len > decided.size()) decided.assign(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(len));
}

}  // namespace

std::vector<std::vector<Hypothesis>> beam_search(StepModel& model, const GenerationConfig& config,
                                                 const StepCallback& on_step, const SearchInputs& inputs) {
  const int batch = model.num_rows();
  const int vocab = model.vocab_size();
  const int nb = config.num_beams;
  const int k2 = 2 * nb;
  const int prefix_len = inputs.prefix_length();
  const int max_len = config.resolved_max_length(prefix_len);
  model.reserve_positions(max_len);
  const int32_t pad = config.pad_token_id;
  const bool suppress_pad = config.beam_suppress_pad_before_log_softmax && pad >= 0 && pad < vocab;
  const bool exact = model.exact_scores();
  const size_t V = static_cast<size_t>(vocab);
  // one processor list per thread (they own scratch); rows are processed in parallel
  std::vector<LogitsProcessorList> thread_processors(static_cast<size_t>(std::max(1, omp_get_max_threads())),
                                                     LogitsProcessorList(config, vocab, prefix_len));

  std::vector<InputState> states;
  states.reserve(static_cast<size_t>(batch));
  for (int b = 0; b < batch; ++b) {
    states.push_back(InputState{BeamHypotheses(nb, config.length_penalty, config.early_stopping, max_len),
                                false, {}, {}, {}, {}, {}, {}});
    InputState& st = states.back();
    st.beam_ids.assign(static_cast<size_t>(nb), std::vector<int32_t>());
    st.next_ids.assign(static_cast<size_t>(nb), std::vector<int32_t>());
    for (int k = 0; k < nb; ++k) {
      st.beam_ids[static_cast<size_t>(k)].reserve(static_cast<size_t>(max_len));
      st.next_ids[static_cast<size_t>(k)].reserve(static_cast<size_t>(max_len));
      if (inputs.prefixes.empty()) st.beam_ids[static_cast<size_t>(k)].push_back(config.decoder_start_token_id);
      else st.beam_ids[static_cast<size_t>(k)] = inputs.prefixes[static_cast<size_t>(b)];
    }
    // Only beam 0 is alive at the start: the copies must not produce the same candidates.
    st.beam_scores.assign(static_cast<size_t>(nb), -1e9f);
    st.beam_scores[0] = 0.0f;
    st.next_scores.assign(static_cast<size_t>(nb), 0.0f);
    st.beam_att.assign(static_cast<size_t>(nb), std::vector<float>());
    st.next_att.assign(static_cast<size_t>(nb), std::vector<float>());
  }

  // Row layout: live input i owns rows [i*rows_per_input, (i+1)*rows_per_input). At the first
  // step all beams of an input are identical, so one row per input is stepped and shared.
  std::vector<int> live(static_cast<size_t>(batch));
  for (int b = 0; b < batch; ++b) live[static_cast<size_t>(b)] = b;
  std::vector<int> next_live;
  next_live.reserve(static_cast<size_t>(batch));
  int rows_per_input = 1;
  std::vector<int32_t> tokens = feed_prefixes(model, inputs, config.decoder_start_token_id, on_step, true);
  std::vector<int32_t> src;
  src.reserve(static_cast<size_t>(batch) * static_cast<size_t>(nb));
  std::vector<Candidate> per_beam(static_cast<size_t>(nb) * static_cast<size_t>(k2));
  std::vector<Candidate> merged;
  merged.reserve(per_beam.size());
  // per row (input-major, beam-minor) its top 2*nb candidates and how many there are
  std::vector<Candidate> row_cands(static_cast<size_t>(batch) * static_cast<size_t>(nb) * static_cast<size_t>(k2));
  std::vector<int> row_count(static_cast<size_t>(batch) * static_cast<size_t>(nb), 0);
  RowTopK fused_io;                              // step_top_k's results
  std::vector<float> forced_row;                 // a forced step's scores (force_token)
  std::vector<std::vector<int32_t>> row_bans;    // per row: the processors' masked tokens
  std::vector<int> parent(static_cast<size_t>(nb));
  std::vector<int32_t> no_tokens(static_cast<size_t>(batch), -1);
  std::vector<uint8_t> finished(static_cast<size_t>(batch), 0);
  // Streaming: per input, the prefix every hypothesis that can still win shares.
  std::vector<std::vector<int32_t>> decided;
  if (on_step) {
    decided.assign(static_cast<size_t>(batch), std::vector<int32_t>(1, config.decoder_start_token_id));
    if (!inputs.prefixes.empty()) decided = inputs.prefixes;
  }

  int cur_len = prefix_len;
  while (true) {
    if (static_cast<int>(tokens.size()) != model.num_rows())
      throw Error("beam search: model has " + std::to_string(model.num_rows()) + " rows, expected " +
                  std::to_string(tokens.size()));
    const int64_t nrows = static_cast<int64_t>(live.size()) * rows_per_input;
    const bool per_row_top_k = rows_per_input == nb;
    // When the processors only mask, a model with a fused top-k (the LM head reduced block by
    // block in cache, StepModel::step_top_k) hands over each row's best 2*nb tokens and softmax
    // terms instead of its logits: every step, the first one included (one row per input, which
    // all its beams extend: beam k's candidates are that row's best 2*nb plus beam k's score, as
    // top_k_row gives them from the logits).
    bool fused = false;
    // A step whose scores the processors overwrite whole (a forced BOS or EOS token): the model
    // only advances its state, and every beam's candidates are those top_k_row finds in the
    // forced row (0 at the token, -inf elsewhere), which is what its logits would become.
    const int32_t forced_token =
        thread_processors[0].forced_token(static_cast<int>(states[static_cast<size_t>(live[0])].beam_ids[0].size()));
    const bool forced = forced_token >= 0 && nrows > 0 && model.step_without_logits(tokens);
    if (!forced && !exact && nrows > 0 && model.has_step_top_k() &&
        thread_processors[0].masks_only(static_cast<int>(states[static_cast<size_t>(live[0])].beam_ids[0].size()))) {
      row_bans.resize(static_cast<size_t>(nrows));
      bool any_ban = false;
      for (int64_t r = 0; r < nrows; ++r) {
        const InputState& st = states[static_cast<size_t>(live[static_cast<size_t>(r / rows_per_input)])];
        thread_processors[0].banned(st.beam_ids[static_cast<size_t>(r % rows_per_input)], row_bans[static_cast<size_t>(r)]);
        any_ban = any_ban || !row_bans[static_cast<size_t>(r)].empty();
      }
      fused_io.k = k2;
      fused_io.excluded = suppress_pad ? pad : -1;
      fused_io.banned = any_ban ? &row_bans : nullptr;
      fused = model.step_top_k(tokens, fused_io);
    }
    // the per (input, beam) candidate lists in row_cands are complete (else: the logits' rows)
    const bool listed = fused || forced;
    float* logits = listed ? nullptr : model.step_deferred(tokens);  // each row finished in the per-row pass below
    const auto search_start = std::chrono::steady_clock::now();  // profile::Part::Search
    const size_t att_width = static_cast<size_t>(model.attention_width());
    const float* att = att_width ? model.attention() : nullptr;
    if (forced) {
      forced_row.resize(V);
      logits::force_token(forced_token, forced_row.data(), vocab);
      for (int64_t c = 0; c < static_cast<int64_t>(live.size()) * nb; ++c) {
        const InputState& st = states[static_cast<size_t>(live[static_cast<size_t>(c / nb)])];
        const int j = static_cast<int>(c % nb);
        row_count[static_cast<size_t>(c)] = top_k_row(forced_row.data(), vocab, st.beam_scores[static_cast<size_t>(j)], k2,
                                                      static_cast<int64_t>(j) * vocab, row_cands.data() + static_cast<size_t>(c) * k2);
      }
    } else if (fused) {
      // per (input, beam) its candidates, from the beam's row (the input's one row at first)
      for (int64_t c = 0; c < static_cast<int64_t>(live.size()) * nb; ++c) {
        const InputState& st = states[static_cast<size_t>(live[static_cast<size_t>(c / nb)])];
        const int j = static_cast<int>(c % nb);
        const size_t r = static_cast<size_t>(per_row_top_k ? c : c / nb);  // the row it extends
        const float base = st.beam_scores[static_cast<size_t>(j)];
        const size_t at = r * k2;
        Candidate* out = row_cands.data() + static_cast<size_t>(c) * k2;
        const float mx = fused_io.max[r], lse = fused_io.lse[r];
        const int n = fused_io.count[r];
        for (int i = 0; i < n; ++i)  // log_softmax as log_softmax_fast computes it, then the beam score
          out[i] = Candidate{base + ((fused_io.logits[at + i] - mx) - lse), static_cast<int64_t>(j) * vocab + fused_io.ids[at + i]};
        row_count[static_cast<size_t>(c)] = n;
      }
    } else {
      // Per row, in parallel (rows are independent): log_softmax, the logits processors, and
      // once every input has num_beams rows, the row's top 2*nb candidates (beam score added).
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < nrows; ++r) {
        float* row = logits + static_cast<size_t>(r) * V;
        model.finish_row(static_cast<int>(r));
        if (suppress_pad) row[pad] = -std::numeric_limits<float>::infinity();
        if (exact) {
          logits::log_softmax(row, vocab);
        } else {
          logits::log_softmax_fast(row, vocab);
        }
        const size_t li = static_cast<size_t>(r / rows_per_input);
        const int j = static_cast<int>(r % rows_per_input);
        const InputState& st = states[static_cast<size_t>(live[li])];
        LogitsProcessorList& processors = thread_processors[static_cast<size_t>(omp_get_thread_num())];
        processors.apply(st.beam_ids[static_cast<size_t>(j)], row);
        if (per_row_top_k) {
          row_count[static_cast<size_t>(r)] = top_k_row(row, vocab, st.beam_scores[static_cast<size_t>(j)], k2,
                                                        static_cast<int64_t>(j) * vocab,
                                                        row_cands.data() + static_cast<size_t>(r) * k2);
        }
      }
    }
    src.clear();
    tokens.clear();
    next_live.clear();
    for (size_t li = 0; li < live.size(); ++li) {
      const int b = live[li];
      InputState& st = states[static_cast<size_t>(b)];
      float* rows = listed ? nullptr : logits + li * static_cast<size_t>(rows_per_input) * V;  // listed: not read

      // Candidates: per beam its top 2*nb, then the top 2*nb of their union.
      merged.clear();
      if (per_row_top_k || listed) {
        for (int k = 0; k < nb; ++k) {
          const size_t r = li * static_cast<size_t>(nb) + static_cast<size_t>(k);
          const Candidate* c = row_cands.data() + r * k2;
          merged.insert(merged.end(), c, c + row_count[r]);
        }
      } else {
        // First step: every beam shares beam 0's row, beam k > 0 with a far lower base; skip it
        // when even its best candidate cannot reach the current 2*nb-th (float addition is
        // monotone).
        const float shared_max = *std::max_element(rows, rows + V);
        for (int k = 0; k < nb; ++k) {
          const float base = st.beam_scores[static_cast<size_t>(k)];
          if (k > 0 && static_cast<int>(merged.size()) >= k2) {
            std::nth_element(merged.begin(), merged.begin() + (k2 - 1), merged.end(), better);
            if (merged[static_cast<size_t>(k2 - 1)].score > base + shared_max) continue;
          }
          Candidate* out = per_beam.data() + static_cast<size_t>(k) * static_cast<size_t>(k2);
          const int n = top_k_row(rows, vocab, base, k2, static_cast<int64_t>(k) * vocab, out);
          merged.insert(merged.end(), out, out + n);
        }
      }
      const int ncand = std::min<int>(k2, static_cast<int>(merged.size()));
      std::partial_sort(merged.begin(), merged.begin() + ncand, merged.end(), better);

      // BeamSearchScorer.process for this input.
      int filled = 0;
      for (int rank = 0; rank < ncand && filled < nb; ++rank) {
        const Candidate& c = merged[static_cast<size_t>(rank)];
        const int k = static_cast<int>(c.flat / vocab);
        const int32_t token = static_cast<int32_t>(c.flat % vocab);
        // attention row of beam k at this step (all beams share row 0 at the first step)
        const float* att_row = att ? att + (li * static_cast<size_t>(rows_per_input) +
                                            static_cast<size_t>(rows_per_input == 1 ? 0 : k)) * att_width
                                   : nullptr;
        if (config.is_eos(token)) {
          if (rank >= nb) continue;
          std::vector<float> hyp_att;
          if (att_row) {
            hyp_att = st.beam_att[static_cast<size_t>(k)];
            hyp_att.insert(hyp_att.end(), att_row, att_row + att_width);
          }
          st.hyps.add(st.beam_ids[static_cast<size_t>(k)], c.score, token, std::move(hyp_att));
        } else {
          std::vector<int32_t>& ids = st.next_ids[static_cast<size_t>(filled)];
          ids = st.beam_ids[static_cast<size_t>(k)];
          ids.push_back(token);
          if (att_row) {
            std::vector<float>& a = st.next_att[static_cast<size_t>(filled)];
            a = st.beam_att[static_cast<size_t>(k)];
            a.insert(a.end(), att_row, att_row + att_width);
          }
          st.next_scores[static_cast<size_t>(filled)] = c.score;
          parent[static_cast<size_t>(filled)] = k;
          ++filled;
        }
      }
      if (filled < nb)
        throw Error("beam search: fewer than num_beams non-EOS candidates among the top 2*num_beams");
      st.beam_ids.swap(st.next_ids);
      st.beam_scores.swap(st.next_scores);
      if (att) st.beam_att.swap(st.next_att);
      st.done = st.hyps.is_done(merged[0].score, cur_len + 1);
      if (on_step) update_decided(st, decided[static_cast<size_t>(b)]);
      if (st.done) {
        finished[static_cast<size_t>(b)] = 1;
        continue;
      }
      next_live.push_back(b);
      for (int j = 0; j < nb; ++j) {
        const int src_row = static_cast<int>(li) * rows_per_input + (rows_per_input == 1 ? 0 : parent[static_cast<size_t>(j)]);
        src.push_back(src_row);
        tokens.push_back(st.beam_ids[static_cast<size_t>(j)].back());
      }
    }
    ++cur_len;
    live.swap(next_live);
    profile::add(profile::Part::Search, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::steady_clock::now() - search_start).count());
    if (on_step) {
      StepInfo info;
      info.step = cur_len - 1;
      info.new_tokens = &no_tokens;
      info.finished = &finished;
      info.decided = &decided;
      if (!on_step(info)) throw Error("generation cancelled");
    }
    if (live.empty() || cur_len >= max_len) break;
    model.select_rows(src);
    rows_per_input = nb;
  }

  // finalize: inputs still running at the length limit add their beams (no EOS).
  std::vector<std::vector<Hypothesis>> results(static_cast<size_t>(batch));
  for (int b = 0; b < batch; ++b) {
    InputState& st = states[static_cast<size_t>(b)];
    if (!st.done)
      for (int k = 0; k < nb; ++k)
        st.hyps.add(st.beam_ids[static_cast<size_t>(k)], st.beam_scores[static_cast<size_t>(k)], -1,
                    std::move(st.beam_att[static_cast<size_t>(k)]));
    results[static_cast<size_t>(b)] = st.hyps.best(config.num_return_sequences);
  }
  return results;
}

}  // namespace attend

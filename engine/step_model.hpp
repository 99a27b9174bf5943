// engine/step_model.hpp — the interface between the network and the search: a decoder that
// advances a set of rows one token at a time (the transformer implements it, engine/decoding/ uses it).
#pragma once
#include <cstdint>
#include <vector>

namespace attend {

// StepModel::step_top_k: what a beam search needs of each row's next-token distribution
// without the [rows x vocab] logits. In: k, excluded, banned. Out, per row r: log_softmax of a
// token's logit x is (x - max[r]) - lse[r]; ids/logits[r * k ...] the row's best `count[r]`
// tokens by logit, best first (equal logits: lower id first), none of them excluded or banned.
struct RowTopK {
  int k = 0;
  int32_t excluded = -1;  // left out of the softmax too (beam search's pad suppression); -1: none
  // per row, sorted: tokens that are never candidates but stay in the softmax (the logits
  // processors' -inf masks); null: none
  const std::vector<std::vector<int32_t>>* banned = nullptr;
  std::vector<float> max, lse;
  std::vector<int32_t> ids;
  std::vector<float> logits;
  std::vector<int> count;
};

// One decoder that advances a set of "rows" (hypotheses) one token at a time. After the
// encoder ran on a batch of B inputs, the model has B rows, row b attending to input b.
class StepModel {
 public:
  virtual ~StepModel() = default;
  virtual int vocab_size() const = 0;
  // Number of live rows right now.
  virtual int num_rows() const = 0;
  // Feeds tokens[r] as the newest token of row r (tokens.size() == num_rows()) and returns
  // the raw logits of that position, row-major [num_rows() x vocab_size()], final bias
  // included. The buffer belongs to the model, may be modified in place by the caller, and
  // is valid until the next call of step() or select_rows().
  virtual float* step(const std::vector<int32_t>& tokens) = 0;
  // Like step(), but a model may leave each row's final pass (the int8 LM head's row scale and
  // bias) undone, so the caller's own per-row pass does it while the row is in cache: the
  // caller must call finish_row(r) once for every row r (from any thread) before reading it.
  virtual float* step_deferred(const std::vector<int32_t>& tokens) { return step(tokens); }
  virtual void finish_row(int /*row*/) {}
  // Like step(), but returns each row's best k tokens and softmax terms instead of its logits
  // (RowTopK), computed block by block while the logits are in cache. Returns false, having
  // done nothing, when the model has no such path (no int8 column-blocked LM head, captured
  // attention, a vocabulary shortlist): the caller then calls step()/step_deferred() itself.
  virtual bool step_top_k(const std::vector<int32_t>& /*tokens*/, RowTopK& /*io*/) { return false; }
  // Whether step_top_k would run now (so a caller prepares its inputs only then).
  virtual bool has_step_top_k() const { return false; }
  // Feeds tokens like step() but computes no logits, for a step whose scores the logits
  // processors overwrite whole (a forced token): only the state (KV cache, captured attention)
  // advances. Returns false, having done nothing, when the model has no such path (the caller
  // then calls step() itself).
  virtual bool step_without_logits(const std::vector<int32_t>& /*tokens*/) { return false; }
  // Rebuilds the row set: new row i continues the history (KV cache, source input) of old row
  // src[i]. Rows may be repeated (beam expansion/reordering) or left out (finished rows stop
  // costing compute). src may be empty (nothing left).
  virtual void select_rows(const std::vector<int32_t>& src) = 0;
  // The search will feed at most `positions` tokens per row: a model may size its caches for
  // that once instead of growing (and copying) them along the way. A hint; no-op by default.
  virtual void reserve_positions(int /*positions*/) {}
  // True: the search takes log_softmax with double sums (logits::log_softmax, correctly rounded
  // in practice); false: with float sums (logits::log_softmax_fast, as torch sums), and a beam
  // search may use step_top_k.
  virtual bool exact_scores() const { return true; }
  // Cross-attention capture (TranslateOptions::return_attention): floats per row that step()
  // recorded (0 = not capturing), and those rows, [num_rows()][attention_width()], valid like
  // step()'s logits. The search appends each row's floats to its hypothesis.
  virtual int attention_width() const { return 0; }
  virtual const float* attention() const { return nullptr; }
};

}  // namespace attend

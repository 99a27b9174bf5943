// engine/decoding/search.hpp — decoding strategies (greedy and beam search) with transformers'
// `generate` semantics, written against the StepModel interface so they know nothing of
// the network that produces the logits.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "attend/attend.hpp"
#include "engine/decoding/generation_config.hpp"
#include "engine/step_model.hpp"

namespace attend {

// Search results use the public attend::Hypothesis (attend/attend.hpp): search fills
//   ids          decoder start token + generated tokens (EOS included if emitted),
//   score        beam: HF sequences_scores; greedy: sum of the chosen token scores,
//   token_scores greedy: processed score of each chosen token (HF chosen_token_scores),
// and leaves `text` empty. When the model captures cross-attention (StepModel::attention_width()
// > 0), attention.weights gets the model's row of every step that produced one of the
// hypothesis's tokens, in order ([target][width], the raw capture layout; beam search follows
// each hypothesis through its parent beams); the caller reshapes it.

// True when the hypothesis was closed by an EOS (rather than cut at the length limit). Exact for
// search results: a hypothesis always holds at least one generated token, and running beams
// never end with an EOS.
bool ended_by_eos(const Hypothesis& h, const GenerationConfig& config);

// What the step callback is told after every decoding step.
struct StepInfo {
  int step = 0;  // tokens generated so far (1 after the first step)
  // Size B. Greedy: the token appended to input b at this step, or -1 if b finished before this
  // step. Beam search: always -1 (beam search decides the tokens only when an input finishes;
  // read the results of generate()).
  const std::vector<int32_t>* new_tokens = nullptr;
  // Size B: 1 once input b is finished (greedy: it emitted EOS; beam: its hypotheses are done).
  // Inputs still running at the length limit never become 1 here.
  const std::vector<uint8_t>* finished = nullptr;
  // Beam search only (null for greedy), size B: the decided prefix of input b — the ids (decoder
  // start token first) that every hypothesis it can still return as its best shares. It only
  // grows; once b is finished it is the complete best hypothesis.
  const std::vector<std::vector<int32_t>>* decided = nullptr;
  // Callbacks written as `bool(int step)` keep working.
  operator int() const { return step; }
};

// Called after every step (before the model is asked for the next one); return false to cancel
// the whole call: generate() then throws attend::Error("generation cancelled").
using StepCallback = std::function<bool(const StepInfo&)>;

// Runs generation for the B inputs whose rows are currently in `model` (model.num_rows() == B)
// and returns, per input, its num_return_sequences best hypotheses, best first.
// config.num_beams == 1 -> greedy_search, otherwise beam_search (transformers 4.30 semantics;
// each input gets exactly what it would get alone). Rows of finished inputs are dropped with
// select_rows() as soon as they finish; the model's row set on return is unspecified.
// Throws attend::Error for an invalid config (validate()) or token ids outside the vocabulary.
std::vector<std::vector<Hypothesis>> generate(StepModel& model, const GenerationConfig& config,
                                              const StepCallback& on_step = nullptr);

// The two strategies behind generate() (same contract; they do not validate the config).
std::vector<std::vector<Hypothesis>> greedy_search(StepModel& model, const GenerationConfig& config,
                                                   const StepCallback& on_step);
std::vector<std::vector<Hypothesis>> beam_search(StepModel& model, const GenerationConfig& config,
                                                 const StepCallback& on_step);

// transformers' output layout: `sequences` rows (batch*num_return_sequences) padded with
// pad_token_id to a common length, EOS appended to beam hypotheses shorter than the row
// length exactly as BeamSearchScorer.finalize does. Used by conformance tests and the API.
std::vector<std::vector<int32_t>> to_hf_sequences(const std::vector<std::vector<Hypothesis>>& results,
                                                  const GenerationConfig& config);

}  // namespace attend

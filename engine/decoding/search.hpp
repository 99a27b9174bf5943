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

// Per-input extras of one generate() call (issue 17). Both may be empty.
struct SearchInputs {
  // Target prefixes (transformers' decoder_input_ids): empty, or one per input, each the whole
  // decoder sequence to continue with the start token first (an empty entry means just the start
  // token). All entries must have the same length P (callers group inputs by prefix length);
  // the prefix is fed teacher-forced, is part of every returned hypothesis, adds nothing to the
  // scores, and generation starts at cur_len = P (forced BOS is therefore not applied again).
  std::vector<std::vector<int32_t>> prefixes;
  // Sampling: the RNG stream of each input (default: its index in the batch). The draw at a
  // step is counter_uniform(config.seed, stream, step), so giving each input its index in the
  // caller's request makes results independent of batching and thread count.
  std::vector<uint64_t> streams;
  // Prefix length P (1 without prefixes).
  int prefix_length() const { return prefixes.empty() ? 1 : static_cast<int>(prefixes[0].size()); }
};

// Feeds the target prefixes teacher-forced (every prefix token but the last), reporting each
// fed token to on_step like a decided token (greedy style; with `beam_style`, as `decided`).
// Returns the tokens to feed at the first free step (each prefix's last token).
std::vector<int32_t> feed_prefixes(StepModel& model, const SearchInputs& inputs, int32_t start_token,
                                   const StepCallback& on_step, bool beam_style);

// Runs generation for the B inputs whose rows are currently in `model` (model.num_rows() == B)
// and returns, per input, its num_return_sequences best hypotheses, best first.
// config.num_beams == 1 -> greedy_search, otherwise beam_search (transformers 4.30 semantics;
// each input gets exactly what it would get alone). Rows of finished inputs are dropped with
// select_rows() as soon as they finish; the model's row set on return is unspecified.
// Throws attend::Error for an invalid config (validate()) or token ids outside the vocabulary.
// config.do_sample -> sample_search. `inputs` (optional): target prefixes and RNG streams.
std::vector<std::vector<Hypothesis>> generate(StepModel& model, const GenerationConfig& config,
                                              const StepCallback& on_step = nullptr,
                                              const SearchInputs& inputs = {});

// The strategies behind generate() (same contract; they do not validate the config).
std::vector<std::vector<Hypothesis>> greedy_search(StepModel& model, const GenerationConfig& config,
                                                   const StepCallback& on_step, const SearchInputs& inputs = {});
std::vector<std::vector<Hypothesis>> beam_search(StepModel& model, const GenerationConfig& config,
                                                 const StepCallback& on_step, const SearchInputs& inputs = {});
// The one-hypothesis-per-input loop behind greedy_search and sample_search: each step applies
// the logits processors to every live row's raw logits, then pick(input, position, row) chooses
// the token (it may rewrite the row first; row[token] becomes the token's score). An input stops
// at its first EOS and its row is dropped from the model. `name` starts error messages.
using TokenPicker = std::function<int32_t(int input, int position, float* row)>;
std::vector<std::vector<Hypothesis>> one_per_input_search(StepModel& model, const GenerationConfig& config,
                                                          const StepCallback& on_step, const SearchInputs& inputs,
                                                          const char* name, const TokenPicker& pick);
// transformers' sample(): processors on the raw logits (as greedy), then the warpers, then one
// draw from softmax; token_scores hold the warped score of each drawn token.
std::vector<std::vector<Hypothesis>> sample_search(StepModel& model, const GenerationConfig& config,
                                                   const StepCallback& on_step, const SearchInputs& inputs = {});

// Alternatives at a position (CTranslate2's return_alternatives): after each input's prefix,
// the n most likely next tokens with their log-probabilities (log_softmax of the logits, then the
// processors, as beam search scores them), best first (ties: lower id). Tokens with -inf are
// never returned, so fewer than n may come back.
std::vector<std::vector<std::pair<int32_t, float>>> next_token_alternatives(StepModel& model, const GenerationConfig& config,
                                                                            const SearchInputs& inputs, int n);

// transformers' output layout: `sequences` rows (batch*num_return_sequences) padded with
// pad_token_id to a common length, EOS appended to beam hypotheses shorter than the row
// length exactly as BeamSearchScorer.finalize does. Used by conformance tests and the API.
// prefix_length: the decoder prefix length the results were generated with (see SearchInputs).
std::vector<std::vector<int32_t>> to_hf_sequences(const std::vector<std::vector<Hypothesis>>& results,
                                                  const GenerationConfig& config, int prefix_length = 1);

}  // namespace attend

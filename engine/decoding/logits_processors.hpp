// engine/decoding/logits_processors.hpp — transformers 4.30's logits processors for greedy/beam search
// (repetition penalty, no-repeat n-gram, bad words, min length, forced BOS/EOS) working on
// one row of scores in place, plus the log_softmax beam search applies first.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/decoding/generation_config.hpp"

namespace attend {

// The individual processors. `history` is the row's decoder sequence so far (decoder start token
// first), `len` its length (= HF's cur_len = input_ids.shape[-1]), `scores` one row of `vocab`
// scores. Token ids outside [0, vocab) are ignored.
namespace logits {

// score -> score*p if score < 0 else score/p, once for every distinct token of history.
// `seen` is scratch of `vocab` entries, every entry != `stamp` on entry (see LogitsProcessorList).
void repetition_penalty(const int32_t* history, int len, float penalty, float* scores, int vocab,
                        uint32_t* seen, uint32_t stamp);
// Masks (-inf) every token that would complete an n-gram already present in history.
void no_repeat_ngram(const int32_t* history, int len, int n, float* scores, int vocab);
// Multi-token words: masks the last token when history ends with the other ones.
void bad_words_multi(const int32_t* history, int len, const std::vector<std::vector<int32_t>>& words,
                     float* scores, int vocab);
// Everything -inf, `token` exactly 0.
void force_token(int32_t token, float* scores, int vocab);
// In place: x - max - log(sum(exp(x - max))). -inf entries stay -inf. The sum is taken in
// double (see the .cpp), so the result is the correctly rounded log_softmax in practice.
void log_softmax(float* x, int n);
// The same with the sum of exp in float (about 4x faster, lse within ~1e-6), as torch sums:
// what the engine's models use (StepModel::exact_scores false), fp32 included.
void log_softmax_fast(float* x, int n);

}  // namespace logits

// All processors a GenerationConfig enables, applied in transformers' order:
// repetition_penalty -> no_repeat_ngram -> bad_words -> min_length (and min_new_tokens) ->
// forced_bos (at len == 1) -> forced_eos (at len == resolved_max_length - 1).
// Inactive settings (null, 0, 1.0) cost nothing. Not thread-safe (owns scratch buffers).
class LogitsProcessorList {
 public:
  // prefix_length: decoder tokens given before generation starts (start token included; 1 = no
  // target prefix): min_new_tokens and max_new_tokens count from there, as in transformers.
  LogitsProcessorList(const GenerationConfig& config, int vocab_size, int prefix_length = 1);
  void apply(const int32_t* history, int len, float* scores);
  void apply(const std::vector<int32_t>& history, float* scores) {
    apply(history.data(), static_cast<int>(history.size()), scores);
  }
  // True when apply() at this history length only sets scores to -inf (no repetition penalty,
  // no forced token): then banned() lists exactly those tokens, sorted and unique, and a search
  // may pick its candidates without materialising the row (LM head fused with top-k).
  bool masks_only(int len) const;
  // The token apply() forces at this length (its scores then become force_token's: 0 there,
  // -inf everywhere else, whatever they were), or -1.
  int32_t forced_token(int len) const;
  void banned(const int32_t* history, int len, std::vector<int32_t>& out) const;
  void banned(const std::vector<int32_t>& history, std::vector<int32_t>& out) const {
    banned(history.data(), static_cast<int>(history.size()), out);
  }

 private:
  int vocab_;
  float repetition_penalty_;
  int no_repeat_ngram_size_;
  std::vector<int32_t> bad_single_;                  // single-token bad words (static mask)
  std::vector<std::vector<int32_t>> bad_multi_;      // multi-token bad words
  std::vector<int32_t> eos_;                         // in-vocab EOS ids (min length masking)
  int min_length_;
  int min_new_tokens_;
  int prefix_length_;
  int32_t forced_bos_;                               // -1: none
  int32_t forced_eos_;                               // -1: none
  int max_length_;
  std::vector<uint32_t> seen_;                       // repetition penalty scratch
  uint32_t stamp_ = 0;
};

}  // namespace attend

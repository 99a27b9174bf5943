// engine/decoding/search.cpp — generate() (config checks + choice of greedy or beam search) and the
// transformers output layout of the results (to_hf_sequences).
#include "engine/decoding/search.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "attend/error.hpp"
#include "engine/decoding/logits_processors.hpp"

namespace attend {
namespace {

void check_token(int64_t id, int vocab, const char* what) {
  if (id < 0 || id >= vocab)
    throw Error(std::string("generation config: ") + what + " " + std::to_string(id) +
                " is outside the vocabulary (size " + std::to_string(vocab) + ")");
}

}  // namespace

bool ended_by_eos(const Hypothesis& h, const GenerationConfig& config) {
  return h.ids.size() >= 2 && config.is_eos(h.ids.back());
}

namespace {

void check_inputs(const StepModel& model, const GenerationConfig& config, const SearchInputs& inputs) {
  const size_t B = static_cast<size_t>(model.num_rows());
  if (!inputs.streams.empty() && inputs.streams.size() != B)
    throw Error("generate: " + std::to_string(inputs.streams.size()) + " RNG streams for " + std::to_string(B) + " inputs");
  if (inputs.prefixes.empty()) return;
  if (inputs.prefixes.size() != B)
    throw Error("generate: " + std::to_string(inputs.prefixes.size()) + " target prefixes for " + std::to_string(B) + " inputs");
  const size_t P = inputs.prefixes[0].size();
  for (const auto& p : inputs.prefixes) {
    if (p.size() != P) throw Error("generate: target prefixes of one batch must have the same length");
    if (p.empty() || p[0] != config.decoder_start_token_id)
      throw Error("generate: a target prefix must start with the decoder start token " +
                  std::to_string(config.decoder_start_token_id));
    for (int32_t id : p)
      if (id < 0 || id >= model.vocab_size())
        throw Error("generate: target prefix token " + std::to_string(id) + " is outside the vocabulary (size " +
                    std::to_string(model.vocab_size()) + ")");
  }
  const int limit = config.resolved_max_length(static_cast<int>(P));
  if (static_cast<int>(P) >= limit)
    throw Error("target prefix too long: " + std::to_string(P) + " decoder tokens (start token included) leave no room under max_length " +
                std::to_string(limit));
}

}  // namespace

std::vector<int32_t> feed_prefixes(StepModel& model, const SearchInputs& inputs, int32_t start_token,
                                   const StepCallback& on_step, bool beam_style) {
  const size_t B = static_cast<size_t>(model.num_rows());
  if (inputs.prefixes.empty()) return std::vector<int32_t>(B, start_token);
  const size_t P = inputs.prefixes[0].size();
  std::vector<int32_t> tokens(B), fed(B);
  std::vector<uint8_t> finished(B, 0);
  std::vector<std::vector<int32_t>> decided(B);
  for (size_t t = 0; t + 1 < P; ++t) {
    for (size_t b = 0; b < B; ++b) tokens[b] = inputs.prefixes[b][t];
    model.step(tokens);  // the logits of a forced position are not needed
    if (on_step) {
      StepInfo info;
      info.step = static_cast<int>(t + 1);
      info.finished = &finished;
      for (size_t b = 0; b < B; ++b) {
        fed[b] = beam_style ? -1 : inputs.prefixes[b][t + 1];
        if (beam_style) decided[b].assign(inputs.prefixes[b].begin(), inputs.prefixes[b].begin() + static_cast<std::ptrdiff_t>(t + 2));
      }
      info.new_tokens = &fed;
      if (beam_style) info.decided = &decided;
      if (!on_step(info)) throw Error("generation cancelled");
    }
  }
  for (size_t b = 0; b < B; ++b) tokens[b] = inputs.prefixes[b][P - 1];
  return tokens;
}

std::vector<std::vector<std::pair<int32_t, float>>> next_token_alternatives(StepModel& model, const GenerationConfig& config,
                                                                            const SearchInputs& inputs, int n) {
  config.validate();
  check_inputs(model, config, inputs);
  const int vocab = model.vocab_size();
  const size_t B = static_cast<size_t>(model.num_rows());
  std::vector<std::vector<std::pair<int32_t, float>>> out(B);
  if (B == 0 || n <= 0) return out;
  const std::vector<int32_t> last = feed_prefixes(model, inputs, config.decoder_start_token_id, nullptr, false);
  float* logits = model.step(last);
  LogitsProcessorList processors(config, vocab, inputs.prefix_length());
  const int32_t pad = config.pad_token_id;
  for (size_t b = 0; b < B; ++b) {
    float* row = logits + b * static_cast<size_t>(vocab);
    if (config.beam_suppress_pad_before_log_softmax && pad >= 0 && pad < vocab)
      row[pad] = -std::numeric_limits<float>::infinity();
    logits::log_softmax(row, vocab);
    std::vector<int32_t> history = inputs.prefixes.empty() ? std::vector<int32_t>{config.decoder_start_token_id} : inputs.prefixes[b];
    processors.apply(history, row);
    std::vector<int32_t> ids(static_cast<size_t>(vocab));
    for (int v = 0; v < vocab; ++v) ids[static_cast<size_t>(v)] = v;
    const int k = std::min(n, vocab);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int32_t a, int32_t c) {
      return row[a] > row[c] || (row[a] == row[c] && a < c);
    });
    for (int i = 0; i < k; ++i) {
      const int32_t t = ids[static_cast<size_t>(i)];
      if (row[t] == -std::numeric_limits<float>::infinity()) break;
      out[b].emplace_back(t, row[t]);
    }
  }
  return out;
}

std::vector<std::vector<Hypothesis>> generate(StepModel& model, const GenerationConfig& config,
                                              const StepCallback& on_step, const SearchInputs& inputs) {
  config.validate();
  const int vocab = model.vocab_size();
  if (vocab <= 0) throw Error("generate: model vocabulary size must be positive");
  check_token(config.decoder_start_token_id, vocab, "decoder_start_token_id");
  check_token(config.pad_token_id, vocab, "pad_token_id");
  for (int32_t id : config.eos_token_ids) check_token(id, vocab, "eos_token_id");
  if (config.forced_bos_token_id) check_token(*config.forced_bos_token_id, vocab, "forced_bos_token_id");
  if (config.forced_eos_token_id) check_token(*config.forced_eos_token_id, vocab, "forced_eos_token_id");
  if (model.num_rows() == 0) return {};
  check_inputs(model, config, inputs);
  if (config.do_sample) return sample_search(model, config, on_step, inputs);
  if (config.num_beams == 1) return greedy_search(model, config, on_step, inputs);
  return beam_search(model, config, on_step, inputs);
}

std::vector<std::vector<int32_t>> to_hf_sequences(const std::vector<std::vector<Hypothesis>>& results,
                                                  const GenerationConfig& config, int prefix_length) {
  std::vector<std::vector<int32_t>> rows;
  if (config.num_beams == 1) {
    // greedy_search: every row ran until the last input finished; finished rows got pads.
    size_t width = 0;
    for (const auto& input : results)
      for (const auto& h : input) width = std::max(width, h.ids.size());
    for (const auto& input : results)
      for (const auto& h : input) {
        rows.push_back(h.ids);
        rows.back().resize(width, config.pad_token_id);
      }
    return rows;
  }
  // BeamSearchScorer.finalize: hypotheses are stored without their EOS; the row length is
  // min(longest + 1, max_length) and eos_token_id[0] is written after every hypothesis shorter
  // than that; the rest is pad.
  auto stored_len = [&](const Hypothesis& h) { return h.ids.size() - (ended_by_eos(h, config) ? 1 : 0); };
  size_t longest = 0;
  for (const auto& input : results)
    for (const auto& h : input) longest = std::max(longest, stored_len(h));
  const size_t width = std::min(longest + 1, static_cast<size_t>(std::max(config.resolved_max_length(prefix_length), 0)));
  for (const auto& input : results)
    for (const auto& h : input) {
      const size_t len = stored_len(h);
      std::vector<int32_t> row(h.ids.begin(), h.ids.begin() + static_cast<std::ptrdiff_t>(len));
      if (len < width && !config.eos_token_ids.empty()) row.push_back(config.eos_token_ids[0]);
      row.resize(std::max(width, row.size()), config.pad_token_id);
      rows.push_back(std::move(row));
    }
  return rows;
}

}  // namespace attend

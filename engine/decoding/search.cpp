// engine/decoding/search.cpp — generate() (config checks + choice of greedy or beam search) and the
// transformers output layout of the results (to_hf_sequences).
#include "engine/decoding/search.hpp"

#include <algorithm>
#include <string>

#include "attend/error.hpp"

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

std::vector<std::vector<Hypothesis>> generate(StepModel& model, const GenerationConfig& config,
                                              const StepCallback& on_step) {
  config.validate();
  const int vocab = model.vocab_size();
  if (vocab <= 0) throw Error("generate: model vocabulary size must be positive");
  check_token(config.decoder_start_token_id, vocab, "decoder_start_token_id");
  check_token(config.pad_token_id, vocab, "pad_token_id");
  for (int32_t id : config.eos_token_ids) check_token(id, vocab, "eos_token_id");
  if (config.forced_bos_token_id) check_token(*config.forced_bos_token_id, vocab, "forced_bos_token_id");
  if (config.forced_eos_token_id) check_token(*config.forced_eos_token_id, vocab, "forced_eos_token_id");
  if (model.num_rows() == 0) return {};
  if (config.num_beams == 1) return greedy_search(model, config, on_step);
  return beam_search(model, config, on_step);
}

std::vector<std::vector<int32_t>> to_hf_sequences(const std::vector<std::vector<Hypothesis>>& results,
                                                  const GenerationConfig& config) {
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
  const size_t width = std::min(longest + 1, static_cast<size_t>(std::max(config.resolved_max_length(), 0)));
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

// engine/decoding/greedy_search.cpp — transformers 4.30 greedy_search over a StepModel: logits
// processors on the raw logits, argmax (lowest index on ties), an input stops at its first EOS
// and its row is dropped from the model. The loop itself (one_per_input_search) also serves
// sample_search, which differs only in how a row's token is chosen.
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "attend/error.hpp"
#include "engine/decoding/logits_processors.hpp"
#include "engine/decoding/search.hpp"

namespace attend {

std::vector<std::vector<Hypothesis>> one_per_input_search(StepModel& model, const GenerationConfig& config,
                                                          const StepCallback& on_step, const SearchInputs& inputs,
                                                          const char* name, const TokenPicker& pick) {
  const int batch = model.num_rows();
  const int vocab = model.vocab_size();
  const int prefix_len = inputs.prefix_length();
  const int max_len = config.resolved_max_length(prefix_len);
  model.reserve_positions(max_len);
  LogitsProcessorList processors(config, vocab, prefix_len);

  std::vector<Hypothesis> hyps(static_cast<size_t>(batch));
  std::vector<double> sums(static_cast<size_t>(batch), 0.0);
  for (auto& h : hyps) {
    h.ids.reserve(static_cast<size_t>(max_len));
    h.token_scores.reserve(static_cast<size_t>(max_len));
  }
  for (size_t b = 0; b < hyps.size(); ++b) {
    if (inputs.prefixes.empty()) hyps[b].ids.push_back(config.decoder_start_token_id);
    else hyps[b].ids = inputs.prefixes[b];
  }
  // Row r of the model continues input live[r].
  std::vector<int> live(static_cast<size_t>(batch));
  std::iota(live.begin(), live.end(), 0);
  std::vector<int32_t> tokens = feed_prefixes(model, inputs, config.decoder_start_token_id, on_step, false);
  std::vector<int32_t> src;
  src.reserve(static_cast<size_t>(batch));
  std::vector<int32_t> new_tokens(static_cast<size_t>(batch), -1);
  std::vector<uint8_t> finished(static_cast<size_t>(batch), 0);

  int cur_len = prefix_len;  // length of every live sequence, start token included
  while (!live.empty() && cur_len < max_len) {
    if (static_cast<int>(tokens.size()) != model.num_rows())
      throw Error(std::string(name) + ": model has " + std::to_string(model.num_rows()) + " rows, expected " +
                  std::to_string(tokens.size()));
    float* logits = model.step(tokens);
    const size_t att_width = static_cast<size_t>(model.attention_width());
    const float* att = att_width ? model.attention() : nullptr;
    std::fill(new_tokens.begin(), new_tokens.end(), -1);
    bool any_finished = false;
    for (size_t r = 0; r < live.size(); ++r) {
      const int b = live[r];
      Hypothesis& h = hyps[static_cast<size_t>(b)];
      float* row = logits + r * static_cast<size_t>(vocab);
      processors.apply(h.ids, row);
      const int32_t best = pick(b, cur_len, row);
      h.ids.push_back(best);
      h.token_scores.push_back(row[best]);
      if (att) h.attention.weights.insert(h.attention.weights.end(), att + r * att_width, att + (r + 1) * att_width);
      sums[static_cast<size_t>(b)] += row[best];
      new_tokens[static_cast<size_t>(b)] = best;
      tokens[r] = best;
      if (config.is_eos(best)) {
        finished[static_cast<size_t>(b)] = 1;
        any_finished = true;
      }
    }
    ++cur_len;
    if (on_step) {
      StepInfo info;
      info.step = cur_len - 1;
      info.new_tokens = &new_tokens;
      info.finished = &finished;
      if (!on_step(info)) throw Error("generation cancelled");
    }
    if (any_finished) {
      // Keep only the unfinished rows (in order) so finished inputs stop costing compute.
      src.clear();
      size_t kept = 0;
      for (size_t r = 0; r < live.size(); ++r) {
        if (finished[static_cast<size_t>(live[r])]) continue;
        src.push_back(static_cast<int32_t>(r));
        live[kept] = live[r];
        tokens[kept] = tokens[r];
        ++kept;
      }
      live.resize(kept);
      tokens.resize(kept);
      if (!live.empty() && cur_len < max_len) model.select_rows(src);
    }
  }

  std::vector<std::vector<Hypothesis>> results(static_cast<size_t>(batch));
  for (int b = 0; b < batch; ++b) {
    hyps[static_cast<size_t>(b)].score = static_cast<float>(sums[static_cast<size_t>(b)]);
    results[static_cast<size_t>(b)].push_back(std::move(hyps[static_cast<size_t>(b)]));
  }
  return results;
}

std::vector<std::vector<Hypothesis>> greedy_search(StepModel& model, const GenerationConfig& config,
                                                   const StepCallback& on_step, const SearchInputs& inputs) {
  const int vocab = model.vocab_size();
  return one_per_input_search(model, config, on_step, inputs, "greedy search", [vocab](int, int, float* row) {
    int32_t best = 0;  // argmax, lowest index on ties
    for (int v = 1; v < vocab; ++v)
      if (row[v] > row[best]) best = v;
    return best;
  });
}

}  // namespace attend

// engine/decoding/streaming.hpp — turns the search's per-step reports (StepInfo) into the public
// StreamEvents of each batch row: newly decided token ids and the text they complete, through
// one IncrementalDecoder per row. Used by Model::translate/generate and the Translator.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "attend/attend.hpp"
#include "engine/decoding/search.hpp"
#include "tokenizer/tokenizer.hpp"

namespace attend {

class RowStreams {
 public:
  // `tokenizer` may be null (token ids only, no text). Each row starts with `start_token`.
  RowStreams(const Tokenizer* tokenizer, size_t rows, int32_t start_token);
  ~RowStreams();

  // Receives (row, event) for every row with something new; event.input is left 0 (the caller
  // maps rows to inputs).
  using Emit = std::function<void(size_t row, StreamEvent& event)>;

  // After a decoding step: greedy rows advance by info.new_tokens, beam rows to info.decided;
  // rows marked finished get their last event.
  void step(const StepInfo& info, const Emit& emit);
  // After the search returned: rows not finished yet (cut at the length limit) get the rest of
  // their best hypothesis and their last event.
  void finish(const std::vector<std::vector<Hypothesis>>& results, const Emit& emit);

 private:
  struct Row;
  void advance(size_t row, const int32_t* ids, size_t n, bool finished, const Emit& emit);
  std::vector<std::unique_ptr<Row>> rows_;
};

}  // namespace attend

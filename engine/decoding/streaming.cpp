// engine/decoding/streaming.cpp — StepInfo → StreamEvent per batch row (see streaming.hpp).
#include "engine/decoding/streaming.hpp"

#include <algorithm>

namespace attend {

struct RowStreams::Row {
  std::vector<int32_t> ids;  // known ids of the row, start token first
  size_t sent = 1;           // ids[0, sent) have been reported (the start token is never reported)
  bool done = false;
  std::unique_ptr<IncrementalDecoder> decoder;
};

RowStreams::RowStreams(const Tokenizer* tokenizer, size_t rows, int32_t start_token) {
  rows_.reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    auto row = std::make_unique<Row>();
    row->ids.push_back(start_token);
    if (tokenizer) {
      row->decoder = std::make_unique<IncrementalDecoder>(*tokenizer, true);
      row->decoder->push(start_token);  // decode(ids) sees the start token too (a special token)
    }
    rows_.push_back(std::move(row));
  }
}

RowStreams::~RowStreams() = default;

void RowStreams::advance(size_t r, const int32_t* ids, size_t n, bool finished, const Emit& emit) {
  Row& row = *rows_[r];
  if (row.done) return;
  StreamEvent ev;
  for (size_t i = 0; i < n; ++i) {
    ev.ids.push_back(ids[i]);
    if (row.decoder) ev.text += row.decoder->push(ids[i]);
  }
  row.sent += n;
  if (finished) {
    if (row.decoder) ev.text += row.decoder->finish();
    ev.finished = true;
    row.done = true;
  }
  if (!ev.ids.empty() || !ev.text.empty() || ev.finished) emit(r, ev);
}

void RowStreams::step(const StepInfo& info, const Emit& emit) {
  for (size_t r = 0; r < rows_.size(); ++r) {
    Row& row = *rows_[r];
    if (row.done) continue;
    const bool finished = info.finished && r < info.finished->size() && (*info.finished)[r];
    if (info.decided) {
      if (r >= info.decided->size()) continue;
      const std::vector<int32_t>& d = (*info.decided)[r];
      if (d.size() > row.sent) {
        row.ids = d;
        advance(r, d.data() + row.sent, d.size() - row.sent, finished, emit);
      } else if (finished) {
        advance(r, nullptr, 0, true, emit);
      }
    } else if (info.new_tokens && r < info.new_tokens->size()) {
      const int32_t t = (*info.new_tokens)[r];
      if (t >= 0) {
        row.ids.push_back(t);
        advance(r, &t, 1, finished, emit);
      } else if (finished) {
        advance(r, nullptr, 0, true, emit);
      }
    }
  }
}

void RowStreams::finish(const std::vector<std::vector<Hypothesis>>& results, const Emit& emit) {
  for (size_t r = 0; r < rows_.size() && r < results.size(); ++r) {
    Row& row = *rows_[r];
    if (row.done) continue;
    static const std::vector<int32_t> none;
    const std::vector<int32_t>& best = results[r].empty() ? none : results[r][0].ids;
    const size_t from = std::min(row.sent, best.size());
    advance(r, best.data() + from, best.size() - from, true, emit);
  }
}

}  // namespace attend

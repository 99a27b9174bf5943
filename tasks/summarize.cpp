// tasks/summarize.cpp — Model::summarize: the model's summarization settings (generation
// defaults, then config.json task_specific_params.summarization as transformers'
// SummarizationPipeline applies them, then per-call overrides), long inputs split into chunks
// (tasks/summarize_chunker.*) and summarized in rounds, and chunks of all inputs decoded
// together in length-sorted batches under a row and token budget.
#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>
#include <string_view>

#include "attend/attend.hpp"
#include "engine/decoding/streaming.hpp"
#include "runtime/model_impl.hpp"
#include "tasks/summarize_chunker.hpp"

namespace attend {
namespace {

using nlohmann::json;

struct SummarizeSettings {
  std::string prefix;
  GenerationConfig generation;
  size_t max_input_tokens = 0;
};

const json* summarization_task_params(const Model::Impl& m) {
  const auto extra = m.doc.find("extra");
  if (extra == m.doc.end() || !extra->is_object()) return nullptr;
  const auto tsp = extra->find("task_specific_params");
  if (tsp == extra->end() || !tsp->is_object()) return nullptr;
  const auto s = tsp->find("summarization");
  if (s == tsp->end() || !s->is_object()) return nullptr;
  return &*s;
}

// task_specific_params.summarization → GenerationOptions (only the keys present).
GenerationOptions options_from_task_params(const json& t, std::string* prefix) {
  GenerationOptions o;
  auto where = [](const std::string& key) { return "config.json task_specific_params.summarization." + key; };
  auto get_int = [&](const char* key) -> std::optional<int> {
    auto it = t.find(key);
    if (it == t.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) throw Error(where(key) + " must be an integer");
    const auto v = it->get<int64_t>();
    if (v < 0 || v > 1000000) throw Error(where(key) + " is out of range");
    return static_cast<int>(v);
  };
  auto get_float = [&](const char* key) -> std::optional<float> {
    auto it = t.find(key);
    if (it == t.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) throw Error(where(key) + " must be a number");
    const double v = it->get<double>();
    if (!std::isfinite(v)) throw Error(where(key) + " must be finite");
    return static_cast<float>(v);
  };
  o.num_beams = get_int("num_beams");
  o.max_length = get_int("max_length");
  o.max_new_tokens = get_int("max_new_tokens");
  o.min_length = get_int("min_length");
  o.min_new_tokens = get_int("min_new_tokens");
  o.no_repeat_ngram_size = get_int("no_repeat_ngram_size");
  o.length_penalty = get_float("length_penalty");
  o.repetition_penalty = get_float("repetition_penalty");
  if (auto it = t.find("early_stopping"); it != t.end() && !it->is_null()) {
    if (it->is_boolean()) o.early_stopping = it->get<bool>() ? "true" : "false";
    else if (it->is_string() && it->get<std::string>() == "never") o.early_stopping = "never";
    else throw Error(where("early_stopping") + " must be true, false or \"never\"");
  }
  if (auto it = t.find("prefix"); it != t.end() && !it->is_null()) {
    if (!it->is_string()) throw Error(where("prefix") + " must be a string");
    *prefix = it->get<std::string>();
  }
  return o;
}

template <typename T>
void overlay(std::optional<T>& base, const std::optional<T>& over) {
  if (over) base = over;
}

GenerationOptions merge(GenerationOptions base, const GenerationOptions& o) {
  overlay(base.num_beams, o.num_beams);
  overlay(base.num_return_sequences, o.num_return_sequences);
  if (o.max_length) {  // an explicit max_length replaces a max_new_tokens of the task parameters
    base.max_length = o.max_length;
    if (!o.max_new_tokens) base.max_new_tokens.reset();
  }
  overlay(base.max_new_tokens, o.max_new_tokens);
  overlay(base.min_length, o.min_length);
  overlay(base.min_new_tokens, o.min_new_tokens);
  overlay(base.early_stopping, o.early_stopping);
  overlay(base.length_penalty, o.length_penalty);
  overlay(base.no_repeat_ngram_size, o.no_repeat_ngram_size);
  overlay(base.repetition_penalty, o.repetition_penalty);
  overlay(base.bad_words_ids, o.bad_words_ids);
  overlay(base.forced_bos_token_id, o.forced_bos_token_id);
  overlay(base.forced_eos_token_id, o.forced_eos_token_id);
  overlay(base.decoder_start_token_id, o.decoder_start_token_id);
  return base;
}

// The longest source the model takes: what the architecture declares (LED: its encoder position
// table cut to a window multiple, 16,384 for the 16k checkpoints; LongT5: 16,384), else the
// absolute position table, or for T5 (relative positions, no table) config.json's n_positions,
// else 512 as t5's tokenizers declare. Inputs up to it are summarized whole, in one pass (the
// long-input encoders run in linear memory); only longer ones are chunked.
size_t model_max_source_tokens(const Model::Impl& m) {
  if (m.spec.max_input_length > 0) return static_cast<size_t>(m.spec.max_input_length);
  if (m.spec.positions != PositionKind::RelativeBuckets) return static_cast<size_t>(std::max(1, m.spec.max_positions));
  try {
    const json& cfg = m.doc.at("source").at("hf_config");
    if (cfg.contains("n_positions") && cfg["n_positions"].is_number_integer()) {
      const auto n = cfg["n_positions"].get<int64_t>();
      if (n > 0 && n <= 1000000) return static_cast<size_t>(n);
    }
  } catch (const json::exception&) {
  }
  return 512;
}

SummarizeSettings resolve_settings(const Model::Impl& m, const SummarizeOptions& options) {
  if (!m.tokenizer) throw Error(m.label + ": this model has no tokenizer; summarize needs text");
  SummarizeSettings s;
  GenerationOptions base;
  if (const json* t = summarization_task_params(m)) base = options_from_task_params(*t, &s.prefix);
  if (options.prefix) s.prefix = *options.prefix;
  GenerationOptions merged = merge(base, options.generation);
  if (merged.num_return_sequences && *merged.num_return_sequences != 1)
    throw Error("summarize writes one summary per input: num_return_sequences must be 1");
  s.generation = m.resolve(merged, "");
  if (options.max_input_tokens < 0) throw Error("max_input_tokens must be >= 0");
  const size_t model_max = model_max_source_tokens(m);
  s.max_input_tokens = options.max_input_tokens > 0 ? static_cast<size_t>(options.max_input_tokens) : model_max;
  if (s.max_input_tokens > model_max)
    throw Error("max_input_tokens " + std::to_string(s.max_input_tokens) + " exceeds the model's maximum source length " +
                std::to_string(model_max));
  const size_t overhead = m.tokenizer->encode(s.prefix).size();
  if (s.max_input_tokens <= overhead)
    throw Error("an input limit of " + std::to_string(s.max_input_tokens) +
                " tokens leaves no room for text (the prefix and special tokens take " + std::to_string(overhead) + ")");
  if (options.max_batch_size < 1) throw Error("max_batch_size must be >= 1");
  if (options.max_batch_tokens < 0) throw Error("max_batch_tokens must be >= 0");
  if (options.max_rounds < 1) throw Error("max_rounds must be >= 1");
  return s;
}

bool only_whitespace(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

// One model input: a whole text or a chunk of it, for input `doc` in the current round.
struct Job {
  size_t doc = 0;
  size_t slot = 0;  // position of its summary among the doc's chunk summaries of this round
  std::vector<int32_t> ids;
};

struct DocState {
  std::string text;                    // what this round summarizes
  std::vector<std::string> summaries;  // chunk summaries of this round
  size_t pending = 0;                  // jobs of this round not yet decoded
  SummaryResult result;
  bool done = false;
  bool streamed = false;               // its summary went out through on_stream token by token
};

class Summarizer {
 public:
  Summarizer(const Model::Impl& m, const SummarizeSettings& s, const SummarizeOptions& o, const SummarizeCallbacks& cb)
      : m_(m), s_(s), o_(o), cb_(cb) {}

  std::vector<SummaryResult> run(const std::vector<std::string>& texts) {
    docs_.resize(texts.size());
    progress_.inputs_total = texts.size();
    std::vector<Job> queue;
    for (size_t d = 0; d < texts.size(); ++d) {
      if (only_whitespace(texts[d])) {
        docs_[d].result.error = "empty input";
        finish(d);
        continue;
      }
      docs_[d].text = texts[d];
      schedule(d, queue);
    }
    while (!queue.empty()) {
      std::vector<Job> next;
      run_queue(queue, next);
      queue.swap(next);
    }
    std::vector<SummaryResult> out;
    out.reserve(docs_.size());
    for (auto& d : docs_) out.push_back(std::move(d.result));
    return out;
  }

 private:
  std::vector<int32_t> encode(std::string_view text) const {
    return m_.tokenizer->encode(s_.prefix + std::string(text));
  }

  // Starts the next round of doc d: the whole text when it fits, else its chunks.
  void schedule(size_t d, std::vector<Job>& queue) {
    DocState& doc = docs_[d];
    ++doc.result.rounds;
    std::vector<std::vector<int32_t>> inputs;
    // A text far longer than the limit cannot fit; skip tokenizing it whole (and a text with an
    // enormous run without spaces would be slow to tokenize whole).
    if (doc.text.size() <= 64 * s_.max_input_tokens) {
      auto ids = encode(doc.text);
      if (ids.size() <= s_.max_input_tokens) inputs.push_back(std::move(ids));
    }
    if (inputs.empty()) {
      ChunkLimits limits;
      limits.max_tokens = s_.max_input_tokens;
      const TokenCounter count = [this](std::string_view t) { return encode(t).size(); };
      for (TextSpan c : split_into_chunks(doc.text, limits, count))
        inputs.push_back(encode(std::string_view(doc.text).substr(c.begin, c.size())));
      if (inputs.empty()) inputs.push_back(encode(doc.text));  // cannot happen for non-blank text
    }
    if (doc.result.rounds == 1) doc.result.chunks = static_cast<int>(inputs.size());
    doc.summaries.assign(inputs.size(), std::string());
    doc.pending = inputs.size();
    for (size_t i = 0; i < inputs.size(); ++i) queue.push_back(Job{d, i, std::move(inputs[i])});
  }

  void run_queue(std::vector<Job>& jobs, std::vector<Job>& next) {
    std::vector<size_t> order(jobs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return jobs[a].ids.size() < jobs[b].ids.size(); });
    const size_t max_rows = static_cast<size_t>(o_.max_batch_size);
    const size_t max_tokens = static_cast<size_t>(o_.max_batch_tokens);
    size_t start = 0;
    while (start < order.size()) {
      // Rows sorted by length: the padded size of a batch is rows * length of its last row.
      size_t end = start + 1;
      while (end < order.size() && end - start < max_rows &&
             (max_tokens == 0 || (end - start + 1) * jobs[order[end]].ids.size() <= max_tokens))
        ++end;
      std::vector<std::vector<int32_t>> batch;
      for (size_t i = start; i < end; ++i) batch.push_back(jobs[order[i]].ids);
      auto hyps = decode(jobs, order, start, batch);
      for (size_t i = start; i < end; ++i) {
        Job& job = jobs[order[i]];
        const Hypothesis& h = hyps[i - start].at(0);
        DocState& doc = docs_[job.doc];
        doc.summaries[job.slot] = m_.tokenizer->decode(h.ids, true);
        doc.result.source_tokens += static_cast<int64_t>(job.ids.size());
        const int64_t generated = h.ids.empty() ? 0 : static_cast<int64_t>(h.ids.size()) - 1;
        doc.result.generated_tokens += generated;
        progress_.source_tokens += static_cast<int64_t>(job.ids.size());
        progress_.generated_tokens += generated;
        if (--doc.pending == 0) round_done(job.doc, next);
      }
      ++progress_.batches_done;
      if (cb_.on_progress) cb_.on_progress(progress_);
      start = end;
    }
  }

  // One batch (rows order[start, start + batch.size()) of `jobs`) through the search, with
  // cancellation and streaming: a row whose job is its input's only one in this round makes the
  // final summary (round_done finishes a one-job round), so its tokens are streamed as decided.
  std::vector<std::vector<Hypothesis>> decode(const std::vector<Job>& jobs, const std::vector<size_t>& order,
                                              size_t start, const std::vector<std::vector<int32_t>>& batch) {
    if (o_.cancel.cancelled()) throw Cancelled("summarization cancelled");
    std::unique_ptr<RowStreams> streams;
    if (o_.on_stream)
      streams = std::make_unique<RowStreams>(m_.tokenizer.get(), batch.size(), s_.generation.decoder_start_token_id);
    bool stop = false;
    const RowStreams::Emit emit = [&](size_t row, StreamEvent& ev) {
      const size_t d = jobs[order[start + row]].doc;
      if (stop || docs_[d].summaries.size() != 1) return;
      docs_[d].streamed = true;
      ev.input = d;
      if (!o_.on_stream(ev)) stop = true;
    };
    const StepCallback on_step = [&](const StepInfo& info) {
      if (streams) streams->step(info, emit);
      return !stop && !o_.cancel.cancelled();
    };
    std::vector<std::vector<Hypothesis>> hyps;
    try {
      hyps = m_.generate_batch(batch, s_.generation, on_step);
    } catch (const Cancelled&) {
      throw;
    } catch (const Error&) {
      if (stop || o_.cancel.cancelled()) throw Cancelled("summarization cancelled");
      throw;
    }
    if (streams) streams->finish(hyps, emit);
    if (stop) throw Cancelled("summarization cancelled");
    return hyps;
  }

  // All chunks of doc d's round are summarized: finish it, or join and go again.
  void round_done(size_t d, std::vector<Job>& next) {
    DocState& doc = docs_[d];
    if (doc.summaries.size() == 1) {
      doc.result.summary = std::move(doc.summaries[0]);
      finish(d);
      return;
    }
    std::string joined;
    for (auto& s : doc.summaries) {
      const size_t b = s.find_first_not_of(" \t\n\r\f\v");
      if (b == std::string::npos) continue;
      const size_t e = s.find_last_not_of(" \t\n\r\f\v");
      if (!joined.empty()) joined += ' ';
      joined.append(s, b, e - b + 1);
    }
    doc.summaries.clear();
    // Short enough to be a summary itself (the output length limit, in tokens of the
    // tokenizer): done. Else summarize the joined text again, up to max_rounds.
    const size_t limit = static_cast<size_t>(std::max(1, s_.generation.resolved_max_length()));
    const bool short_enough = joined.size() <= 64 * limit && encode(joined).size() <= limit;
    if (short_enough || doc.result.rounds >= o_.max_rounds || only_whitespace(joined)) {
      doc.result.complete = short_enough || only_whitespace(joined);
      doc.result.summary = std::move(joined);
      finish(d);
      return;
    }
    doc.text = std::move(joined);
    schedule(d, next);
  }

  void finish(size_t d) {
    DocState& doc = docs_[d];
    doc.done = true;
    doc.text.clear();
    doc.text.shrink_to_fit();
    ++progress_.inputs_done;
    if (o_.on_stream && !doc.streamed) {  // joined chunk summaries or an error: one event
      StreamEvent ev;
      ev.input = d;
      ev.text = doc.result.summary;
      ev.finished = true;
      if (!o_.on_stream(ev)) throw Cancelled("summarization cancelled");
    }
    if (cb_.on_result) cb_.on_result(d, doc.result);
  }

  const Model::Impl& m_;
  const SummarizeSettings& s_;
  const SummarizeOptions& o_;
  const SummarizeCallbacks& cb_;
  std::vector<DocState> docs_;
  SummarizeProgress progress_;
};

}  // namespace

std::vector<SummaryResult> Model::summarize(const std::vector<std::string>& texts, const SummarizeOptions& options,
                                            const SummarizeCallbacks& callbacks) const {
  const SummarizeSettings s = resolve_settings(*impl_, options);
  return Summarizer(*impl_, s, options, callbacks).run(texts);
}

std::string Model::summarize_settings(const SummarizeOptions& options) const {
  const SummarizeSettings s = resolve_settings(*impl_, options);
  json j;
  j["prefix"] = s.prefix;
  j["max_input_tokens"] = s.max_input_tokens;
  j["generation"] = s.generation.to_json();
  return j.dump();
}

}  // namespace attend

// api/translator.cpp — attend::Translator: the request queue shared by caller threads and the
// worker thread that forms batches across callers (same generation settings, bounded by
// max_batch_size / max_batch_tokens, after a short wait window) and decodes them.
#include "attend/translator.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/model_impl.hpp"
#include "engine/decoding/streaming.hpp"

namespace attend {
namespace {

using Clock = std::chrono::steady_clock;

// One translate() call.
struct Request {
  GenerationConfig config;
  AttentionRequest attention;      // cross-attention capture (part of the key)
  std::string key;                 // requests with equal keys may share a batch
  StreamCallback on_stream;
  CancelToken cancel;
  std::vector<TranslationResult> results;
  size_t remaining = 0;            // inputs not decoded yet
  bool done = false;               // under Impl::mu: results/error final, the caller may return
  std::exception_ptr error;
  std::mutex callback_mu;          // held while the worker runs on_stream
  bool abandoned = false;          // under callback_mu: the caller returned, no more callbacks
};

struct Item {
  std::shared_ptr<Request> req;
  size_t index = 0;                // input index within the request
  std::vector<int32_t> ids;
  Clock::time_point arrived;
};

std::string config_key(const GenerationConfig& g) {
  return g.to_json().dump() + (g.beam_suppress_pad_before_log_softmax ? "|sp" : "");
}

}  // namespace

struct ATTEND_HIDDEN Translator::Impl {
  std::shared_ptr<const Model> model;
  const Model::Impl* m = nullptr;
  TranslatorOptions options;

  mutable std::mutex mu;
  mutable std::condition_variable work_cv;  // the worker: new items or stop
  mutable std::condition_variable done_cv;  // callers: a request finished or queue room
  std::deque<Item> queue;
  bool stopping = false;
  Stats stats;
  std::thread worker;

  void run();
  std::vector<Item> take_batch(std::unique_lock<std::mutex>& lock);
  void decode(std::vector<Item>& batch);
  void finish(Request& r, std::exception_ptr error);  // under mu
};

void Translator::Impl::finish(Request& r, std::exception_ptr error) {
  if (r.done) return;
  r.done = true;
  r.error = error;
  done_cv.notify_all();
}

std::vector<Item> Translator::Impl::take_batch(std::unique_lock<std::mutex>& lock) {
  // Drop the items of requests that are already over (cancelled or failed).
  queue.erase(std::remove_if(queue.begin(), queue.end(), [](const Item& it) { return it.req->done; }), queue.end());
  if (queue.empty()) return {};
  const std::string key = queue.front().req->key;
  const size_t max_batch = static_cast<size_t>(options.max_batch_size);
  // Wait window: until the first item has waited wait_ms or a full batch of its kind is queued.
  const Clock::time_point deadline = queue.front().arrived + std::chrono::milliseconds(options.wait_ms);
  while (!stopping && Clock::now() < deadline) {
    size_t compatible = 0;
    for (const Item& it : queue) compatible += it.req->key == key ? 1 : 0;
    if (compatible >= max_batch) break;
    work_cv.wait_until(lock, deadline);
  }
  std::vector<Item> batch;
  size_t longest = 0;
  for (auto it = queue.begin(); it != queue.end() && batch.size() < max_batch;) {
    const size_t len = std::max(longest, it->ids.size());
    const bool fits = batch.empty() || (batch.size() + 1) * len <= static_cast<size_t>(options.max_batch_tokens);
    if (it->req->key == key && !it->req->done && fits) {
      longest = len;
      batch.push_back(std::move(*it));
      it = queue.erase(it);
    } else {
      ++it;
    }
  }
  done_cv.notify_all();  // room in the queue
  return batch;
}

void Translator::Impl::decode(std::vector<Item>& batch) {
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(batch.size());
  for (const Item& it : batch) ids.push_back(it.ids);
  const GenerationConfig& g = batch.front().req->config;

  bool any_stream = false;
  for (const Item& it : batch) any_stream = any_stream || static_cast<bool>(it.req->on_stream);
  std::unique_ptr<RowStreams> streams;
  if (any_stream) streams = std::make_unique<RowStreams>(m->tokenizer.get(), batch.size(), g.decoder_start_token_id);

  // Stream events go to their request's callback unless the caller has returned; a callback
  // returning false or throwing ends its request (the batch goes on for the others).
  bool emitted = false;
  const RowStreams::Emit emit = [&](size_t row, StreamEvent& ev) {
    emitted = true;
    Request& r = *batch[row].req;
    if (!r.on_stream) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (r.done) return;  // cancelled or failed: no more events
    }
    ev.input = batch[row].index;
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> cb(r.callback_mu);
      if (r.abandoned) return;
      try {
        if (!r.on_stream(ev)) error = std::make_exception_ptr(Cancelled("translation cancelled"));
      } catch (...) {
        error = std::current_exception();
      }
    }
    if (error) {
      std::lock_guard<std::mutex> lock(mu);
      finish(r, error);
    }
  };
  // The batch stops early only when every request in it is over.
  const StepCallback on_step = [&](const StepInfo& info) {
    if (streams) streams->step(info, emit);
    std::lock_guard<std::mutex> lock(mu);
    bool any_running = false;
    for (const Item& it : batch) {
      if (!it.req->done && it.req->cancel.cancelled())
        finish(*it.req, std::make_exception_ptr(Cancelled("translation cancelled")));
      any_running = any_running || !it.req->done;
    }
    return any_running;
  };

  std::vector<std::vector<Hypothesis>> hyps;
  try {
    // Sampling draws from each input's own RNG stream (its index in its call), so a batch
    // gives what Model::translate gives.
    SearchInputs rng;
    for (const Item& it : batch) rng.streams.push_back(static_cast<uint64_t>(it.index));
    hyps = m->generate_batch(ids, g, on_step, rng, nullptr, nullptr, batch.front().req->attention);
    if (streams) streams->finish(hyps, emit);
  } catch (...) {
    std::exception_ptr error = std::current_exception();
    // A failure before any decoding step (e.g. one input too long for the model) must not fail
    // the other callers' inputs: decode them one by one, so only the bad input's request fails.
    bool all_over = true;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const Item& it : batch) all_over = all_over && (it.req->done || it.req->cancel.cancelled());
    }
    if (batch.size() > 1 && !emitted && !all_over) {
      for (Item& it : batch) {
        std::vector<Item> single;
        single.push_back(std::move(it));
        decode(single);
      }
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    for (Item& it : batch) {
      const bool cancelled = it.req->cancel.cancelled();
      finish(*it.req, cancelled ? std::make_exception_ptr(Cancelled("translation cancelled")) : error);
    }
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i)
    if (m->tokenizer)
      for (auto& h : hyps[i]) h.text = m->tokenizer->decode(h.ids, true);

  std::lock_guard<std::mutex> lock(mu);
  ++stats.batches;
  stats.inputs += batch.size();
  stats.max_batch = std::max(stats.max_batch, batch.size());
  if (stats.batch_sizes.size() <= batch.size()) stats.batch_sizes.resize(batch.size() + 1, 0);
  ++stats.batch_sizes[batch.size()];
  for (size_t i = 0; i < batch.size(); ++i) {
    Request& r = *batch[i].req;
    if (r.done) continue;
    r.results[batch[i].index].hypotheses = std::move(hyps[i]);
    if (--r.remaining == 0) finish(r, nullptr);
  }
}

void Translator::Impl::run() {
  if (options.threads > 0) set_num_threads(options.threads);
  std::unique_lock<std::mutex> lock(mu);
  const auto work = [&] { return stopping || !queue.empty(); };
  bool kept = false;  // the model may hold buffers from a batch decoded since the last release
  while (true) {
    if (kept && options.release_caches_after_ms > 0) {
      if (!work_cv.wait_for(lock, std::chrono::milliseconds(options.release_caches_after_ms), work)) {
        lock.unlock();
        model->release_caches();  // idle: give the kept buffers back (thread-safe, see Model)
        lock.lock();
        kept = false;
        ++stats.cache_releases;
        continue;
      }
    } else {
      work_cv.wait(lock, work);
    }
    if (stopping) break;
    std::vector<Item> batch = take_batch(lock);
    if (batch.empty()) continue;
    lock.unlock();
    decode(batch);
    kept = true;
    batch.clear();  // release the requests outside the lock
    lock.lock();
  }
  for (Item& it : queue) finish(*it.req, std::make_exception_ptr(Error("translator shut down")));
  queue.clear();
}

Translator::Translator(std::shared_ptr<const Model> model, const TranslatorOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (!model) throw Error("Translator: no model");
  if (options.wait_ms < 0) throw Error("TranslatorOptions.wait_ms must be >= 0");
  if (options.max_batch_size < 1) throw Error("TranslatorOptions.max_batch_size must be >= 1");
  if (options.max_batch_tokens < 1) throw Error("TranslatorOptions.max_batch_tokens must be >= 1");
  if (options.max_queued < 1) throw Error("TranslatorOptions.max_queued must be >= 1");
  if (options.threads < 0) throw Error("TranslatorOptions.threads must be >= 0");
  if (options.release_caches_after_ms < 0) throw Error("TranslatorOptions.release_caches_after_ms must be >= 0");
  impl_->m = model->impl_.get();
  impl_->model = std::move(model);
  impl_->options = options;
  impl_->worker = std::thread([p = impl_.get()] { p->run(); });
}

Translator::~Translator() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->work_cv.notify_all();
  impl_->done_cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

std::vector<TranslationResult> Translator::translate(const std::vector<std::string>& inputs,
                                                     const TranslateOptions& options) const {
  Impl& s = *impl_;
  auto req = std::make_shared<Request>();
  req->config = s.m->validate(options);
  // Issue 17: per-input prefixes, alternatives and shortlists change how a batch is formed.
  if (!options.target_prefix.empty() || !options.target_prefix_ids.empty() || options.return_alternatives > 0 ||
      options.shortlist)
    throw Error("Translator: target prefixes, return_alternatives and shortlists are not supported here; use Model::translate");
  if (inputs.empty()) return {};
  if (inputs.size() > static_cast<size_t>(s.options.max_queued))
    throw Error("Translator: " + std::to_string(inputs.size()) + " inputs in one call exceed max_queued (" +
                std::to_string(s.options.max_queued) + ")");
  if (options.cancel.cancelled()) throw Cancelled("translation cancelled");
  std::vector<std::vector<int32_t>> ids = s.m->encode_inputs(inputs, options);
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i].empty()) throw Error("input " + std::to_string(i) + ": empty input (no tokens)");
  req->attention = s.m->attention_request(options);
  req->key = config_key(req->config);
  if (!req->attention.layers.empty()) {  // only requests capturing the same attention share a batch
    req->key += "|att" + std::string(req->attention.mean_heads ? "m" : "h") + std::to_string(req->attention.head);
    for (int l : req->attention.layers) req->key += ":" + std::to_string(l);
  }
  req->on_stream = options.on_stream;
  req->cancel = options.cancel;
  req->results.resize(inputs.size());
  req->remaining = inputs.size();

  // The caller polls its cancel token while it waits (a token has no way to wake it); the worker
  // also checks it after every decoding step and wakes the caller.
  const auto poll = std::chrono::milliseconds(10);
  auto abandon = [&](std::unique_lock<std::mutex>& lock) {
    s.finish(*req, std::make_exception_ptr(Cancelled("translation cancelled")));
    lock.unlock();
    std::lock_guard<std::mutex> cb(req->callback_mu);  // waits for a running callback
    req->abandoned = true;
  };
  std::unique_lock<std::mutex> lock(s.mu);
  while (!s.stopping && s.queue.size() + inputs.size() > static_cast<size_t>(s.options.max_queued)) {
    if (options.cancel.cancelled()) throw Cancelled("translation cancelled");
    s.done_cv.wait_for(lock, poll);
  }
  if (s.stopping) throw Error("Translator: shut down");
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < ids.size(); ++i) s.queue.push_back(Item{req, i, std::move(ids[i]), now});
  s.work_cv.notify_one();
  while (!req->done) {
    if (options.cancel.cancelled()) {
      abandon(lock);
      throw Cancelled("translation cancelled");
    }
    s.done_cv.wait_for(lock, poll);
  }
  std::exception_ptr error = req->error;
  lock.unlock();
  {
    std::lock_guard<std::mutex> cb(req->callback_mu);
    req->abandoned = true;
  }
  if (error) std::rethrow_exception(error);
  return std::move(req->results);
}

const std::shared_ptr<const Model>& Translator::model() const { return impl_->model; }
const TranslatorOptions& Translator::options() const { return impl_->options; }

Translator::Stats Translator::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

}  // namespace attend

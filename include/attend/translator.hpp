// attend/translator.hpp — dynamic batching for concurrent callers: a Translator owns a request
// queue and one compute thread that batches the inputs of many callers' translate() calls
// together, so N threads sharing one Model get more total throughput than N serial calls.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "attend/attend.hpp"
#include "attend/export.h"

namespace attend {

struct TranslatorOptions {
  // Batch window: after the first input of a batch arrives, the worker waits up to this long
  // for more compatible inputs before decoding (a batch that is full starts at once).
  int wait_ms = 5;
  // Inputs decoded together at most.
  int max_batch_size = 32;
  // Padded source tokens of one batch at most (inputs x longest input). An input longer than
  // this is decoded alone.
  int max_batch_tokens = 4096;
  // Inputs waiting in the queue at most: a caller whose inputs do not fit blocks until there is
  // room; a single call with more inputs than this is rejected with attend::Error.
  int max_queued = 1024;
  // OpenMP/oneDNN threads of the compute thread (0 = the library default, all cores).
  int threads = 0;
  // Once nothing has been decoded for this long, the worker frees the buffers the model keeps
  // between batches (Model::release_caches: tens of MB after a batch of 32 with beam 4), so an
  // idle service holds little more than the weights; the next batch allocates them again. 0:
  // never (keep them for the next batch, however late).
  int release_caches_after_ms = 30000;
};

// Threading model. translate() may be called from any number of threads at once. The calling
// thread validates the options and tokenizes its inputs, queues them and blocks until all its
// results are ready. One worker thread per Translator takes queued inputs in arrival order,
// groups those with identical generation settings into batches (bounded by max_batch_size and
// max_batch_tokens) and decodes them with its OpenMP/oneDNN pool of `threads` threads. Weights
// are the Model's, shared and never copied; memory is bounded by max_queued inputs waiting plus
// one batch in flight. Results equal those of Model::translate on the same inputs: padding does
// not change a row's result (masked keys get attention weight exactly 0, positions are per row)
// and each row of a matrix product is computed alike whatever the batch (tests check this on the
// bundled model with 16 threads).
//
// Per-call options: `generation`, src_lang/tgt_lang, input_prefix, on_stream and cancel apply;
// max_batch_size is the Translator's. Stream callbacks run on the worker thread (keep them
// short: they delay every batch). A cancelled call returns at once with attend::Cancelled; its
// inputs already in a running batch finish there and are discarded, the others leave the queue.
// Destroy a Translator only after every translate() call on it has returned. A stream callback
// must not call translate() on its own Translator.
class ATTEND_API Translator {
 public:
  explicit Translator(std::shared_ptr<const Model> model, const TranslatorOptions& options = {});
  ~Translator();
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

  // One result per input, in input order; thread-safe; blocks until done.
  std::vector<TranslationResult> translate(const std::vector<std::string>& inputs,
                                           const TranslateOptions& options = {}) const;

  const std::shared_ptr<const Model>& model() const;
  const TranslatorOptions& options() const;

  // Counters since construction (for benchmarks and monitoring).
  struct Stats {
    size_t batches = 0;       // batches decoded
    size_t inputs = 0;        // inputs decoded
    size_t max_batch = 0;     // largest batch
    std::vector<size_t> batch_sizes;  // [n]: batches of n inputs decoded ([0] unused)
    size_t cache_releases = 0;  // idle periods that freed the model's kept buffers (release_caches_after_ms)
  };
  Stats stats() const;

  struct ATTEND_HIDDEN Impl;  // internal (engine/), not exported

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace attend

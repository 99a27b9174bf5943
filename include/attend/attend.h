/* attend/attend.h — Attend's C API: load a model, translate batches (n-best with scores,
   streaming, cancellation), dynamic batching across threads. Plain C (C99), opaque handles,
   usable through any FFI (Python ctypes, Rust, Go, C#).

   Conventions
   - Every function that can fail returns an attend_status: ATTEND_OK (0) or an error code; the
     message of the calling thread's last error is attend_last_error() (thread-local, valid until
     the thread's next Attend call). Successful calls do not clear it.
   - Objects are created by attend_*_new / attend_*_load / attend_translate and freed by the
     matching attend_*_free, which accept NULL. Strings and arrays returned by accessors belong to
     the object they come from and live as long as it does.
   - A model is immutable once loaded. Each call computes on the calling thread (OpenMP/oneDNN
     threads: attend_set_num_threads applies to the calling thread). attend_translate calls on one
     model from several threads at once are safe and give the serial results; to batch the
     requests of many threads together, use an attend_translator (one worker thread, see
     attend_translator_new), whose results also equal serial calls.
   - Strings are UTF-8, NUL-terminated. */
#ifndef ATTEND_ATTEND_H
#define ATTEND_ATTEND_H

#include <stddef.h>
#include <stdint.h>

#include "attend/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum attend_status {
  ATTEND_OK = 0,
  ATTEND_ERROR_INVALID_ARGUMENT = 1, /* NULL argument, unknown option, option value out of range */
  ATTEND_ERROR_LOAD = 2,             /* the model could not be loaded (missing/corrupt file) */
  ATTEND_ERROR_TRANSLATE = 3,        /* translation failed (e.g. bad input) */
  ATTEND_ERROR_CANCELLED = 4,        /* cancelled by an attend_cancel or a stream callback */
  ATTEND_ERROR_OUT_OF_MEMORY = 5,
  ATTEND_ERROR_INTERNAL = 6          /* anything else */
} attend_status;

typedef struct attend_model attend_model;           /* a loaded model */
typedef struct attend_options attend_options;       /* per-call translation options */
typedef struct attend_result attend_result;         /* results of one attend_translate call */
typedef struct attend_cancel attend_cancel;         /* a cancellation flag */
typedef struct attend_translator attend_translator; /* dynamic batching across threads */

/* Library version ("0.1.0"). */
ATTEND_API const char* attend_version(void);
/* The calling thread's last error message ("" if none). */
ATTEND_API const char* attend_last_error(void);
/* A short name of a status code ("ok", "invalid argument", ...). */
ATTEND_API const char* attend_status_name(attend_status status);
/* OpenMP/oneDNN threads of the calling thread's calls (threads >= 1). */
ATTEND_API attend_status attend_set_num_threads(int threads);

/* --- models --- */
/* `path`: an Attend model file or a Hugging Face checkpoint directory. threads: compute threads
   of the calling thread (0 = default). On success *out is a new model (attend_model_free). */
ATTEND_API attend_status attend_model_load(const char* path, int threads, attend_model** out);
ATTEND_API void attend_model_free(attend_model* model);
/* Memory a model keeps between calls (the last batch's decoder caches and logits, for the next
   batch): its resident bytes (0 for NULL), and freeing it, e.g. when the application goes idle
   (the next call allocates again and gives the same results; safe while other threads translate).
   An attend_translator does this itself after 30 s with nothing to decode. */
ATTEND_API size_t attend_model_cached_bytes(const attend_model* model);
ATTEND_API void attend_model_release_caches(const attend_model* model);

/* --- loading with options; Hugging Face hub models --- */
/* `path` of attend_model_load_with may also be a hub model id ("org/name", "name", optionally
   "@revision"): an existing file or directory always wins; an id is resolved through
   huggingface_hub's cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub),
   downloaded when missing and converted once (docs/hub.md). attend_model_load does the same with
   the defaults. */
typedef struct attend_load_options attend_load_options;
ATTEND_API attend_load_options* attend_load_options_new(void); /* NULL only when out of memory */
ATTEND_API void attend_load_options_free(attend_load_options* options);
/* "compute_type" ("default", "auto", "fp32", "bf16", "int8"), "revision", "cache_dir",
   "endpoint" (default $HF_ENDPOINT, else https://huggingface.co), "token" (default $HF_TOKEN; sent
   to the endpoint only, never printed). */
ATTEND_API attend_status attend_load_options_set_string(attend_load_options* options, const char* name,
                                                        const char* value);
/* "threads" (>= 0, 0 = default), "offline" (1: no network, the cache only; default $HF_HUB_OFFLINE),
   "quiet" (1: no download progress on stderr). */
ATTEND_API attend_status attend_load_options_set_int(attend_load_options* options, const char* name, int64_t value);
/* attend_model_load with options (NULL: the defaults). */
ATTEND_API attend_status attend_model_load_with(const char* path, const attend_load_options* options,
                                                attend_model** out);
/* Fetches the files Attend needs of hub model `model_id` into the cache (options: revision,
   cache_dir, endpoint, token, offline, quiet; NULL: the defaults). On success *snapshot_dir is the
   snapshot directory, valid until the calling thread's next Attend call. */
ATTEND_API attend_status attend_download_model(const char* model_id, const attend_load_options* options,
                                               const char** snapshot_dir);

/* --- options (all optional; unset ones keep the model's generation defaults) --- */
ATTEND_API attend_options* attend_options_new(void); /* NULL only when out of memory */
ATTEND_API void attend_options_free(attend_options* options);
/* Integer options: "num_beams", "num_return_sequences", "max_length", "max_new_tokens",
   "min_length", "min_new_tokens", "no_repeat_ngram_size", "max_batch_size",
   "forced_bos_token_id", "forced_eos_token_id", "decoder_start_token_id";
   cross-attention: "return_attention" (1: results carry attend_result_attention), "attention_layer"
   (default -1 = the last decoder layer; negative counts from the end), "attention_all_layers" and
   "attention_all_heads" (1: every layer / every head instead of the mean over heads),
   "attention_head" (>= 0: that head only).
   sampling: "do_sample" (0/1), "top_k", "seed" (64-bit); "return_alternatives" (N next-token
   alternatives after each prefix, each completed: N hypotheses per input). */
ATTEND_API attend_status attend_options_set_int(attend_options* options, const char* name, int64_t value);
/* Float options: "length_penalty", "repetition_penalty"; sampling: "temperature" (> 0),
   "top_p", "typical_p" (in (0, 1]). Ranges are checked by attend_translate. */
ATTEND_API attend_status attend_options_set_float(attend_options* options, const char* name, double value);
/* String options: "src_lang", "tgt_lang", "input_prefix", "early_stopping" ("true"/"false"/"never"),
   "shortlist" (a vocabulary shortlist file to load, "" = none). */
ATTEND_API attend_status attend_options_set_string(attend_options* options, const char* name, const char* value);
/* Target prefixes, one per input of the next attend_translate call ("" or NULL = none); n = 0 clears. */
ATTEND_API attend_status attend_options_set_target_prefixes(attend_options* options, const char* const* prefixes, size_t n);

/* Streaming: called while inputs are decoded, on the thread that decodes (the caller's for
   attend_translate, the worker's for attend_translator_translate), never concurrently for one
   call. For input `input_index`: `ids`/`n_ids` are the token ids decided since its previous
   call, `text` the UTF-8 text they complete (may be ""), `finished` is 1 on its last call. All
   `ids` of an input concatenated are its best hypothesis' ids without the decoder start token;
   all `text` concatenated is its best hypothesis' text. The pointers are valid during the call
   only. Return 0 to go on, non-zero to cancel the call (it then returns ATTEND_ERROR_CANCELLED). */
typedef int (*attend_stream_fn)(void* user_data, size_t input_index, const int32_t* ids, size_t n_ids,
                                const char* text, int finished);
/* fn NULL removes the callback. */
ATTEND_API attend_status attend_options_set_stream(attend_options* options, attend_stream_fn fn, void* user_data);
/* Calls with these options stop when `cancel` is requested (it must outlive those calls; NULL
   removes it). */
ATTEND_API attend_status attend_options_set_cancel(attend_options* options, attend_cancel* cancel);

/* --- cancellation --- */
ATTEND_API attend_cancel* attend_cancel_new(void); /* NULL only when out of memory */
ATTEND_API void attend_cancel_free(attend_cancel* cancel);
/* Thread-safe: any thread may request cancellation while a call runs. A call notices it before
   each batch and after every decoding step. Stays requested. */
ATTEND_API void attend_cancel_request(attend_cancel* cancel);
ATTEND_API int attend_cancel_requested(const attend_cancel* cancel);

/* --- translation --- */
/* Translates inputs[0..n_inputs) (options may be NULL). On success *out holds one entry per
   input, in input order (attend_result_free). Options are checked first
   (ATTEND_ERROR_INVALID_ARGUMENT). */
ATTEND_API attend_status attend_translate(const attend_model* model, const char* const* inputs, size_t n_inputs,
                                          const attend_options* options, attend_result** out);

ATTEND_API size_t attend_result_count(const attend_result* result);
/* Hypotheses of input `input` (num_return_sequences; best first); 0 if out of range. */
ATTEND_API size_t attend_result_num_hypotheses(const attend_result* result, size_t input);
/* NULL if out of range. */
ATTEND_API const char* attend_result_text(const attend_result* result, size_t input, size_t hypothesis);
/* Beam search: transformers' sequences_scores; greedy: sum of the chosen tokens' scores.
   0 if out of range. */
ATTEND_API float attend_result_score(const attend_result* result, size_t input, size_t hypothesis);
/* Token ids (decoder start token first, EOS included when emitted); *n_ids their count.
   NULL (and *n_ids 0) if out of range. */
ATTEND_API const int32_t* attend_result_ids(const attend_result* result, size_t input, size_t hypothesis,
                                            size_t* n_ids);
/* Cross-attention weights (option "return_attention"): floats [layers][heads][target][source],
   entry (l, h, t, s) = how much generated token t (ids[t + 1]) attended to source token s; heads
   is 1 when they are averaged. NULL (and every count 0) when not requested or out of range.
   Any count pointer may be NULL. Valid until attend_result_free. */
ATTEND_API const float* attend_result_attention(const attend_result* result, size_t input, size_t hypothesis,
                                                size_t* layers, size_t* heads, size_t* target, size_t* source);
ATTEND_API void attend_result_free(attend_result* result);

/* --- dynamic batching --- */
/* A request queue and one worker thread that batches concurrent attend_translator_translate calls
   of any threads (same generation settings) after a wait window of wait_ms, at most
   max_batch_size inputs and max_batch_tokens padded source tokens per batch, at most max_queued
   inputs waiting (callers block for room). threads: the worker's compute threads (0 = default).
   Zero for any of wait_ms/max_batch_size/max_batch_tokens/max_queued takes the default
   (5, 32, 4096, 1024). The model must outlive the translator. */
ATTEND_API attend_status attend_translator_new(const attend_model* model, int wait_ms, int max_batch_size,
                                               int max_batch_tokens, int max_queued, int threads,
                                               attend_translator** out);
/* Free only when no call on it is running. */
ATTEND_API void attend_translator_free(attend_translator* translator);
/* Like attend_translate, thread-safe; results equal attend_translate's. */
ATTEND_API attend_status attend_translator_translate(attend_translator* translator, const char* const* inputs,
                                                     size_t n_inputs, const attend_options* options,
                                                     attend_result** out);

#ifdef __cplusplus
}
#endif

#endif /* ATTEND_ATTEND_H */

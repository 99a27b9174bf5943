// attend/attend.hpp — Attend's public C++ API: load a converted model (or a Hugging Face
// checkpoint directory), translate/summarize batches of text or token ids with transformers'
// generate semantics, convert checkpoints. Exposes no oneDNN, SentencePiece or JSON types.
// Every failure throws attend::Error (attend/error.hpp); a cancelled call throws its subclass
// attend::Cancelled.
//
// Threading: a loaded Model is immutable (weights are shared, never copied). Each call computes
// on the calling thread with that thread's OpenMP/oneDNN thread pool (set_num_threads /
// LoadOptions::threads apply to the thread that calls them). Direct calls from several threads
// at once are safe and give exactly the serial results (tested with 16 threads), each decoding
// only its own inputs. To batch concurrent callers together use attend::Translator
// (attend/translator.hpp): it decodes on one compute thread; its results equal serial calls.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attend/error.hpp"
#include "attend/export.h"
#include "attend/hub.hpp"

namespace attend {

// Generation settings; an unset field keeps the model's default (its generation_config.json,
// resolved as transformers does). For the forced/start token ids, -1 means "none".
struct GenerationOptions {
  std::optional<int> num_beams;
  std::optional<int> num_return_sequences;
  std::optional<int> max_length;       // output length limit, decoder start token included
  std::optional<int> max_new_tokens;   // wins over max_length when set
  std::optional<int> min_length;
  std::optional<int> min_new_tokens;
  std::optional<std::string> early_stopping;  // "true", "false" or "never"
  std::optional<float> length_penalty;
  std::optional<int> no_repeat_ngram_size;
  std::optional<float> repetition_penalty;
  std::optional<std::vector<std::vector<int32_t>>> bad_words_ids;
  std::optional<int32_t> forced_bos_token_id;
  std::optional<int32_t> forced_eos_token_id;
  std::optional<int32_t> decoder_start_token_id;
  // --- Sampling (issue 17; transformers' names and semantics). do_sample draws each token from
  // the processed, warped distribution (num_beams must be 1): temperature (> 0), top_k (0 = off;
  // the model default is transformers' 50), top_p and typical_p (in (0, 1], 1 = off), applied
  // in that order. seed: the same seed gives the same output on any thread count and batching.
  // do_sample without num_beams uses num_beams 1 (the model's default beam is ignored).
  std::optional<bool> do_sample;
  std::optional<float> temperature;
  std::optional<int> top_k;
  std::optional<float> top_p;
  std::optional<float> typical_p;
  std::optional<uint64_t> seed;     // default 0
};

// Cancellation: a flag that any thread may set while a call runs. Copies share the flag. The
// call notices it before each batch and after every decoding step, stops and throws
// attend::Cancelled. A token stays cancelled; use a new one for the next call.
class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const noexcept { flag_->store(true, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return flag_->load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

// Streaming: what the callback is told while an input is being decoded. For each input, the
// `ids` of all its events concatenated are hypotheses[0].ids without the decoder start token, and
// the `text` of all its events concatenated is hypotheses[0].text. Greedy search decides one
// token per step; beam search reports the tokens every hypothesis that can still win shares (so
// text arrives in bursts, and all of it at the latest when the input finishes). For
// translate_documents, `input` counts the sentence pieces of all documents in order.
struct StreamEvent {
  size_t input = 0;                 // index of the input in the call's inputs
  std::vector<int32_t> ids;         // token ids decided since this input's previous event
  std::string text;                 // text completed since the previous event (may be empty)
  bool finished = false;            // this input's last event: all its tokens/text delivered
};
// Called on the thread that decodes (the caller's for Model, the worker's for Translator), never
// concurrently for one call. Return false to cancel the call (it then throws attend::Cancelled).
// An exception thrown by the callback cancels the call and propagates.
using StreamCallback = std::function<bool(const StreamEvent&)>;

// Progress: what on_progress is told after each batch of a translate() call. Lighter than
// streaming for progress displays: nothing is decoded to text while a batch runs.
struct ProgressEvent {
  size_t inputs_done = 0;  // inputs of the call whose results are complete
  size_t inputs = 0;       // inputs of the call
  int64_t tokens = 0;      // ids of those inputs' best hypotheses, decoder start token excepted
};
// Called on the caller's thread; return false to cancel the call (it then throws attend::Cancelled).
using ProgressCallback = std::function<bool(const ProgressEvent&)>;

// How max_batch_size is counted: inputs per batch, or tokens per batch (the padded size:
// number of inputs x the longest input's token count, as CTranslate2's "tokens" batch type).
enum class BatchType { Examples, Tokens };

class Shortlist;  // attend/shortlist.hpp (issue 17)

struct TranslateOptions {
  GenerationOptions generation;
  int max_batch_size = 32;          // inputs (or tokens, see batch_type) decoded together
  BatchType batch_type = BatchType::Examples;  // inputs are sorted by length before batching
  std::string src_lang, tgt_lang;   // multilingual models: codes as their tokenizer spells them;
                                    // this call only ("": the tokenizer's configured default)
  std::string input_prefix;         // prepended to every input text (e.g. T5's "summarize: ")
  StreamCallback on_stream;         // optional: tokens/text as they are decided
  ProgressCallback on_progress;     // optional: after each batch (Model::translate)
  CancelToken cancel;               // optional: cancel() from any thread stops the call

  // --- Decoding extras (issue 17) ---
  // Target prefixes (CTranslate2's target_prefix, transformers' decoder_input_ids): empty, or one
  // per input. Decoding continues after the prefix; it is part of the returned hypothesis
  // (ids and text) and adds nothing to the score. Text is split with the target tokenizer (no
  // special tokens added); ids are used as given. An empty entry means no prefix for that input.
  // The decoder sequence is [start] + [forced BOS, if the model forces one] + prefix, and forced
  // BOS is not applied again after it; max_new_tokens counts after the prefix.
  std::vector<std::string> target_prefix;
  std::vector<std::vector<int32_t>> target_prefix_ids;  // used when target_prefix is empty
  // Alternatives at a position (CTranslate2's return_alternatives): when > 0, each result holds up
  // to this many hypotheses: the most likely next tokens after the input's prefix, best first,
  // each continued by the configured search to the end. Hypothesis::score is then the
  // alternative token's log-probability at that position (log_softmax + processors).
  int return_alternatives = 0;
  // Vocabulary shortlist (opt-in): the output layer and softmax are restricted to the tokens the
  // shortlist allows for the batch's source tokens (see attend/shortlist.hpp). Null: off.
  std::shared_ptr<const Shortlist> shortlist;
  // --- Cross-attention weights (docs/attention.md) ---
  // return_attention: each hypothesis gets Hypothesis::attention, the encoder-decoder attention
  // of every generated token over the source tokens. Captured only when asked (no cost off).
  // Default reduction: one layer (attention_layer, negative counts from the last: -1 = the
  // last decoder layer, which aligns words best on the bundled model), mean over its heads.
  bool return_attention = false;
  int attention_layer = -1;           // the layer returned unless attention_all_layers
  bool attention_all_layers = false;  // every decoder layer, in order
  bool attention_all_heads = false;   // every head instead of their mean
  int attention_head = -1;            // >= 0: only this head (instead of the mean)
};

// Cross-attention weights of one hypothesis (TranslateOptions::return_attention).
// weights[((l * heads + h) * target + t) * source + s]: how much generated token t (ids[t + 1],
// decided at step t) attended to source token s (source_ids[s]) in layers[l], head h (heads == 1:
// the mean over all heads). Each (l, h, t) row sums to 1 over the source.
struct AttentionWeights {
  std::vector<int> layers;            // decoder layer indices (0 = first)
  int heads = 0;                      // 1 when averaged over heads or one head was asked for
  bool mean_heads = true;             // heads == 1 because they were averaged
  int head = -1;                      // heads == 1 because only this head was asked for
  int target = 0, source = 0;
  std::vector<int32_t> source_ids;    // the input's token ids (special tokens included)
  std::vector<float> weights;         // [layers][heads][target][source]
  bool empty() const { return weights.empty(); }
  float at(int l, int h, int t, int s) const {
    return weights[((static_cast<size_t>(l) * heads + h) * target + t) * source + s];
  }
};

struct Hypothesis {
  std::string text;                 // detokenized, special tokens skipped
  std::vector<int32_t> ids;         // decoder start token + generated ids (EOS included if emitted)
  float score = 0.0f;               // beam: transformers' sequences_scores; greedy: sum of token scores
  std::vector<float> token_scores;  // greedy: processed score of each chosen token
  AttentionWeights attention;       // only with TranslateOptions::return_attention
};

// One link of a word alignment: source word `source` ~ target word `target` (0-based indices
// of whitespace-separated words; Model::align_words).
struct WordLink {
  int source = 0, target = 0;
  bool operator==(const WordLink& o) const { return source == o.source && target == o.target; }
};
// Moses / fast_align text form: "0-0 1-2 3-1" (source-target pairs, space separated).
ATTEND_API std::string format_alignment(const std::vector<WordLink>& links);
// The inverse; throws attend::Error naming the bad pair.
ATTEND_API std::vector<WordLink> parse_alignment(const std::string& text);

struct TranslationResult {
  std::vector<Hypothesis> hypotheses;  // best first; num_return_sequences of them
};

// One translated document (Model::translate_documents).
struct DocumentTranslation {
  std::string text;                 // the translation, with the input's layout (see translate_documents)
  size_t sentences = 0;             // sentences translated
  size_t invalid_utf8 = 0;          // invalid UTF-8 sequences replaced by U+FFFD before translating
};

// Summarization (Model::summarize). Settings are resolved as transformers' SummarizationPipeline
// does: the model's generation defaults, then config.json's task_specific_params.summarization
// (T5: prefix "summarize: ", num_beams, min/max_length, ...), then the fields set here.
struct SummarizeOptions {
  GenerationOptions generation;       // per-call overrides (win over the task parameters)
  std::optional<std::string> prefix;  // replaces the task parameters' prefix ("" = none)
  int max_batch_size = 32;            // chunks decoded together, across all inputs
  int max_batch_tokens = 0;           // padded source tokens per batch; 0 = no budget
  int max_input_tokens = 0;           // chunk limit (prefix and special tokens included);
                                      // 0 = the model's maximum source length
  int max_rounds = 4;                 // long inputs: summarization rounds at most (>= 1)
  // Optional: each input's summary as it is decided (StreamEvent.input = index in `texts`; the
  // text of an input's events concatenated is its summary). An input whose summary is one
  // generation streams it token by token (ids as in translate); one whose summary is joined
  // chunk summaries gets it in a single event (ids empty); an input that failed gets one
  // finished event with no text. Return false to cancel the call.
  StreamCallback on_stream;
  CancelToken cancel;                 // optional: cancel() from any thread stops the call
};

struct SummaryResult {
  std::string summary;        // the summary text (empty when `error` is set)
  std::string error;          // non-empty: this input failed (e.g. "empty input"), others go on
  int chunks = 0;             // pieces the input was split into in the first round
  int rounds = 0;             // summarization rounds (1 for an input that fits)
  bool complete = true;       // false: max_rounds was reached and the joined chunk summaries
                              // are still longer than the summary length limit
  int64_t source_tokens = 0;  // tokens fed to the encoder for this input, all rounds
  int64_t generated_tokens = 0;
};

struct SummarizeProgress {
  size_t inputs_total = 0, inputs_done = 0;   // done: summarized or failed
  size_t batches_done = 0;
  int64_t source_tokens = 0, generated_tokens = 0;  // so far
};

// Callbacks of Model::summarize, called on the calling thread between batches. An exception
// thrown by a callback ends the call.
struct SummarizeCallbacks {
  std::function<void(size_t index, const SummaryResult& result)> on_result;  // as each input completes
  std::function<void(const SummarizeProgress& progress)> on_progress;        // after every batch
};

struct ModelInfo {
  std::string family;               // "marian", "bart", "mbart", "t5", "m2m100", "pegasus"
  std::string tokenizer;            // tokenizer kind, "" when the model has none
  int vocab_size = 0;
  int d_model = 0, encoder_layers = 0, decoder_layers = 0, heads = 0;
  std::vector<std::string> languages;  // language codes (multilingual models)
  // The languages a model translates from and into as its tokenizer_config.json names them
  // (Marian: source_lang/target_lang, e.g. "en"/"de"; mBART-50/NLLB: src_lang/tgt_lang, their
  // defaults); "" when the file does not say.
  std::string source_language, target_language;
  std::string generation_defaults;  // JSON text of the resolved generation defaults
  std::string task_params;          // JSON text of config.json's task_specific_params ("" if none)
  std::string quantization;         // how the file stores its weights: "none", "int8", "bf16", "fp16"
  std::string compute_type;         // what the matmuls run in: "fp32", "bf16" or "int8"
  std::string compute_type_note;    // why, when it differs from the request (auto, CPU fallback)
  std::string cpu_isa;              // the CPU's best ISA as detected at load, e.g. "avx512_core_bf16"
  // The CPU as cpuid names it, with family, model and stepping, e.g. "AMD EPYC (family 25,
  // model 17, stepping 1)": behind one brand string can be different generations.
  std::string cpu_model;
  // Encoder attention (long inputs): "full", "led_sliding_window", "longt5_local" or
  // "longt5_transient_global"; LED's window per encoder layer, LongT5's local radius (blocks of
  // radius + 1) and global block size; the longest input in tokens (0 = no bound from the model).
  std::string encoder_attention;
  std::vector<int> attention_window;
  int local_radius = 0, global_block_size = 0;
  int max_input_length = 0;
};

struct LoadOptions {
  int threads = 0;                  // 0 = leave oneDNN/OpenMP's default
  // Arithmetic of the matmuls: "default" (what the file was quantized for; fp32 for a float
  // file), "auto" (fastest the CPU supports: int8 with VNNI/AMX, else bf16, else fp32),
  // "fp32", "bf16" or "int8". Any file runs with any type (int8 weights are dequantized for
  // fp32, float weights quantized at load for int8); unsupported types fall back to fp32.
  std::string compute_type = "default";
  // A hub id given to Model::load: revision, cache, endpoint, token, offline (attend/hub.hpp).
  HubOptions hub;
};

class ATTEND_API Model {
 public:
  // `path` is an Attend model file (attend convert), a Hugging Face checkpoint directory, or a
  // hub model id ("org/name", "name", optionally "@revision"; see is_hub_model_id). An existing
  // file or directory always wins; a string that is neither an existing path nor an id is a
  // missing file. An id is resolved through huggingface_hub's cache (options.hub), downloaded
  // when needed (download_model), and converted once into an .attend file kept in the cache
  // (<cache>/models--ORG--NAME/attend/); a later load of the same id makes no network request.
  static std::shared_ptr<const Model> load(const std::string& path, const LoadOptions& options = {});
  ~Model();

  // One result per input, in input order.
  std::vector<TranslationResult> translate(const std::vector<std::string>& inputs,
                                           const TranslateOptions& options = {}) const;
  // Document translation. Each document is split into paragraphs (separated by lines holding
  // only whitespace) and each paragraph into sentences (rule-based, EN/DE/FR/ES/CJK); the
  // sentences of all documents are translated together in batches of options.max_batch_size.
  // Everything outside sentences is copied unchanged: leading/trailing whitespace, blank lines,
  // and the whitespace between two sentences (so a line break between sentences stays). Inside a
  // sentence, a line break is ordinary whitespace (wrapped text): whitespace runs are given to the
  // model as one space. A sentence longer than 256 tokens (or the model's input limit) is cut at whitespace
  // (else at a character boundary) into pieces that fit, translated, joined with a space.
  // Invalid UTF-8 is replaced by U+FFFD first (counted in invalid_utf8). The best hypothesis is used.
  std::vector<DocumentTranslation> translate_documents(const std::vector<std::string>& documents,
                                                       const TranslateOptions& options = {}) const;
  DocumentTranslation translate_document(const std::string& document, const TranslateOptions& options = {}) const;
  // Token ids in (each input already holding the family's special tokens), ids and text out.
  std::vector<TranslationResult> generate(const std::vector<std::vector<int32_t>>& input_ids,
                                          const TranslateOptions& options = {}) const;
  // One summary per input, in input order. Inputs longer than the model's source limit are
  // split on paragraph and sentence boundaries, the pieces summarized, and the joined piece
  // summaries summarized again while longer than the summary length limit (docs/summarize.md).
  // Chunks of all inputs are batched together. A bad input (empty) gets `error` set, the
  // others go on; invalid settings throw attend::Error; a cancelled call (options.cancel, or
  // on_stream returning false) throws attend::Cancelled.
  std::vector<SummaryResult> summarize(const std::vector<std::string>& texts, const SummarizeOptions& options = {},
                                       const SummarizeCallbacks& callbacks = {}) const;
  // The settings summarize() would use, as JSON text: {"prefix": ..., "max_input_tokens": ...,
  // "generation": {...}} (resolved generation config).
  std::string summarize_settings(const SummarizeOptions& options = {}) const;
  // Tokenize / detokenize with the model's own tokenizer (throws if it has none); src_lang as
  // in TranslateOptions, for this call only.
  std::vector<int32_t> tokenize(const std::string& text, const std::string& src_lang = "") const;
  std::string detokenize(const std::vector<int32_t>& ids) const;

  ModelInfo info() const;

  // Memory kept between calls: the decoder's key/value caches and logits buffer of the last
  // batch, kept so that the next batch finds them resident (tens of MB at batch 32 with beam 4).
  // cached_bytes() is how much of it is resident now. release_caches() frees it and hands freed
  // heap memory back to the system (for an application or server going idle); the next call
  // allocates again and gives the same results. Thread-safe: calls running keep their buffers.
  size_t cached_bytes() const;
  void release_caches() const;

  // --- Attention: tokens, word alignment, markup-preserving translation (docs/attention.md) ---
  // The tokenizer's token strings of ids ("▁Hund", "</s>"), for labelling attention weights.
  std::vector<std::string> token_pieces(const std::vector<int32_t>& ids) const;
  // Word alignment of a hypothesis translated with return_attention: words are the tokens'
  // pieces merged into whitespace-separated words (special tokens left out), the weights are
  // averaged over the layers and heads the hypothesis holds, and every target word is linked to
  // the source word it attends to most. Sorted by target, then source. Throws if the hypothesis
  // has no attention.
  std::vector<WordLink> align_words(const Hypothesis& hypothesis) const;
  // HTML translation: each document (or fragment) parsed with an HTML5 parser, the text of each
  // block translated as one input, inline tags (b, i, a, span, em, strong, code, ...) put back
  // around the target words aligned to their source words, every other tag and attribute kept;
  // script, style, code, pre, textarea and translate="no" content untouched; entities decoded
  // for the model and re-encoded. The output is well-formed. The attention options of `options`
  // choose the alignment layer (return_attention is implied).
  std::vector<std::string> translate_html(const std::vector<std::string>& html, const TranslateOptions& options = {}) const;

  // Throws attend::Error when `options` are invalid for this model, as translate() would before
  // doing any work: generation settings out of range, an unknown target language,
  // max_batch_size < 1.
  void validate(const TranslateOptions& options) const;

  struct ATTEND_HIDDEN Impl;  // internal (engine/), not exported
 private:
  friend class Translator;
  friend class Shortlist;  // issue 17: builds from the model's tokenizers
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ConvertOptions {
  std::string weights;              // "", "safetensors" or "bin": which HF weights file to read
  std::string dtype;                // "" (as stored), "f32", "f16", "bf16"
  // "" (none), "int8" (linear weights as I8 + per-output-channel F32 scales; other tensors as
  // --dtype says), "bf16" or "fp16" (every float tensor stored in that type).
  std::string quantize;
  HubOptions hub;                   // when hf_dir is a hub id (see Model::load)
};

// The batches translate()/generate() form for inputs of these token lengths: indices into
// `lengths`, sorted by length (stable), cut by options.max_batch_size counted in inputs or,
// with BatchType::Tokens, in padded tokens (a single input longer than the budget still gets
// its own batch). Every index appears exactly once.
ATTEND_API std::vector<std::vector<size_t>> plan_batches(const std::vector<size_t>& lengths,
                                                          const TranslateOptions& options);

// Converts a Hugging Face checkpoint directory (or a hub id, see Model::load: its cached
// snapshot, downloaded when needed) into an Attend model file.
ATTEND_API void convert_model(const std::string& hf_dir, const std::string& output, const ConvertOptions& options = {});

// Threads used by the calling thread's Attend calls (OpenMP / oneDNN).
ATTEND_API void set_num_threads(int threads);

// --- Engine time profile (issue 12): wall time spent in parts of the engine by every call
// since the last reset_engine_times(), summed over calling threads (with one caller at a time
// each part is a share of that caller's wall time). `attend bench` prints the matmul share.
struct EngineTimes {
  double matmul_s = 0.0;        // oneDNN matmul executions (encoder, decoder and LM head)
  double linear_extra_s = 0.0;  // int8 activation quantization / bf16 conversion, int8 epilogues
  double attention_s = 0.0;     // decoder self- and cross-attention over the caches
  double norm_s = 0.0;          // layer norms and RMS norms
  double search_s = 0.0;        // beam search per step: log_softmax, processors, top-k, bookkeeping
  long long matmul_calls = 0;
};
ATTEND_API EngineTimes engine_times();
ATTEND_API void reset_engine_times();

ATTEND_API const char* version();

}  // namespace attend

#include "attend/translator.hpp"

// api/c_api.cpp — the C API (include/attend/attend.h) over the C++ API: opaque handles that
// wrap the C++ objects, exceptions turned into status codes plus a thread-local message.
#include "attend/attend.h"

#include <climits>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "attend/attend.hpp"
#include "attend/shortlist.hpp"

struct attend_model {
  std::shared_ptr<const attend::Model> model;
};

struct attend_load_options {
  attend::LoadOptions options;
};

struct attend_cancel {
  attend::CancelToken token;
};

struct attend_options {
  attend::TranslateOptions options;
  attend_stream_fn stream_fn = nullptr;
  void* stream_user_data = nullptr;
  attend_cancel* cancel = nullptr;
};

struct attend_result {
  std::vector<attend::TranslationResult> results;
};

struct attend_translator {
  std::unique_ptr<attend::Translator> translator;
};

namespace {

thread_local std::string last_error;
thread_local std::string last_snapshot_dir;  // attend_download_model's answer

attend_status fail(attend_status status, const std::string& message) {
  last_error = message;
  return status;
}

// Runs `body`, mapping exceptions to status codes; `error_status` for attend::Error.
template <typename F>
attend_status guarded(attend_status error_status, F&& body) {
  try {
    body();
    return ATTEND_OK;
  } catch (const attend::Cancelled& e) {
    return fail(ATTEND_ERROR_CANCELLED, e.what());
  } catch (const attend::Error& e) {
    return fail(error_status, e.what());
  } catch (const std::bad_alloc&) {
    return fail(ATTEND_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(ATTEND_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(ATTEND_ERROR_INTERNAL, "unknown error");
  }
}

attend_status null_arg(const char* function, const char* name) {
  return fail(ATTEND_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + name + " is NULL");
}

const attend::TranslationResult* input_at(const attend_result* r, size_t input) {
  if (!r || input >= r->results.size()) return nullptr;
  return &r->results[input];
}

const attend::Hypothesis* hyp_at(const attend_result* r, size_t input, size_t hyp) {
  const attend::TranslationResult* t = input_at(r, input);
  if (!t || hyp >= t->hypotheses.size()) return nullptr;
  return &t->hypotheses[hyp];
}

// The C++ options of a call: the stored ones with the C callback and cancel flag bound.
attend::TranslateOptions call_options(const attend_options* o) {
  if (!o) return attend::TranslateOptions();
  attend::TranslateOptions opt = o->options;
  if (o->cancel) opt.cancel = o->cancel->token;
  if (o->stream_fn) {
    attend_stream_fn fn = o->stream_fn;
    void* user = o->stream_user_data;
    opt.on_stream = [fn, user](const attend::StreamEvent& ev) {
      return fn(user, ev.input, ev.ids.data(), ev.ids.size(), ev.text.c_str(), ev.finished ? 1 : 0) == 0;
    };
  }
  return opt;
}

attend_status check_inputs(const char* function, const char* const* inputs, size_t n, attend_result** out) {
  if (!out) return null_arg(function, "out");
  *out = nullptr;
  if (!inputs && n > 0) return null_arg(function, "inputs");
  for (size_t i = 0; i < n; ++i)
    if (!inputs[i]) return fail(ATTEND_ERROR_INVALID_ARGUMENT, std::string(function) + ": inputs[" + std::to_string(i) + "] is NULL");
  return ATTEND_OK;
}

template <typename Translate>
attend_status run_translate(const char* function, const attend::Model& model, const char* const* inputs, size_t n,
                            const attend_options* options, attend_result** out, Translate&& translate) {
  attend::TranslateOptions opt;
  attend_status st = guarded(ATTEND_ERROR_INVALID_ARGUMENT, [&] {
    opt = call_options(options);
    model.validate(opt);
  });
  if (st != ATTEND_OK) {
    if (st == ATTEND_ERROR_INVALID_ARGUMENT) last_error = std::string(function) + ": bad options: " + last_error;
    return st;
  }
  std::unique_ptr<attend_result> result;
  st = guarded(ATTEND_ERROR_TRANSLATE, [&] {
    std::vector<std::string> texts(inputs, inputs + n);
    result = std::make_unique<attend_result>();
    result->results = translate(texts, opt);
  });
  if (st != ATTEND_OK) return st;
  *out = result.release();
  return ATTEND_OK;
}

}  // namespace

extern "C" {

const char* attend_version(void) { return attend::version(); }

const char* attend_last_error(void) { return last_error.c_str(); }

const char* attend_status_name(attend_status status) {
  switch (status) {
    case ATTEND_OK: return "ok";
    case ATTEND_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case ATTEND_ERROR_LOAD: return "load error";
    case ATTEND_ERROR_TRANSLATE: return "translation error";
    case ATTEND_ERROR_CANCELLED: return "cancelled";
    case ATTEND_ERROR_OUT_OF_MEMORY: return "out of memory";
    case ATTEND_ERROR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

attend_status attend_set_num_threads(int threads) {
  if (threads < 1) return fail(ATTEND_ERROR_INVALID_ARGUMENT, "attend_set_num_threads: threads must be >= 1");
  attend::set_num_threads(threads);
  return ATTEND_OK;
}

attend_status attend_model_load(const char* path, int threads, attend_model** out) {
  if (threads < 0) {
    if (out) *out = nullptr;
    return fail(ATTEND_ERROR_INVALID_ARGUMENT, "attend_model_load: threads must be >= 0");
  }
  attend_load_options o;
  o.options.threads = threads;
  return attend_model_load_with(path, &o, out);
}

attend_status attend_model_load_with(const char* path, const attend_load_options* options, attend_model** out) {
  if (!out) return null_arg("attend_model_load", "out");
  *out = nullptr;
  if (!path) return null_arg("attend_model_load", "path");
  std::unique_ptr<attend_model> m;
  attend_status st = guarded(ATTEND_ERROR_LOAD, [&] {
    m = std::make_unique<attend_model>();
    m->model = attend::Model::load(path, options ? options->options : attend::LoadOptions());
  });
  if (st == ATTEND_OK) *out = m.release();
  return st;
}

attend_load_options* attend_load_options_new(void) { return new (std::nothrow) attend_load_options(); }

void attend_load_options_free(attend_load_options* options) { delete options; }

attend_status attend_load_options_set_string(attend_load_options* options, const char* name, const char* value) {
  if (!options) return null_arg("attend_load_options_set_string", "options");
  if (!name) return null_arg("attend_load_options_set_string", "name");
  if (!value) return null_arg("attend_load_options_set_string", "value");
  const std::string n = name;
  attend::LoadOptions& o = options->options;
  if (n == "compute_type") o.compute_type = value;
  else if (n == "revision") o.hub.revision = value;
  else if (n == "cache_dir") o.hub.cache_dir = value;
  else if (n == "endpoint") o.hub.endpoint = value;
  else if (n == "token") o.hub.token = value;
  else return fail(ATTEND_ERROR_INVALID_ARGUMENT, "unknown load option '" + n + "'");
  return ATTEND_OK;
}

attend_status attend_load_options_set_int(attend_load_options* options, const char* name, int64_t value) {
  if (!options) return null_arg("attend_load_options_set_int", "options");
  if (!name) return null_arg("attend_load_options_set_int", "name");
  const std::string n = name;
  attend::LoadOptions& o = options->options;
  if (n == "threads") {
    if (value < 0 || value > INT_MAX) return fail(ATTEND_ERROR_INVALID_ARGUMENT, "load option threads must be >= 0");
    o.threads = static_cast<int>(value);
  } else if (n == "offline" || n == "quiet") {
    if (value != 0 && value != 1) return fail(ATTEND_ERROR_INVALID_ARGUMENT, "load option " + n + " must be 0 or 1");
    if (n == "offline") o.hub.offline = value == 1;
    else o.hub.quiet = value == 1;
  } else {
    return fail(ATTEND_ERROR_INVALID_ARGUMENT, "unknown integer load option '" + n + "'");
  }
  return ATTEND_OK;
}

attend_status attend_download_model(const char* model_id, const attend_load_options* options, const char** snapshot_dir) {
  if (!snapshot_dir) return null_arg("attend_download_model", "snapshot_dir");
  *snapshot_dir = nullptr;
  if (!model_id) return null_arg("attend_download_model", "model_id");
  return guarded(ATTEND_ERROR_LOAD, [&] {
    const attend::DownloadResult r = attend::download_model(model_id, options ? options->options.hub : attend::HubOptions());
    last_snapshot_dir = r.snapshot_dir;
    *snapshot_dir = last_snapshot_dir.c_str();
  });
}

void attend_model_free(attend_model* model) { delete model; }

// No attend_status to report through: neither throws but for a failing mutex, caught here.
size_t attend_model_cached_bytes(const attend_model* model) {
  try {
    return model ? model->model->cached_bytes() : 0;
  } catch (...) {
    return 0;
  }
}

void attend_model_release_caches(const attend_model* model) {
  try {
    if (model) model->model->release_caches();
  } catch (...) {
  }
}

attend_options* attend_options_new(void) { return new (std::nothrow) attend_options(); }

void attend_options_free(attend_options* options) { delete options; }

attend_status attend_options_set_int(attend_options* options, const char* name, int64_t value) {
  if (!options) return null_arg("attend_options_set_int", "options");
  if (!name) return null_arg("attend_options_set_int", "name");
  const std::string n = name;
  if (n == "seed") {  // issue 17: the full 64-bit range (negative values wrap)
    options->options.generation.seed = static_cast<uint64_t>(value);
    return ATTEND_OK;
  }
  if (value < INT_MIN || value > INT_MAX)
    return fail(ATTEND_ERROR_INVALID_ARGUMENT, "option " + n + ": value " + std::to_string(value) + " out of range");
  const int v = static_cast<int>(value);
  attend::GenerationOptions& g = options->options.generation;
  if (n == "num_beams") g.num_beams = v;
  else if (n == "num_return_sequences") g.num_return_sequences = v;
  else if (n == "max_length") g.max_length = v;
  else if (n == "max_new_tokens") g.max_new_tokens = v;
  else if (n == "min_length") g.min_length = v;
  else if (n == "min_new_tokens") g.min_new_tokens = v;
  else if (n == "no_repeat_ngram_size") g.no_repeat_ngram_size = v;
  else if (n == "forced_bos_token_id") g.forced_bos_token_id = v;
  else if (n == "forced_eos_token_id") g.forced_eos_token_id = v;
  else if (n == "decoder_start_token_id") g.decoder_start_token_id = v;
  // cross-attention weights (attend_result_attention)
  else if (n == "return_attention") options->options.return_attention = v != 0;
  else if (n == "attention_layer") options->options.attention_layer = v;
  else if (n == "attention_all_layers") options->options.attention_all_layers = v != 0;
  else if (n == "attention_all_heads") options->options.attention_all_heads = v != 0;
  else if (n == "attention_head") options->options.attention_head = v;
  // issue 17: sampling and alternatives
  else if (n == "do_sample") g.do_sample = v != 0;
  else if (n == "top_k") g.top_k = v;
  else if (n == "return_alternatives") {
    if (v < 0) return fail(ATTEND_ERROR_INVALID_ARGUMENT, "option return_alternatives must be >= 0");
    options->options.return_alternatives = v;
  } else if (n == "max_batch_size") {
    if (v < 1) return fail(ATTEND_ERROR_INVALID_ARGUMENT, "option max_batch_size must be >= 1 (got " + std::to_string(v) + ")");
    options->options.max_batch_size = v;
  } else {
    return fail(ATTEND_ERROR_INVALID_ARGUMENT, "unknown integer option '" + n + "'");
  }
  return ATTEND_OK;
}

attend_status attend_options_set_float(attend_options* options, const char* name, double value) {
  if (!options) return null_arg("attend_options_set_float", "options");
  if (!name) return null_arg("attend_options_set_float", "name");
  const std::string n = name;
  if (!(value >= -std::numeric_limits<float>::max() && value <= std::numeric_limits<float>::max()))
    return fail(ATTEND_ERROR_INVALID_ARGUMENT, "option " + n + ": value must be a finite float");
  attend::GenerationOptions& g = options->options.generation;
  if (n == "length_penalty") g.length_penalty = static_cast<float>(value);
  else if (n == "repetition_penalty") g.repetition_penalty = static_cast<float>(value);
  else if (n == "temperature") g.temperature = static_cast<float>(value);  // issue 17: sampling
  else if (n == "top_p") g.top_p = static_cast<float>(value);
  else if (n == "typical_p") g.typical_p = static_cast<float>(value);
  else return fail(ATTEND_ERROR_INVALID_ARGUMENT, "unknown float option '" + n + "'");
  return ATTEND_OK;
}

attend_status attend_options_set_string(attend_options* options, const char* name, const char* value) {
  if (!options) return null_arg("attend_options_set_string", "options");
  if (!name) return null_arg("attend_options_set_string", "name");
  if (!value) return null_arg("attend_options_set_string", "value");
  const std::string n = name, v = value;
  return guarded(ATTEND_ERROR_INVALID_ARGUMENT, [&] {
    attend::TranslateOptions& o = options->options;
    if (n == "src_lang") o.src_lang = v;
    else if (n == "tgt_lang") o.tgt_lang = v;
    else if (n == "input_prefix") o.input_prefix = v;
    else if (n == "shortlist") o.shortlist = v.empty() ? nullptr : attend::Shortlist::load(v);  // issue 17
    else if (n == "early_stopping") {
      if (v != "true" && v != "false" && v != "never")
        throw attend::Error("option early_stopping must be true, false or never (got '" + v + "')");
      o.generation.early_stopping = v;
    } else {
      throw attend::Error("unknown string option '" + n + "'");
    }
  });
}

attend_status attend_options_set_target_prefixes(attend_options* options, const char* const* prefixes, size_t n) {
  if (!options) return null_arg("attend_options_set_target_prefixes", "options");
  if (n > 0 && !prefixes) return null_arg("attend_options_set_target_prefixes", "prefixes");
  return guarded(ATTEND_ERROR_INVALID_ARGUMENT, [&] {
    std::vector<std::string> p;
    for (size_t i = 0; i < n; ++i) p.emplace_back(prefixes[i] ? prefixes[i] : "");
    options->options.target_prefix = std::move(p);
  });
}

attend_status attend_options_set_stream(attend_options* options, attend_stream_fn fn, void* user_data) {
  if (!options) return null_arg("attend_options_set_stream", "options");
  options->stream_fn = fn;
  options->stream_user_data = user_data;
  return ATTEND_OK;
}

attend_status attend_options_set_cancel(attend_options* options, attend_cancel* cancel) {
  if (!options) return null_arg("attend_options_set_cancel", "options");
  options->cancel = cancel;
  return ATTEND_OK;
}

attend_cancel* attend_cancel_new(void) {
  try {
    return new attend_cancel();
  } catch (...) {
    return nullptr;
  }
}

void attend_cancel_free(attend_cancel* cancel) { delete cancel; }

void attend_cancel_request(attend_cancel* cancel) {
  if (cancel) cancel->token.cancel();
}

int attend_cancel_requested(const attend_cancel* cancel) { return cancel && cancel->token.cancelled() ? 1 : 0; }

attend_status attend_translate(const attend_model* model, const char* const* inputs, size_t n_inputs,
                               const attend_options* options, attend_result** out) {
  attend_status st = check_inputs("attend_translate", inputs, n_inputs, out);
  if (st != ATTEND_OK) return st;
  if (!model) return null_arg("attend_translate", "model");
  const attend::Model& m = *model->model;
  return run_translate("attend_translate", m, inputs, n_inputs, options, out,
                       [&](const std::vector<std::string>& t, const attend::TranslateOptions& o) { return m.translate(t, o); });
}

size_t attend_result_count(const attend_result* result) { return result ? result->results.size() : 0; }

size_t attend_result_num_hypotheses(const attend_result* result, size_t input) {
  const attend::TranslationResult* t = input_at(result, input);
  return t ? t->hypotheses.size() : 0;
}

const char* attend_result_text(const attend_result* result, size_t input, size_t hypothesis) {
  const attend::Hypothesis* h = hyp_at(result, input, hypothesis);
  return h ? h->text.c_str() : nullptr;
}

float attend_result_score(const attend_result* result, size_t input, size_t hypothesis) {
  const attend::Hypothesis* h = hyp_at(result, input, hypothesis);
  return h ? h->score : 0.0f;
}

const int32_t* attend_result_ids(const attend_result* result, size_t input, size_t hypothesis, size_t* n_ids) {
  const attend::Hypothesis* h = hyp_at(result, input, hypothesis);
  if (n_ids) *n_ids = h ? h->ids.size() : 0;
  return h ? h->ids.data() : nullptr;
}

const float* attend_result_attention(const attend_result* result, size_t input, size_t hypothesis, size_t* layers,
                                     size_t* heads, size_t* target, size_t* source) {
  const attend::Hypothesis* h = hyp_at(result, input, hypothesis);
  const bool has = h && !h->attention.empty();
  if (layers) *layers = has ? h->attention.layers.size() : 0;
  if (heads) *heads = has ? static_cast<size_t>(h->attention.heads) : 0;
  if (target) *target = has ? static_cast<size_t>(h->attention.target) : 0;
  if (source) *source = has ? static_cast<size_t>(h->attention.source) : 0;
  return has ? h->attention.weights.data() : nullptr;
}

void attend_result_free(attend_result* result) { delete result; }

attend_status attend_translator_new(const attend_model* model, int wait_ms, int max_batch_size, int max_batch_tokens,
                                    int max_queued, int threads, attend_translator** out) {
  if (!out) return null_arg("attend_translator_new", "out");
  *out = nullptr;
  if (!model) return null_arg("attend_translator_new", "model");
  std::unique_ptr<attend_translator> t;
  attend_status st = guarded(ATTEND_ERROR_INVALID_ARGUMENT, [&] {
    attend::TranslatorOptions o;
    if (wait_ms != 0) o.wait_ms = wait_ms;
    if (max_batch_size != 0) o.max_batch_size = max_batch_size;
    if (max_batch_tokens != 0) o.max_batch_tokens = max_batch_tokens;
    if (max_queued != 0) o.max_queued = max_queued;
    o.threads = threads;
    t = std::make_unique<attend_translator>();
    t->translator = std::make_unique<attend::Translator>(model->model, o);
  });
  if (st == ATTEND_OK) *out = t.release();
  return st;
}

void attend_translator_free(attend_translator* translator) { delete translator; }

attend_status attend_translator_translate(attend_translator* translator, const char* const* inputs, size_t n_inputs,
                                          const attend_options* options, attend_result** out) {
  attend_status st = check_inputs("attend_translator_translate", inputs, n_inputs, out);
  if (st != ATTEND_OK) return st;
  if (!translator) return null_arg("attend_translator_translate", "translator");
  const attend::Translator& t = *translator->translator;
  if (n_inputs > static_cast<size_t>(t.options().max_queued))
    return fail(ATTEND_ERROR_INVALID_ARGUMENT, "attend_translator_translate: " + std::to_string(n_inputs) +
                                                   " inputs exceed the translator's max_queued (" +
                                                   std::to_string(t.options().max_queued) + ")");
  return run_translate("attend_translator_translate", *t.model(), inputs, n_inputs, options, out,
                       [&](const std::vector<std::string>& x, const attend::TranslateOptions& o) { return t.translate(x, o); });
}

}  // extern "C"

// engine/api.cpp — implementation of the public API (include/attend/attend.hpp): model
// loading from an Attend file or a HF directory, batching (sorted by length, cut by inputs or a
// token budget), tokenization, generation and detokenization, streaming and cancellation.
#include <omp.h>

#include <algorithm>
#include <numeric>

#include "attend/attend.hpp"
#include "engine/compute_type.hpp"
#include "engine/mapped_file.hpp"
#include "engine/model_file.hpp"
#include "engine/model_impl.hpp"
#include "engine/streaming.hpp"
#include "models/converter.hpp"

namespace attend {

Model::Impl::Impl(const std::string& label_, const nlohmann::json& doc_, const TensorMap& tensors,
                  const std::map<std::string, std::string>& tokenizer_files, const std::string& compute_type)
    : label(label_), doc(doc_) {
  try {
    spec = ArchSpec::from_json(doc.at("architecture"));
  } catch (const nlohmann::json::exception&) {
    throw Error(label + ": model document has no architecture");
  } catch (const Error& e) {
    throw Error(label + ": " + e.what());
  }
  const auto& q = doc.value("quantization", nlohmann::json::object());
  if (q.is_object() && q.contains("weights") && q["weights"].is_string()) quantization = q["weights"].get<std::string>();
  if (quantization != "none" && quantization != "int8" && quantization != "bf16" && quantization != "fp16") {
    throw Error(label + ": unsupported quantization.weights '" + quantization + "' (this build reads none, int8, bf16, fp16)");
  }
  const CpuCaps caps = cpu_caps();
  const ResolvedCompute rc = resolve_compute_type(compute_type, quantization, caps);
  compute_note = rc.note;
  cpu_isa = caps.isa;
  net = std::make_unique<Transformer>(spec, tensors, label, rc.type);
  if (doc.contains("generation")) {
    try {
      defaults.apply_json(doc["generation"]);
    } catch (const Error& e) {
      throw Error(label + ": generation defaults: " + e.what());
    }
  }
  defaults.beam_suppress_pad_before_log_softmax = spec.beam_suppress_pad_before_log_softmax;
  const auto& tok = doc.value("tokenizer", nlohmann::json::object());
  if (tok.is_object() && tok.contains("kind") && tok["kind"].is_string() && !tok["kind"].get<std::string>().empty()) {
    try {
      tokenizer = make_tokenizer(tok["kind"].get<std::string>(), tokenizer_files);
    } catch (const Error& e) {
      throw Error(label + ": tokenizer: " + e.what());
    }
  }
}

GenerationConfig Model::Impl::resolve(const GenerationOptions& o, const std::string& tgt_lang) const {
  GenerationConfig g = defaults;
  if (o.num_beams) g.num_beams = *o.num_beams;
  if (o.num_return_sequences) g.num_return_sequences = *o.num_return_sequences;
  if (o.max_length) {
    g.max_length = *o.max_length;
    g.max_new_tokens.reset();
  }
  if (o.max_new_tokens) g.max_new_tokens = *o.max_new_tokens;
  if (o.min_length) g.min_length = *o.min_length;
  if (o.min_new_tokens) g.min_new_tokens = *o.min_new_tokens;
  if (o.early_stopping) {
    const std::string& e = *o.early_stopping;
    if (e == "true") g.early_stopping = EarlyStopping::True;
    else if (e == "false") g.early_stopping = EarlyStopping::False;
    else if (e == "never") g.early_stopping = EarlyStopping::Never;
    else throw Error("early_stopping must be true, false or never (got '" + e + "')");
  }
  if (o.length_penalty) g.length_penalty = *o.length_penalty;
  if (o.no_repeat_ngram_size) g.no_repeat_ngram_size = *o.no_repeat_ngram_size;
  if (o.repetition_penalty) g.repetition_penalty = *o.repetition_penalty;
  if (o.bad_words_ids) g.bad_words_ids = *o.bad_words_ids;
  auto opt_id = [](int32_t v) { return v < 0 ? std::optional<int32_t>() : std::optional<int32_t>(v); };
  if (!tgt_lang.empty()) {
    if (!tokenizer) throw Error(label + ": --tgt-lang needs a model with a tokenizer");
    auto id = tokenizer->language_id(tgt_lang);
    if (!id) {
      std::string codes;
      for (const auto& c : tokenizer->language_codes()) codes += (codes.empty() ? "" : ", ") + c;
      throw Error("unknown target language '" + tgt_lang + "'" +
                  (codes.empty() ? std::string(" (this model is not multilingual)") : " (valid: " + codes + ")"));
    }
    g.forced_bos_token_id = *id;
  }
  if (o.forced_bos_token_id) g.forced_bos_token_id = opt_id(*o.forced_bos_token_id);
  if (o.forced_eos_token_id) g.forced_eos_token_id = opt_id(*o.forced_eos_token_id);
  if (o.decoder_start_token_id) {
    if (*o.decoder_start_token_id < 0) throw Error("decoder_start_token_id must be a token id");
    g.decoder_start_token_id = *o.decoder_start_token_id;
  }
  g.validate();
  for (int32_t id : {g.decoder_start_token_id, g.pad_token_id}) {
    if (id < 0 || id >= spec.vocab_size) throw Error("token id " + std::to_string(id) + " outside the vocabulary");
  }
  return g;
}

std::vector<std::vector<Hypothesis>> Model::Impl::generate_batch(const std::vector<std::vector<int32_t>>& ids,
                                                                 const GenerationConfig& config,
                                                                 const StepCallback& on_step) const {
  size_t S = 0;
  for (const auto& r : ids) S = std::max(S, r.size());
  if (S == 0) throw Error("empty input (no tokens)");
  std::vector<std::vector<int32_t>> padded(ids.size()), mask(ids.size());
  for (size_t b = 0; b < ids.size(); ++b) {
    padded[b] = ids[b];
    padded[b].resize(S, spec.pad_token_id);
    mask[b].assign(S, 0);
    std::fill(mask[b].begin(), mask[b].begin() + static_cast<std::ptrdiff_t>(ids[b].size()), 1);
  }
  auto enc = net->encode(padded, mask);
  DecoderState state(*net, enc);
  return attend::generate(state, config, on_step);
}

std::vector<std::vector<int32_t>> Model::Impl::encode_inputs(const std::vector<std::string>& inputs,
                                                             const TranslateOptions& options) const {
  if (!tokenizer) throw Error(label + ": this model has no tokenizer; use generate() with token ids");
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(inputs.size());
  tokenizer->check_languages(options.src_lang, options.tgt_lang);  // also when there are no inputs
  for (const auto& text : inputs)
    ids.push_back(tokenizer->encode_with_languages(options.input_prefix + text, options.src_lang, options.tgt_lang));
  return ids;
}

GenerationConfig Model::Impl::validate(const TranslateOptions& options) const {
  if (options.max_batch_size < 1) throw Error("max_batch_size must be at least 1 (got " + std::to_string(options.max_batch_size) + ")");
  return resolve(options.generation, options.tgt_lang);
}

namespace {

std::vector<TranslationResult> run_batches(const Model::Impl& m, const std::vector<std::vector<int32_t>>& ids,
                                           const TranslateOptions& options, const GenerationConfig& g) {
  std::vector<TranslationResult> out(ids.size());
  std::vector<size_t> lengths(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) lengths[i] = ids[i].size();
  for (const std::vector<size_t>& members : plan_batches(lengths, options)) {
    std::vector<std::vector<int32_t>> batch;
    batch.reserve(members.size());
    for (size_t i : members) batch.push_back(ids[i]);
    if (options.cancel.cancelled()) throw Cancelled("translation cancelled");
    // Streaming and cancellation are checked after every decoding step.
    bool stop = false;
    std::unique_ptr<RowStreams> streams;
    if (options.on_stream) streams = std::make_unique<RowStreams>(m.tokenizer.get(), batch.size(), g.decoder_start_token_id);
    const RowStreams::Emit emit = [&](size_t row, StreamEvent& ev) {
      if (stop) return;  // cancelled: no more events
      ev.input = members[row];
      if (!options.on_stream(ev)) stop = true;
    };
    const StepCallback on_step = [&](const StepInfo& info) {
      if (streams) streams->step(info, emit);
      return !stop && !options.cancel.cancelled();
    };
    std::vector<std::vector<Hypothesis>> hyps;
    try {
      hyps = m.generate_batch(batch, g, on_step);
    } catch (const Cancelled&) {
      throw;
    } catch (const Error&) {
      if (stop || options.cancel.cancelled()) throw Cancelled("translation cancelled");
      throw;
    }
    if (streams) streams->finish(hyps, emit);
    if (stop) throw Cancelled("translation cancelled");
    for (size_t k = 0; k < members.size(); ++k) {
      TranslationResult& r = out[members[k]];
      r.hypotheses = std::move(hyps[k]);
      if (m.tokenizer) {
        for (auto& h : r.hypotheses) h.text = m.tokenizer->decode(h.ids, true);
      }
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<Model::Impl> load_model_impl(const std::string& path, int weights_source,
                                            const std::string& compute_type) {
  if (is_hf_checkpoint_dir(path)) {
    ConvertedModel cm = convert_hf_checkpoint(path, static_cast<WeightsSource>(weights_source));
    nlohmann::json doc = cm.model;
    return std::make_unique<Model::Impl>(path, doc, cm.tensors, cm.tokenizer_files, compute_type);
  }
  if (!file_exists(path)) throw Error(path + ": no such model file or checkpoint directory");
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  ModelFileContents c = parse_model_file(file, file->data(), file->size(), path);
  for (auto& entry : c.tensors) entry.second.file_pages = true;  // read-only mapping: droppable once copied
  auto impl = std::make_unique<Model::Impl>(path, c.model, c.tensors, c.tokenizer_files, compute_type);
  // The weights now live in oneDNN layouts; only the float32 embedding tables are still read
  // from the mapping (row by row). Drop the pages read while loading from the resident set:
  // they come back from the page cache on demand.
  release_pages(*file);
  return impl;
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string& path, const LoadOptions& options) {
  if (options.threads > 0) set_num_threads(options.threads);
  return std::shared_ptr<const Model>(new Model(load_model_impl(path, 0, options.compute_type)));
}

std::vector<int32_t> Model::tokenize(const std::string& text, const std::string& src_lang) const {
  if (!impl_->tokenizer) throw Error(impl_->label + ": this model has no tokenizer; pass token ids");
  return impl_->tokenizer->encode_with_languages(text, src_lang, "");
}

std::string Model::detokenize(const std::vector<int32_t>& ids) const {
  if (!impl_->tokenizer) throw Error(impl_->label + ": this model has no tokenizer");
  return impl_->tokenizer->decode(ids, true);
}

std::vector<TranslationResult> Model::translate(const std::vector<std::string>& inputs,
                                                const TranslateOptions& options) const {
  if (!impl_->tokenizer) throw Error(impl_->label + ": this model has no tokenizer; use generate() with token ids");
  const GenerationConfig g = impl_->resolve(options.generation, options.tgt_lang);
  return run_batches(*impl_, impl_->encode_inputs(inputs, options), options, g);
}

std::vector<TranslationResult> Model::generate(const std::vector<std::vector<int32_t>>& input_ids,
                                               const TranslateOptions& options) const {
  const GenerationConfig g = impl_->resolve(options.generation, options.tgt_lang);
  return run_batches(*impl_, input_ids, options, g);
}

void Model::validate(const TranslateOptions& options) const { impl_->validate(options); }

ModelInfo Model::info() const {
  ModelInfo i;
  const ArchSpec& s = impl_->spec;
  i.family = s.family;
  i.tokenizer = impl_->tokenizer ? impl_->tokenizer->kind() : "";
  i.vocab_size = s.vocab_size;
  i.d_model = s.d_model;
  i.encoder_layers = s.encoder_layers;
  i.decoder_layers = s.decoder_layers;
  i.heads = s.encoder_heads;
  if (impl_->tokenizer) i.languages = impl_->tokenizer->language_codes();
  i.generation_defaults = impl_->defaults.to_json().dump();
  const auto& extra = impl_->doc.value("extra", nlohmann::json::object());
  if (extra.contains("task_specific_params")) i.task_params = extra["task_specific_params"].dump();
  i.quantization = impl_->quantization;
  i.compute_type = compute_type_name(impl_->net->compute_type());
  i.compute_type_note = impl_->compute_note;
  i.cpu_isa = impl_->cpu_isa;
  return i;
}

std::vector<std::vector<size_t>> plan_batches(const std::vector<size_t>& lengths, const TranslateOptions& options) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  const size_t budget = static_cast<size_t>(std::max(1, options.max_batch_size));
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  for (size_t i : order) {
    if (!current.empty()) {
      // sorted ascending: the newcomer is the longest, so the padded size is count x its length
      const size_t cost = options.batch_type == BatchType::Tokens ? (current.size() + 1) * std::max<size_t>(1, lengths[i])
                                                                  : current.size() + 1;
      if (cost > budget) batches.push_back(std::move(current)), current.clear();
    }
    current.push_back(i);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

void convert_model(const std::string& hf_dir, const std::string& output, const ConvertOptions& options) {
  WeightsSource src = WeightsSource::Auto;
  if (options.weights == "safetensors") src = WeightsSource::Safetensors;
  else if (options.weights == "bin") src = WeightsSource::PytorchBin;
  else if (!options.weights.empty()) throw Error("--weights must be safetensors or bin");
  ConvertedModel cm = convert_hf_checkpoint(hf_dir, src);
  save_converted_model(cm, output, options.dtype, options.quantize);
}

void set_num_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

const char* version() { return "0.1.0"; }

}  // namespace attend

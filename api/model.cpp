// api/model.cpp — implementation of the public API (include/attend/attend.hpp): model
// loading from an Attend file or a HF directory, batching (sorted by length, cut by inputs or a
// token budget), tokenization, generation and detokenization, streaming and cancellation.
#include <omp.h>

#include <algorithm>
#include <numeric>

#include "api/hub.hpp"
#include "attend/attend.hpp"
#include "engine/kernels/compute_type.hpp"
#include "engine/mapped_file.hpp"
#include "engine/model_file.hpp"
#include "runtime/model_impl.hpp"
#include "engine/decoding/streaming.hpp"
#include "models/converter.hpp"

namespace attend {

namespace {

std::vector<TranslationResult> run_batches(const Model::Impl& m, const std::vector<std::vector<int32_t>>& ids,
                                           const TranslateOptions& options, const GenerationConfig& g) {
  std::vector<TranslationResult> out(ids.size());
  const AttentionRequest attention = m.attention_request(options);
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
      hyps = m.generate_batch(batch, g, on_step, attention);
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

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string& path, const LoadOptions& options) {
  if (options.threads > 0) set_num_threads(options.threads);
  // An existing path wins; else a hub id is resolved to a local file (api/hub.hpp).
  std::string local = path;
  if (hub::names_hub_model(path)) {
    try {
      local = hub::model_path_for(path, options.hub);
    } catch (const Cancelled&) {
      throw;
    } catch (const Error& e) {
      throw Error(path + ": no such model file or checkpoint directory; as a hub model id: " + e.what());
    }
  }
  return std::shared_ptr<const Model>(new Model(load_model_impl(local, 0, options.compute_type)));
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
  i.source_language = impl_->source_language;
  i.target_language = impl_->target_language;
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
  const std::string dir = hub::names_hub_model(hf_dir) ? hub::snapshot_for(hf_dir, options.hub) : hf_dir;
  ConvertedModel cm = convert_hf_checkpoint(dir, src);
  save_converted_model(cm, output, options.dtype, options.quantize);
}

void set_num_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

const char* version() { return "0.1.0"; }

}  // namespace attend

// api/model.cpp — implementation of the public API (include/attend/attend.hpp): model
// loading from an Attend file or a HF directory, batching (sorted by length, cut by inputs or a
// token budget), tokenization, generation and detokenization, streaming and cancellation.
#include <omp.h>

#include <algorithm>
#include <numeric>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "api/hub.hpp"
#include "attend/attend.hpp"
#include "attend/shortlist.hpp"
#include "api/shortlist_internal.hpp"
#include "engine/kernels/compute_type.hpp"
#include "engine/kernels/profile.hpp"
#include "engine/mapped_file.hpp"
#include "engine/model_file.hpp"
#include "runtime/model_impl.hpp"
#include "engine/decoding/streaming.hpp"
#include "models/converter.hpp"

namespace attend {

namespace {

// One group of inputs decoded together: ids, their decoder prefixes (all the same length) and
// their indices in the call (members).
std::vector<std::vector<Hypothesis>> run_group(const Model::Impl& m, const std::vector<size_t>& members,
                                               const std::vector<std::vector<int32_t>>& ids,
                                               const std::vector<std::vector<int32_t>>& prefixes,
                                               const TranslateOptions& options, const GenerationConfig& g) {
  std::vector<std::vector<int32_t>> batch;
  batch.reserve(members.size());
  SearchInputs inputs;
  const bool with_prefix = prefixes[members[0]].size() > 1;
  for (size_t i : members) {
    batch.push_back(ids[i]);
    inputs.streams.push_back(static_cast<uint64_t>(i));
    if (with_prefix) inputs.prefixes.push_back(prefixes[i]);
  }
  if (options.cancel.cancelled()) throw Cancelled("translation cancelled");
  std::vector<int32_t> subset;
  const std::vector<int32_t>* vocab_subset = nullptr;
  if (options.shortlist) {
    subset = shortlist_candidates(*options.shortlist, batch, g);
    vocab_subset = &subset;
  }
  if (options.return_alternatives > 0) {
    // The next-token alternatives after each prefix, then each continued by the search.
    const auto alts = m.alternatives_batch(batch, g, inputs, options.return_alternatives, vocab_subset);
    std::vector<std::vector<Hypothesis>> out(members.size());
    std::vector<std::pair<size_t, size_t>> owner;  // (input, alternative) of each continuation
    std::vector<std::vector<int32_t>> cont_ids;
    SearchInputs cont;
    GenerationConfig g1 = g;
    g1.num_return_sequences = 1;
    const int P = inputs.prefix_length() + 1;
    for (size_t k = 0; k < members.size(); ++k) {
      const std::vector<int32_t> base = with_prefix ? prefixes[members[k]] : std::vector<int32_t>{g.decoder_start_token_id};
      for (const auto& [token, logprob] : alts[k]) {
        Hypothesis h;
        h.ids = base;
        h.ids.push_back(token);
        h.score = logprob;
        out[k].push_back(h);
        if (g.is_eos(token) || P >= g.resolved_max_length(P)) continue;  // nothing to continue
        owner.emplace_back(k, out[k].size() - 1);
        cont_ids.push_back(batch[k]);
        cont.prefixes.push_back(h.ids);
        cont.streams.push_back(static_cast<uint64_t>(members[k]));
      }
    }
    if (!cont_ids.empty()) {
      auto done = m.generate_batch(cont_ids, g1, nullptr, cont, vocab_subset);
      for (size_t j = 0; j < owner.size(); ++j) {
        Hypothesis& h = out[owner[j].first][owner[j].second];
        const float score = h.score;
        h = std::move(done[j][0]);
        h.score = score;
      }
    }
    return out;
  }
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
    hyps = m.generate_batch(batch, g, on_step, inputs, vocab_subset, nullptr, m.attention_request(options));
  } catch (const Cancelled&) {
    throw;
  } catch (const Error&) {
    if (stop || options.cancel.cancelled()) throw Cancelled("translation cancelled");
    throw;
  }
  if (streams) streams->finish(hyps, emit);
  if (stop) throw Cancelled("translation cancelled");
  return hyps;
}

std::vector<TranslationResult> run_batches(const Model::Impl& m, const std::vector<std::vector<int32_t>>& ids,
                                           const TranslateOptions& options, const GenerationConfig& g) {
  std::vector<TranslationResult> out(ids.size());
  if (options.return_alternatives < 0) throw Error("return_alternatives must be >= 0");
  if (options.shortlist) shortlist_check(*options.shortlist, m);
  const std::vector<std::vector<int32_t>> prefixes = m.decoder_prefixes(ids.size(), options, g);
  std::vector<size_t> lengths(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) lengths[i] = ids[i].size();
  ProgressEvent progress;
  progress.inputs = ids.size();
  for (const std::vector<size_t>& planned : plan_batches(lengths, options)) {
    // Inputs whose prefixes differ in length are decoded in separate groups (the search feeds
    // a prefix in lock-step); each input's result is what it would get alone either way.
    std::vector<std::vector<size_t>> groups;
    for (size_t i : planned) {
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const std::vector<size_t>& grp) { return prefixes[grp[0]].size() == prefixes[i].size(); });
      if (it == groups.end()) groups.push_back({i});
      else it->push_back(i);
    }
    for (const std::vector<size_t>& members : groups) {
      std::vector<std::vector<Hypothesis>> hyps = run_group(m, members, ids, prefixes, options, g);
      for (size_t k = 0; k < members.size(); ++k) {
        TranslationResult& r = out[members[k]];
        r.hypotheses = std::move(hyps[k]);
        if (m.tokenizer) {
          for (auto& h : r.hypotheses) h.text = m.tokenizer->decode(h.ids, true);
        }
        if (!r.hypotheses.empty() && !r.hypotheses[0].ids.empty())
          progress.tokens += static_cast<int64_t>(r.hypotheses[0].ids.size()) - 1;
      }
      progress.inputs_done += members.size();
      if (options.on_progress && !options.on_progress(progress)) throw Cancelled("translation cancelled");
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

size_t Model::cached_bytes() const { return impl_->net->spare_resident_bytes(); }

void Model::release_caches() const {
  impl_->net->release_spare();
#ifdef __GLIBC__
  ::malloc_trim(0);  // the freed buffers below glibc's mmap threshold stay in the heap otherwise
#endif
}

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
  i.cpu_model = impl_->cpu_model;
  i.source_language = impl_->source_language;
  i.target_language = impl_->target_language;
  i.encoder_attention = encoder_attention_name(s.encoder_attention);
  i.attention_window = s.attention_window;
  i.local_radius = s.local_radius;
  i.global_block_size = s.global_block_size;
  i.max_input_length = s.max_input_length > 0 ? s.max_input_length
                       : s.positions != PositionKind::RelativeBuckets ? s.max_positions : 0;
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

EngineTimes engine_times() {
  const profile::Totals t = profile::totals();
  auto sec = [&t](profile::Part p) { return static_cast<double>(t.ns[static_cast<int>(p)]) * 1e-9; };
  EngineTimes e;
  e.matmul_s = sec(profile::Part::Matmul);
  e.linear_extra_s = sec(profile::Part::LinearExtra);
  e.attention_s = sec(profile::Part::Attention);
  e.norm_s = sec(profile::Part::Norm);
  e.search_s = sec(profile::Part::Search);
  e.matmul_calls = t.calls[static_cast<int>(profile::Part::Matmul)];
  return e;
}

void reset_engine_times() { profile::reset(); }

const char* version() { return "0.1.0"; }

}  // namespace attend

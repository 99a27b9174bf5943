// runtime/model_impl.cpp — a loaded model (runtime/model_impl.hpp): building it from an Attend
// file or a HF checkpoint directory, resolving per-call generation settings against its defaults,
// tokenizing inputs and running one padded batch through the encoder and the search.
#include "runtime/model_impl.hpp"

#include <cmath>

#include <algorithm>

#include "attend/attend.hpp"
#include "engine/kernels/compute_type.hpp"
#include "engine/mapped_file.hpp"
#include "engine/model_file.hpp"
#include "models/converter.hpp"
#include "runtime/threads.hpp"

namespace attend {
namespace {

// The languages tokenizer_config.json names: Marian's source_lang/target_lang, or the
// multilingual classes' src_lang/tgt_lang. The file is untrusted: anything else is ignored.
void read_config_languages(const std::map<std::string, std::string>& files, std::string& source, std::string& target) {
  const auto it = files.find("tokenizer_config.json");
  if (it == files.end()) return;
  const nlohmann::json cfg = nlohmann::json::parse(it->second, nullptr, false);
  if (!cfg.is_object()) return;
  auto pick = [&](const char* a, const char* b, std::string& out) {
    for (const char* key : {a, b}) {
      const auto v = cfg.find(key);
      if (v != cfg.end() && v->is_string() && !v->get<std::string>().empty()) {
        out = v->get<std::string>();
        return;
      }
    }
  };
  pick("source_lang", "src_lang", source);
  pick("target_lang", "tgt_lang", target);
}

}  // namespace

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
  cpu_model = caps.model;
  net = std::make_unique<Transformer>(spec, tensors, label, rc.type);
  if (doc.contains("generation")) {
    try {
      defaults.apply_json(doc["generation"]);
    } catch (const Error& e) {
      throw Error(label + ": generation defaults: " + e.what());
    }
  }
  defaults.beam_suppress_pad_before_log_softmax = spec.beam_suppress_pad_before_log_softmax;
  read_config_languages(tokenizer_files, source_language, target_language);
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
  // Sampling (issue 17): a value given explicitly is checked even without do_sample.
  if (o.do_sample) g.do_sample = *o.do_sample;
  // Beam sampling is not supported: do_sample with the model's default num_beams samples with 1.
  if (o.do_sample && *o.do_sample && !o.num_beams) g.num_beams = 1;
  if (o.temperature) {
    if (!(*o.temperature > 0.0f) || !std::isfinite(*o.temperature))
      throw Error("temperature must be a number > 0 (got " + std::to_string(*o.temperature) + ")");
    g.temperature = *o.temperature;
  }
  if (o.top_k) {
    if (*o.top_k < 0) throw Error("top_k must be >= 0 (0 = off; got " + std::to_string(*o.top_k) + ")");
    g.top_k = *o.top_k;
  }
  if (o.top_p) {
    if (!(*o.top_p > 0.0f && *o.top_p <= 1.0f)) throw Error("top_p must be in (0, 1] (got " + std::to_string(*o.top_p) + ")");
    g.top_p = *o.top_p;
  }
  if (o.typical_p) {
    if (!(*o.typical_p > 0.0f && *o.typical_p <= 1.0f))
      throw Error("typical_p must be in (0, 1] (got " + std::to_string(*o.typical_p) + ")");
    g.typical_p = *o.typical_p;
  }
  if (o.seed) g.seed = *o.seed;
  g.validate();
  for (int32_t id : {g.decoder_start_token_id, g.pad_token_id}) {
    if (id < 0 || id >= spec.vocab_size) throw Error("token id " + std::to_string(id) + " outside the vocabulary");
  }
  return g;
}

std::shared_ptr<const EncoderOutput> Model::Impl::encode_batch(const std::vector<std::vector<int32_t>>& ids,
                                                               const std::vector<std::vector<int32_t>>* global_mask) const {
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
  std::vector<std::vector<int32_t>> global;
  if (global_mask) {
    if (global_mask->size() != ids.size()) throw Error("global attention mask: one row per input needed");
    global = *global_mask;
    for (auto& row : global) row.resize(S, 0);
  }
  return net->encode(padded, mask, false, global_mask ? &global : nullptr);
}

std::vector<std::vector<Hypothesis>> Model::Impl::generate_batch(const std::vector<std::vector<int32_t>>& ids,
                                                                 const GenerationConfig& config,
                                                                 const StepCallback& on_step,
                                                                 const SearchInputs& inputs,
                                                                 const std::vector<int32_t>* vocab_subset,
                                                                 const std::vector<std::vector<int32_t>>* global_mask,
                                                                 const AttentionRequest& attention) const {
  CallThreads threads;  // fewer threads while other processes keep cores busy (runtime/threads.hpp)
  const auto enc = encode_batch(ids, global_mask);
  DecoderState state(*net, enc);
  if (vocab_subset) state.set_vocab_subset(*vocab_subset);
  if (attention.layers.empty()) return attend::generate(state, config, on_step, inputs);
  const int S = enc->src_len;
  state.capture_attention(attention.layers, attention.mean_heads);
  auto results = attend::generate(state, config, on_step, inputs);
  // raw rows [target][layers][heads][S] -> [layers][heads][target][source] without the padding
  const int nl = static_cast<int>(attention.layers.size());
  const int captured = attention.mean_heads ? 1 : spec.decoder_heads;
  const int heads = attention.head >= 0 ? 1 : captured;
  const size_t width = static_cast<size_t>(nl) * captured * S;
  for (size_t b = 0; b < results.size(); ++b) {
    const int src = static_cast<int>(ids[b].size());
    for (Hypothesis& h : results[b]) {
      AttentionWeights& a = h.attention;
      const std::vector<float> raw = std::move(a.weights);
      const int target = static_cast<int>(raw.size() / width);
      if (raw.size() != static_cast<size_t>(target) * width || target + 1 != static_cast<int>(h.ids.size()))
        throw Error("internal: attention rows do not match the hypothesis length");
      a.layers = attention.layers;
      a.heads = heads;
      a.mean_heads = attention.mean_heads;
      a.head = attention.head;
      a.target = target;
      a.source = src;
      a.source_ids = ids[b];
      a.weights.assign(static_cast<size_t>(nl) * heads * target * src, 0.0f);
      for (int t = 0; t < target; ++t)
        for (int l = 0; l < nl; ++l)
          for (int hh = 0; hh < heads; ++hh) {
            const int from_head = attention.head >= 0 ? attention.head : hh;
            const float* from = raw.data() + t * width + (static_cast<size_t>(l) * captured + from_head) * S;
            std::copy(from, from + src, a.weights.begin() + ((static_cast<ptrdiff_t>(l) * heads + hh) * target + t) * src);
          }
    }
  }
  return results;
}

AttentionRequest Model::Impl::attention_request(const TranslateOptions& options) const {
  AttentionRequest r;
  if (!options.return_attention) return r;
  // the prefix's teacher-forced steps and the alternatives' first step are not captured
  if (!options.target_prefix.empty() || !options.target_prefix_ids.empty() || options.return_alternatives > 0)
    throw Error("return_attention does not go with target prefixes or return_alternatives");
  const int n = spec.decoder_layers;
  if (options.attention_all_layers) {
    for (int l = 0; l < n; ++l) r.layers.push_back(l);
  } else {
    const int l = options.attention_layer < 0 ? n + options.attention_layer : options.attention_layer;
    if (l < 0 || l >= n)
      throw Error("attention_layer " + std::to_string(options.attention_layer) + " is outside this model's " +
                  std::to_string(n) + " decoder layers (0.." + std::to_string(n - 1) + ", or -1..-" + std::to_string(n) + ")");
    r.layers.push_back(l);
  }
  r.mean_heads = !options.attention_all_heads && options.attention_head < 0;
  if (!options.attention_all_heads && options.attention_head >= 0) {
    if (options.attention_head >= spec.decoder_heads)
      throw Error("attention_head " + std::to_string(options.attention_head) + " is outside this model's " +
                  std::to_string(spec.decoder_heads) + " heads");
    r.head = options.attention_head;
  }
  return r;
}

std::vector<std::vector<std::pair<int32_t, float>>> Model::Impl::alternatives_batch(
    const std::vector<std::vector<int32_t>>& ids, const GenerationConfig& config, const SearchInputs& inputs,
    int n, const std::vector<int32_t>* vocab_subset) const {
  CallThreads threads;
  DecoderState state(*net, encode_batch(ids));
  if (vocab_subset) state.set_vocab_subset(*vocab_subset);
  return next_token_alternatives(state, config, inputs, n);
}

std::vector<std::vector<int32_t>> Model::Impl::decoder_prefixes(size_t inputs, const TranslateOptions& options,
                                                                const GenerationConfig& config) const {
  std::vector<std::vector<int32_t>> out(inputs, std::vector<int32_t>{config.decoder_start_token_id});
  const bool text = !options.target_prefix.empty();
  const size_t given = text ? options.target_prefix.size() : options.target_prefix_ids.size();
  if (given == 0) return out;
  if (given != inputs)
    throw Error("target prefix: " + std::to_string(given) + " prefixes for " + std::to_string(inputs) +
                " inputs (give one per input, empty for none)");
  if (text && !tokenizer) throw Error(label + ": a text target prefix needs a model with a tokenizer; give ids");
  for (size_t i = 0; i < inputs; ++i) {
    std::vector<int32_t> tokens;
    if (text) {
      for (const std::string& piece : tokenizer->tokenize_target(options.target_prefix[i])) {
        const auto id = tokenizer->token_to_id(piece);
        tokens.push_back(id ? *id : tokenizer->unk_id());
      }
    } else {
      tokens = options.target_prefix_ids[i];
    }
    if (tokens.empty()) continue;
    for (int32_t id : tokens)
      if (id < 0 || id >= spec.vocab_size)
        throw Error("target prefix of input " + std::to_string(i) + ": token id " + std::to_string(id) +
                    " is outside the vocabulary (size " + std::to_string(spec.vocab_size) + ")");
    if (config.forced_bos_token_id) out[i].push_back(*config.forced_bos_token_id);
    out[i].insert(out[i].end(), tokens.begin(), tokens.end());
    const int P = static_cast<int>(out[i].size());
    if (P >= config.resolved_max_length(P))
      throw Error("target prefix of input " + std::to_string(i) + " is too long: " + std::to_string(tokens.size()) +
                  " tokens, but max_length is " + std::to_string(config.max_length) +
                  " (counting the decoder start token" + (config.forced_bos_token_id ? " and the forced BOS" : "") +
                  "; use max_new_tokens or a larger max_length)");
  }
  return out;
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
  attention_request(options);  // checks the attention layer
  return resolve(options.generation, options.tgt_lang);
}


std::unique_ptr<Model::Impl> load_model_impl(const std::string& path, int weights_source,
                                            const std::string& compute_type) {
  start_busy_window();  // the first batch's thread count looks at the machine over the load
  if (is_hf_checkpoint_dir(path)) {
    ConvertedModel cm = convert_hf_checkpoint(path, static_cast<WeightsSource>(weights_source));
    nlohmann::json doc = cm.model;
    return std::make_unique<Model::Impl>(path, doc, cm.tensors, cm.tokenizer_files, compute_type);
  }
  if (!file_exists(path)) throw Error(path + ": no such model file or checkpoint directory");
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  ModelFileContents c = parse_model_file(file, file->data(), file->size(), path);
  for (auto& entry : c.tensors) entry.second.mapping = file.get();  // read-only mapping: droppable once copied
  auto impl = std::make_unique<Model::Impl>(path, c.model, c.tensors, c.tokenizer_files, compute_type);
  // The weights now live in oneDNN layouts; only the float32 embedding tables are still read
  // from the mapping (row by row). Drop the pages read while loading from the resident set:
  // they come back from the page cache on demand.
  release_pages(*file);
  return impl;
}

}  // namespace attend

// runtime/model_impl.hpp — what a loaded attend::Model holds (internal; used by the API
// implementation, the conformance runner and tests): the network, the tokenizer, the
// generation defaults, and the request path ids → encoder → search → ids.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "engine/decoding/generation_config.hpp"
#include "engine/decoding/search.hpp"
#include "engine/transformer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace attend {

// Which cross-attention weights a call captures (TranslateOptions::return_attention).
struct AttentionRequest {
  std::vector<int> layers;  // decoder layers, in order (empty: none)
  bool mean_heads = true;
  int head = -1;            // >= 0: keep only this head (captured with mean_heads false)
};

struct ATTEND_HIDDEN Model::Impl {  // hidden: not part of libattend.so's exports
  std::string label;
  nlohmann::json doc;                       // the "attend.model" document
  ArchSpec spec;
  std::unique_ptr<Transformer> net;
  // Null when the model has no tokenizer files. Never changed after loading (callers pass their
  // languages per call), so concurrent calls share it without a lock.
  std::unique_ptr<const Tokenizer> tokenizer;
  GenerationConfig defaults;

  // Builds from an "attend.model" document and Attend-named tensors.
  Impl(const std::string& label, const nlohmann::json& doc, const TensorMap& tensors,
       const std::map<std::string, std::string>& tokenizer_files, const std::string& compute_type = "default");
  std::string quantization = "none";        // the file's quantization.weights
  std::string compute_note, cpu_isa;        // how the compute type was chosen
  std::string cpu_model;                    // CpuCaps::model
  std::string source_language, target_language;  // tokenizer_config.json's (ModelInfo)

  // defaults + options (+ target language forcing for multilingual tokenizers)
  GenerationConfig resolve(const GenerationOptions& o, const std::string& tgt_lang) const;
  // Pads ids into one batch and encodes it. global_mask: LED global attention per input
  // position (null = the model's default, see Transformer::encode); rows are cut or
  // zero-extended to the padded length.
  std::shared_ptr<const EncoderOutput> encode_batch(const std::vector<std::vector<int32_t>>& ids,
                                                    const std::vector<std::vector<int32_t>>* global_mask = nullptr) const;
  // Encodes one padded batch and runs search over it (on_step: see engine/search.hpp).
  // With `attention` (non-empty layers) every hypothesis gets its AttentionWeights.
  std::vector<std::vector<Hypothesis>> generate_batch(const std::vector<std::vector<int32_t>>& ids,
                                                      const GenerationConfig& config,
                                                      const StepCallback& on_step = nullptr,
                                                      const SearchInputs& inputs = {},
                                                      const std::vector<int32_t>* vocab_subset = nullptr,
                                                      const std::vector<std::vector<int32_t>>* global_mask = nullptr,
                                                      const AttentionRequest& attention = {}) const;
  // The capture TranslateOptions ask for (layers empty when return_attention is off); throws
  // attend::Error for a layer or head the model does not have, or options it cannot go with.
  AttentionRequest attention_request(const TranslateOptions& options) const;
  // Issue 17: the next-token alternatives after each input's prefix (next_token_alternatives).
  std::vector<std::vector<std::pair<int32_t, float>>> alternatives_batch(const std::vector<std::vector<int32_t>>& ids,
                                                                         const GenerationConfig& config,
                                                                         const SearchInputs& inputs, int n,
                                                                         const std::vector<int32_t>* vocab_subset = nullptr) const;
  // Issue 17: per input, the whole decoder prefix ([start] + [forced BOS] + prefix tokens) from
  // options.target_prefix / target_prefix_ids; all [start] when there are none. Throws for a
  // wrong count, ids outside the vocabulary, or a prefix that leaves no room under max_length.
  std::vector<std::vector<int32_t>> decoder_prefixes(size_t inputs, const TranslateOptions& options,
                                                     const GenerationConfig& config) const;
  // Tokenizes texts with options' languages and input prefix (throws if there is no tokenizer).
  std::vector<std::vector<int32_t>> encode_inputs(const std::vector<std::string>& inputs,
                                                  const TranslateOptions& options) const;
  // resolve() plus the checks of the other per-call options.
  GenerationConfig validate(const TranslateOptions& options) const;
};

// Loads an Attend model file or a HF checkpoint directory (weights source for the latter).
std::unique_ptr<Model::Impl> load_model_impl(const std::string& path, int weights_source = 0,
                                            const std::string& compute_type = "default");

}  // namespace attend

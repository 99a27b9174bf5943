// models/random_model.cpp — random-weight models in the opus-mt, t5-small, led-base and long-t5-tglobal-base shapes
// (include/attend/random_model.hpp): the architecture comes from the family code exactly as
// for a converted checkpoint, the weights from a seeded generator, the tokenizer (optional)
// from another model.
#include "attend/random_model.hpp"

#include <cmath>
#include <cstring>

#include "attend/error.hpp"
#include "engine/decoding/generation_config.hpp"
#include "engine/model_file.hpp"
#include "models/converter.hpp"
#include "models/family.hpp"
#include "tokenizer/tokenizer.hpp"

namespace attend {
namespace {

struct ShapeDef {
  const char* name;
  nlohmann::json config;      // as a Hugging Face config.json of that shape would say
  nlohmann::json generation;  // generation defaults as transformers resolves them
};

std::vector<ShapeDef> shape_defs() {
  const int marian_vocab = 54688, marian_pad = marian_vocab - 1;  // opus-mt: <pad> is the last id
  return {
      {"opus-mt",
       {{"model_type", "marian"}, {"d_model", 512}, {"vocab_size", marian_vocab},
        {"decoder_vocab_size", marian_vocab}, {"encoder_layers", 6}, {"decoder_layers", 6},
        {"encoder_attention_heads", 8}, {"decoder_attention_heads", 8}, {"encoder_ffn_dim", 2048},
        {"decoder_ffn_dim", 2048}, {"max_position_embeddings", 512}, {"activation_function", "swish"},
        {"scale_embedding", true}, {"pad_token_id", marian_pad}, {"eos_token_id", 0},
        {"decoder_start_token_id", marian_pad}, {"forced_eos_token_id", 0}},
       {{"num_beams", 4}, {"max_length", 512}, {"bad_words_ids", {{marian_pad}}}, {"bos_token_id", 0},
        {"eos_token_id", 0}, {"forced_eos_token_id", 0}, {"decoder_start_token_id", marian_pad},
        {"pad_token_id", marian_pad}}},
      {"t5-small",
       {{"model_type", "t5"}, {"d_model", 512}, {"d_kv", 64}, {"d_ff", 2048}, {"num_layers", 6},
        {"num_decoder_layers", 6}, {"num_heads", 8}, {"vocab_size", 32128},
        {"relative_attention_num_buckets", 32}, {"feed_forward_proj", "relu"},
        {"layer_norm_epsilon", 1e-6}, {"pad_token_id", 0}, {"eos_token_id", 1},
        {"decoder_start_token_id", 0}, {"tie_word_embeddings", true}},
       {{"decoder_start_token_id", 0}, {"eos_token_id", 1}, {"pad_token_id", 0}}},
      // Long-input shapes (issue 18): allenai/led-base-16384 and google/long-t5-tglobal-base.
      {"led-base",
       {{"model_type", "led"}, {"d_model", 768}, {"vocab_size", 50265}, {"encoder_layers", 6},
        {"decoder_layers", 6}, {"encoder_attention_heads", 12}, {"decoder_attention_heads", 12},
        {"encoder_ffn_dim", 3072}, {"decoder_ffn_dim", 3072}, {"attention_window", {1024, 1024, 1024, 1024, 1024, 1024}},
        {"max_encoder_position_embeddings", 16384}, {"max_decoder_position_embeddings", 1024},
        {"activation_function", "gelu"}, {"pad_token_id", 1}, {"bos_token_id", 0}, {"eos_token_id", 2},
        {"decoder_start_token_id", 2}},
       {{"decoder_start_token_id", 2}, {"bos_token_id", 0}, {"eos_token_id", 2}, {"pad_token_id", 1}}},
      {"long-t5-tglobal-base",
       {{"model_type", "longt5"}, {"d_model", 768}, {"d_kv", 64}, {"d_ff", 2048}, {"num_layers", 12},
        {"num_decoder_layers", 12}, {"num_heads", 12}, {"vocab_size", 32128},
        {"relative_attention_num_buckets", 32}, {"relative_attention_max_distance", 128},
        {"feed_forward_proj", "gated-gelu"}, {"encoder_attention_type", "transient-global"},
        {"local_radius", 127}, {"global_block_size", 16}, {"layer_norm_epsilon", 1e-6}, {"pad_token_id", 0},
        {"eos_token_id", 1}, {"decoder_start_token_id", 0}, {"tie_word_embeddings", false}},
       {{"decoder_start_token_id", 0}, {"eos_token_id", 1}, {"pad_token_id", 0}}},
  };
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// Shape of an Attend tensor of this architecture (weights_format.md §6 names).
std::vector<int64_t> tensor_shape(const std::string& name, const ArchSpec& s) {
  const int64_t d = s.d_model, inner = static_cast<int64_t>(s.encoder_heads) * s.head_dim;
  const bool dec = name.rfind("decoder.", 0) == 0;
  const int64_t ffn = dec ? s.decoder_ffn_dim : s.encoder_ffn_dim;
  const bool bias = ends_with(name, ".bias");
  if (name == "encoder.embed_tokens.weight") return {s.src_vocab_size, d};
  if (name == "decoder.embed_tokens.weight" || name == "lm_head.weight") return {s.vocab_size, d};
  if (name == "final_logits_bias") return {1, s.vocab_size};
  if (contains(name, "relative_attention_bias")) return {s.relative_buckets, dec ? s.decoder_heads : s.encoder_heads};
  if (contains(name, "embed_positions")) {  // learned tables (LED: encoder and decoder differ)
    const int64_t rows = (!dec && s.encoder_max_positions > 0 ? s.encoder_max_positions : s.max_positions) + s.position_offset;
    return {rows, d};
  }
  if (contains(name, "_norm.") || contains(name, "layernorm_embedding.") || contains(name, "final_norm.")) return {d};
  if (contains(name, "attn.o.")) return bias ? std::vector<int64_t>{d} : std::vector<int64_t>{d, inner};
  if (contains(name, "attn.q.") || contains(name, "attn.k.") || contains(name, "attn.v.") ||
      contains(name, "_global.")) {
    return bias ? std::vector<int64_t>{inner} : std::vector<int64_t>{inner, d};
  }
  if (contains(name, "ffn.wi")) return bias ? std::vector<int64_t>{ffn} : std::vector<int64_t>{ffn, d};
  if (contains(name, "ffn.wo")) return bias ? std::vector<int64_t>{d} : std::vector<int64_t>{d, ffn};
  throw Error("random model: no shape rule for tensor '" + name + "'");
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Per-tensor stream seeded from (seed, name): the values do not depend on tensor order.
HostTensor random_tensor(const std::string& name, std::vector<int64_t> shape, uint64_t seed, float stddev) {
  int64_t n = 1;
  for (int64_t v : shape) n *= v;
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * sizeof(float));
  float* out = reinterpret_cast<float*>(bytes.data());
  const bool is_bias = ends_with(name, ".bias") || name == "final_logits_bias";
  const bool is_norm = !is_bias && (contains(name, "_norm.") || contains(name, "layernorm_embedding.") ||
                                    contains(name, "final_norm."));
  if (is_bias || is_norm) {
    for (int64_t i = 0; i < n; ++i) out[i] = is_norm ? 1.0f : 0.0f;
  } else {
    uint64_t state = seed * 0x2545F4914F6CDD1Dull;
    for (char c : name) state = (state ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
    const float half_width = stddev * std::sqrt(3.0f);  // uniform on [-a, a] has std a / sqrt(3)
    for (int64_t i = 0; i < n; ++i) {
      const double u = static_cast<double>(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
      out[i] = static_cast<float>((2.0 * u - 1.0) * half_width);
    }
  }
  return make_host_tensor(DType::F32, std::move(shape), std::move(bytes));
}

// The tokenizer kind and files of another model (Attend file or HF directory).
std::pair<std::string, std::map<std::string, std::string>> tokenizer_of(const std::string& path) {
  nlohmann::json tok;
  std::map<std::string, std::string> files;
  if (looks_like_model_file(path)) {
    ModelFileContents c = read_model_file(path);
    tok = c.model.value("tokenizer", nlohmann::json::object());
    files = c.tokenizer_files;
  } else if (is_hf_checkpoint_dir(path)) {
    ConvertedModel cm = convert_hf_checkpoint(path);
    tok = cm.model.value("tokenizer", nlohmann::json::object());
    files = cm.tokenizer_files;
  } else {
    throw Error(path + ": not an Attend model file or Hugging Face checkpoint directory (tokenizer source)");
  }
  const std::string kind = tok.is_object() ? tok.value("kind", std::string()) : std::string();
  if (kind.empty() || files.empty()) throw Error(path + ": has no tokenizer to reuse");
  return {kind, files};
}

}  // namespace

std::vector<std::string> random_model_shapes() {
  std::vector<std::string> names;
  for (const auto& d : shape_defs()) names.push_back(d.name);
  return names;
}

void write_random_model(const std::string& shape, const std::string& path, const RandomModelOptions& options) {
  const auto defs = shape_defs();
  const ShapeDef* def = nullptr;
  for (const auto& d : defs) {
    if (shape == d.name) def = &d;
  }
  if (!def) {
    std::string known;
    for (const auto& d : defs) known += (known.empty() ? "" : ", ") + std::string(d.name);
    throw Error("unknown random model shape '" + shape + "' (known: " + known + ")");
  }
  if (!(options.stddev > 0.0f) || !std::isfinite(options.stddev)) throw Error("random model: stddev must be positive");

  const std::string model_type = def->config.at("model_type").get<std::string>();
  const Family* family = find_family(model_type);
  if (!family) throw Error("random model: family '" + model_type + "' is not built in");
  nlohmann::json config = family->config_defaults;
  for (auto it = def->config.begin(); it != def->config.end(); ++it) config[it.key()] = it.value();
  FamilyModel fm = family->build(config);
  fm.spec = ArchSpec::from_json(fm.spec.to_json());
  const ArchSpec& s = fm.spec;

  nlohmann::json tok = nlohmann::json::object();
  std::map<std::string, std::string> tokenizer_files;
  if (!options.tokenizer_from.empty()) {
    auto [kind, files] = tokenizer_of(options.tokenizer_from);
    const auto t = make_tokenizer(kind, files);
    if (t->vocab_size() > s.src_vocab_size || t->vocab_size() > s.vocab_size) {
      throw Error(options.tokenizer_from + ": its tokenizer has " + std::to_string(t->vocab_size()) +
                  " ids, more than the " + shape + " vocabulary (" + std::to_string(s.vocab_size) + ")");
    }
    tok = {{"kind", kind}};
    tokenizer_files = std::move(files);
  }

  TensorMap tensors;
  std::map<std::string, std::string> aliases;
  for (const TensorSource& ts : fm.tensors) {
    if (ts.optional) continue;  // computed position tables
    const bool own_lm_head = ts.hf_names == std::vector<std::string>{"lm_head.weight"};  // untied (T5 v1.1, LongT5)
    if ((ts.name == "decoder.embed_tokens.weight" || (ts.name == "lm_head.weight" && !own_lm_head)) &&
        s.src_vocab_size == s.vocab_size) {
      aliases[ts.name] = "encoder.embed_tokens.weight";  // tied, as in both real checkpoints
      continue;
    }
    tensors[ts.name] = random_tensor(ts.name, tensor_shape(ts.name, s), options.seed, options.stddev);
  }

  GenerationConfig g;
  g.apply_json(def->generation);
  nlohmann::json model = {
      {"architecture", s.to_json()},
      {"generation", g.to_json()},
      {"tokenizer", tok},
      {"source", {{"random_shape", shape}, {"seed", options.seed}, {"stddev", options.stddev},
                  {"tokenizer_from", options.tokenizer_from}, {"hf_config", def->config}}},
      {"quantization", {{"weights", "none"}}},
  };
  write_model_file(path, model, tensors, aliases, tokenizer_files);
}

}  // namespace attend

// models/converter.cpp — HF checkpoint directory → Attend model (see converter.hpp).
#include "models/converter.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "attend/error.hpp"
#include "engine/arch_spec.hpp"
#include "engine/decoding/generation_config.hpp"
#include "engine/kernels/half.hpp"
#include "engine/mapped_file.hpp"
#include "engine/model_file.hpp"
#include "engine/kernels/quantize.hpp"
#include "models/family.hpp"
#include "engine/safetensors.hpp"
#include "models/torch_checkpoint.hpp"
#include "tokenizer/tokenizer.hpp"

namespace attend {
namespace {

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw Error(path + ": expected a JSON object");
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
}

// transformers' GenerationConfig keys that a model config.json may carry (from_model_config).
const char* const kGenerationKeys[] = {
    "max_length", "max_new_tokens", "min_length", "min_new_tokens", "early_stopping", "num_beams",
    "num_return_sequences", "length_penalty", "no_repeat_ngram_size", "repetition_penalty",
    "bad_words_ids", "forced_bos_token_id", "forced_eos_token_id", "decoder_start_token_id",
    "eos_token_id", "pad_token_id", "bos_token_id"};

// The generation defaults transformers 4.30 would use for this checkpoint:
// generation_config.json when present, else GenerationConfig.from_model_config(config).
nlohmann::json resolve_generation(const std::string& dir, const nlohmann::json& config) {
  nlohmann::json src;
  const std::string gpath = join(dir, "generation_config.json");
  if (file_exists(gpath)) {
    src = read_json_file(gpath);
  } else {
    src = nlohmann::json::object();
    for (const char* k : kGenerationKeys) {
      if (config.contains(k)) src[k] = config[k];
    }
  }
  GenerationConfig g;
  if (!src.contains("decoder_start_token_id") || src["decoder_start_token_id"].is_null()) {
    if (config.contains("decoder_start_token_id") && !config["decoder_start_token_id"].is_null()) {
      src["decoder_start_token_id"] = config["decoder_start_token_id"];
    } else if (src.contains("bos_token_id")) {
      src["decoder_start_token_id"] = src["bos_token_id"];
    }
  }
  if ((!src.contains("pad_token_id") || src["pad_token_id"].is_null()) && config.contains("pad_token_id")) {
    src["pad_token_id"] = config["pad_token_id"];
  }
  try {
    g.apply_json(src);
  } catch (const Error& e) {
    throw Error(gpath + ": " + e.what());
  }
  return g.to_json();
}

std::vector<std::string> list_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const char* n : {"source.spm", "target.spm", "vocab.json", "merges.txt", "spiece.model",
                        "sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json",
                        "tokenizer.json"}) {
    if (file_exists(join(dir, n))) names.push_back(n);
  }
  return names;
}

// The tensors of every shard an index names, in one map (a name in two shards is an error).
TensorMap read_sharded(const std::string& dir, const std::string& index_name, bool safetensors) {
  const std::string index = join(dir, index_name);
  TensorMap all;
  for (const std::string& shard : weight_shards(read_text_file(index), index)) {
    const std::string path = join(dir, shard);
    TensorMap part = safetensors ? read_safetensors(path).tensors : read_torch_checkpoint(path);
    for (auto& [name, t] : part) {
      if (!all.emplace(name, std::move(t)).second) throw Error(path + ": tensor '" + name + "' is also in another shard");
    }
  }
  return all;
}

// The checkpoint's weights: model.safetensors, else its index and shards, else
// pytorch_model.bin, else its index and shards (or the one kind `source` asks for). `label`
// names what was read, for messages.
TensorMap read_weights(const std::string& dir, WeightsSource source, std::string& label) {
  struct Kind {
    bool wanted, asked;
    std::string single, index;
    bool safetensors;
  };
  const Kind kinds[] = {
      {source != WeightsSource::PytorchBin, source == WeightsSource::Safetensors, "model.safetensors",
       "model.safetensors.index.json", true},
      {source != WeightsSource::Safetensors, source == WeightsSource::PytorchBin, "pytorch_model.bin",
       "pytorch_model.bin.index.json", false},
  };
  for (const Kind& k : kinds) {
    if (!k.wanted) continue;
    const std::string single = join(dir, k.single), index = join(dir, k.index);
    if (file_exists(single) || (k.asked && !file_exists(index))) {  // asked for and missing: its reader names it
      label = single;
      return k.safetensors ? read_safetensors(single).tensors : read_torch_checkpoint(single);
    }
    if (file_exists(index)) {
      label = index;
      return read_sharded(dir, k.index, k.safetensors);
    }
  }
  throw Error(dir + ": no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json");
}

}  // namespace

std::vector<std::string> weight_shards(const std::string& index_text, const std::string& label) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(index_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(label + ": invalid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object() || j["weight_map"].empty())
    throw Error(label + ": no 'weight_map' object (tensor name -> shard file)");
  std::vector<std::string> shards;
  for (const auto& [tensor, file] : j["weight_map"].items()) {
    if (!file.is_string()) throw Error(label + ": weight_map['" + tensor + "'] is not a file name");
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f == "." || f == ".." || f.find('\\') != std::string::npos)
      throw Error(label + ": weight_map['" + tensor + "'] = '" + f + "' is not a file name beside the index");
    if (std::find(shards.begin(), shards.end(), f) == shards.end()) shards.push_back(f);
  }
  return shards;
}

bool is_hf_checkpoint_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && file_exists(join(path, "config.json"));
}

ConvertedModel convert_hf_checkpoint(const std::string& dir, WeightsSource source) {
  const std::string cpath = join(dir, "config.json");
  if (!file_exists(cpath)) throw Error(dir + ": not a Hugging Face checkpoint (no config.json)");
  nlohmann::json config = read_json_file(cpath);
  const std::string model_type = config.value("model_type", std::string());
  const Family* family = find_family(model_type);
  if (!family) {
    std::string known;
    for (const Family* f : all_families()) {
      for (const auto& t : f->model_types) known += (known.empty() ? "" : ", ") + t;
    }
    throw Error(cpath + ": unsupported model_type '" + model_type + "' (supported: " + known + ")");
  }
  nlohmann::json merged = family->config_defaults;
  for (auto it = config.begin(); it != config.end(); ++it) merged[it.key()] = it.value();

  FamilyModel fm;
  try {
    fm = family->build(merged);
    fm.spec = ArchSpec::from_json(fm.spec.to_json());  // validate ranges once, here
  } catch (const Error& e) {
    throw Error(cpath + ": " + e.what());
  }

  // weights
  std::string weights_file;
  TensorMap hf = read_weights(dir, source, weights_file);

  ConvertedModel out;
  std::map<std::string, std::string> chosen;  // attend name -> HF name
  std::map<std::string, std::string> first_user;  // HF name -> first attend name using it
  for (const TensorSource& ts : fm.tensors) {
    const std::string* found = nullptr;
    for (const auto& cand : ts.hf_names) {
      if (hf.count(cand)) { found = &cand; break; }
    }
    if (!found) {
      if (ts.optional) continue;
      std::string tried;
      for (const auto& c : ts.hf_names) tried += (tried.empty() ? "" : " or ") + c;
      throw Error(weights_file + ": missing tensor " + tried + " (needed for " + ts.name + ")");
    }
    const HostTensor& t = hf.at(*found);
    if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16) {
      throw Error(weights_file + ": tensor '" + *found + "' has dtype " + dtype_name(t.dtype) +
                  " (expected F32, F16 or BF16)");
    }
    out.tensors[ts.name] = t;
    auto [it, inserted] = first_user.emplace(*found, ts.name);
    if (!inserted) out.aliases[ts.name] = it->second;
    chosen[ts.name] = *found;
  }
  // pytorch_model.bin repeats tied tensors under every name (one shared storage): store once.
  for (const auto& [name, hf_name] : chosen) {
    if (out.aliases.count(name)) continue;
    const HostTensor& a = out.tensors.at(name);
    for (const auto& [other, other_hf] : chosen) {
      if (other >= name || out.aliases.count(other)) continue;
      const HostTensor& b = out.tensors.at(other);
      if (a.dtype == b.dtype && a.shape == b.shape && a.nbytes == b.nbytes &&
          (a.data == b.data || std::memcmp(a.data, b.data, a.nbytes) == 0)) {
        out.aliases[name] = other;
        break;
      }
    }
  }
  // shape validation happens once more when the engine binds the tensors; check the
  // obvious ones here so `attend convert` fails early, naming the HF tensor.
  for (const auto& [name, t] : out.tensors) {
    if (t.shape.empty() || t.numel() <= 0) throw Error(weights_file + ": tensor '" + chosen[name] + "' is empty");
  }

  nlohmann::json tok = nlohmann::json::object();
  const std::vector<std::string> present = list_files(dir);
  std::string kind = detect_tokenizer_kind(model_type, present);
  if (kind.empty() && !present.empty()) kind = fm.tokenizer_kind;
  if (!kind.empty()) {
    std::vector<std::string> files;
    for (const auto& f : tokenizer_file_names(kind)) {
      if (file_exists(join(dir, f))) {
        out.tokenizer_files[f] = read_text_file(join(dir, f));
        files.push_back(f);
      }
    }
    try {
      make_tokenizer(kind, out.tokenizer_files);  // fail at conversion time, not at first use
    } catch (const Error& e) {
      throw Error(dir + ": tokenizer: " + e.what());
    }
    tok = {{"kind", kind}, {"files", files}};
  }

  nlohmann::json extra = nlohmann::json::object();
  if (config.contains("task_specific_params")) extra["task_specific_params"] = config["task_specific_params"];
  out.model = {
      {"architecture", fm.spec.to_json()},
      {"generation", resolve_generation(dir, merged)},
      {"tokenizer", tok},
      {"source", {{"model_type", model_type}, {"weights", weights_file}, {"hf_config", config}}},
      {"quantization", {{"weights", "none"}}},
      {"extra", extra},
  };
  return out;
}

namespace {

// Tensors `--quantize int8` stores as I8: the weights of the linear layers. Embeddings stay
// float (they are looked up, not multiplied, and Marian/BART tie them to lm_head); lm_head is
// quantized only when it is a tensor of its own (not tied to, nor the target of, an alias).
bool quantizable_linear(const std::string& name, const ConvertedModel& m) {
  if (m.aliases.count(name)) return false;
  for (const auto& [from, to] : m.aliases) {
    if (to == name) return false;
  }
  if (name == "lm_head.weight") return true;
  auto ends_with = [&](const char* suf) {
    const size_t n = std::strlen(suf);
    return name.size() >= n && name.compare(name.size() - n, n, suf) == 0;
  };
  if (name.rfind("encoder.layers.", 0) != 0 && name.rfind("decoder.layers.", 0) != 0) return false;
  for (const char* suf : {"attn.q.weight", "attn.k.weight", "attn.v.weight", "attn.o.weight", "attn.q_global.weight",
                          "attn.k_global.weight", "attn.v_global.weight", "ffn.wi.weight",
                          "ffn.wi_lin.weight", "ffn.wo.weight"}) {
    if (ends_with(suf)) return true;
  }
  return false;
}

HostTensor to_storage(const HostTensor& t, DType target) {
  if (t.dtype == target) return t;
  std::vector<float> f = t.to_f32();
  std::vector<uint8_t> bytes(f.size() * dtype_size(target));
  for (size_t i = 0; i < f.size(); ++i) {
    if (target == DType::F32) std::memcpy(bytes.data() + 4 * i, &f[i], 4);
    else {
      const uint16_t h = target == DType::F16 ? float_to_half(f[i]) : float_to_bf16(f[i]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
  }
  return make_host_tensor(target, t.shape, std::move(bytes));
}

}  // namespace

void save_converted_model(const ConvertedModel& m, const std::string& path, const std::string& dtype,
                          const std::string& quantize) {
  std::string storage = dtype;
  if (!quantize.empty() && quantize != "int8" && quantize != "bf16" && quantize != "fp16") {
    throw Error("unsupported quantization '" + quantize + "' (use int8, bf16 or fp16)");
  }
  if (quantize == "bf16" || quantize == "fp16") {
    const std::string q_dtype = quantize == "bf16" ? "bf16" : "f16";
    if (!dtype.empty() && dtype != q_dtype) {
      throw Error("--quantize " + quantize + " stores every weight as " + q_dtype + ": it cannot be combined with --dtype " + dtype);
    }
    storage = q_dtype;
  }
  if (storage.empty() && quantize.empty()) {
    write_model_file(path, m.model, m.tensors, m.aliases, m.tokenizer_files);
    return;
  }
  DType target = DType::F32;
  const bool keep = storage.empty();
  if (storage == "f32") target = DType::F32;
  else if (storage == "f16") target = DType::F16;
  else if (storage == "bf16") target = DType::BF16;
  else if (!keep) throw Error("unsupported storage dtype '" + storage + "' (use f32, f16 or bf16)");
  TensorMap converted;
  size_t quantized = 0;
  for (const auto& [name, t] : m.tensors) {
    if (m.aliases.count(name)) { converted[name] = t; continue; }
    if (quantize == "int8" && t.shape.size() == 2 && quantizable_linear(name, m)) {
      const std::string sname = name + ".scale";
      if (m.tensors.count(sname)) throw Error(path + ": cannot quantize '" + name + "': a tensor '" + sname + "' exists");
      std::vector<float> f = t.to_f32();
      const int64_t out = t.shape[0], in = t.shape[1];
      std::vector<uint8_t> q(f.size());
      std::vector<float> scale(static_cast<size_t>(out));
      quantize_per_channel(f.data(), out, in, reinterpret_cast<int8_t*>(q.data()), scale.data());
      converted[name] = make_host_tensor(DType::I8, t.shape, std::move(q));
      converted[sname] = make_f32_tensor({out}, scale);
      ++quantized;
      continue;
    }
    converted[name] = keep ? t : to_storage(t, target);
  }
  if (quantize == "int8" && quantized == 0) throw Error(path + ": --quantize int8 found no linear weights to quantize");
  nlohmann::json model = m.model;
  if (!storage.empty()) model["storage_dtype"] = storage;
  if (quantize == "int8") {
    model["quantization"] = {{"weights", "int8"},
                             {"granularity", "per_output_channel"},
                             {"symmetric", true},
                             {"quantized_tensors", quantized}};
  } else if (!quantize.empty()) {
    model["quantization"] = {{"weights", quantize}};
  }
  write_model_file(path, model, converted, m.aliases, m.tokenizer_files);
}

}  // namespace attend

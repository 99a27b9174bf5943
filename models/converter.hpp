// models/converter.hpp — turns a Hugging Face checkpoint directory (config.json,
// generation_config.json, model.safetensors or pytorch_model.bin, tokenizer files) into
// Attend's model description: the resolved ArchSpec, the generation defaults, Attend-named
// tensors with tied weights stored once, and the tokenizer files. Weights: model.safetensors,
// else model.safetensors.index.json and its shards, else pytorch_model.bin, else its index and
// shards. Used by `attend convert` and to load a HF directory directly.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/host_tensor.hpp"

namespace attend {

enum class WeightsSource { Auto, Safetensors, PytorchBin };

struct ConvertedModel {
  nlohmann::json model;                          // "attend.model" document, without aliases
  TensorMap tensors;                             // every Attend tensor name, aliases resolved
  std::map<std::string, std::string> aliases;    // tied name -> stored name
  std::map<std::string, std::string> tokenizer_files;
};

// Reads and converts; throws attend::Error naming the file/field/tensor that is wrong.
ConvertedModel convert_hf_checkpoint(const std::string& dir, WeightsSource source = WeightsSource::Auto);

// Stores tensors in the given dtype ("" = as in the checkpoint, "f32", "f16", "bf16").
// quantize: "" (none), "int8" (linear weights as I8 + "<name>.scale" F32 per output channel,
// weights_format.md §8), "bf16" / "fp16" (every float tensor in that type).
void save_converted_model(const ConvertedModel& m, const std::string& path, const std::string& dtype = "",
                          const std::string& quantize = "");

bool is_hf_checkpoint_dir(const std::string& path);

// The shard files a sharded checkpoint's index (model.safetensors.index.json,
// pytorch_model.bin.index.json) names: the values of its "weight_map", each once, in order.
// Each must be a plain file name beside the index. Throws attend::Error prefixed with `label`.
std::vector<std::string> weight_shards(const std::string& index_json_text, const std::string& label);

}  // namespace attend

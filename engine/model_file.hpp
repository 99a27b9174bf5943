// engine/model_file.hpp — Attend's own model file (".attend"): a valid safetensors file whose
// metadata carries the converted model description (architecture switches, generation
// defaults, tokenizer, source, quantization, tied-weight aliases) and whose tensors are the
// weights plus the tokenizer files. Specified in weights_format.md at the repository root.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/host_tensor.hpp"

namespace attend {

// Major format version this build writes and reads (metadata "attend.format_version").
constexpr int kModelFileFormatVersion = 1;
// Every tensor's data starts at a multiple of this many bytes from the start of the file.
constexpr size_t kModelFileAlignment = 64;
// Tokenizer file "<name>" is stored as the 1-D U8 tensor "tokenizer/<name>".
constexpr const char* kModelFileTokenizerPrefix = "tokenizer/";

struct ModelFileContents {
  nlohmann::json model;  // the "attend.model" document (architecture, generation, tokenizer,
                         // source, aliases, quantization, ...)
  TensorMap tensors;     // weights by name with aliases resolved (an alias shares the bytes of
                         // its target); no "tokenizer/" or "__pad__." entries
  std::map<std::string, std::string> tokenizer_files;  // file name -> bytes
  std::shared_ptr<const void> keepalive;               // the mapping the tensors point into
  std::string label;                                   // file path (or label) for messages
};

// Writes `path` atomically (path + ".tmp", then rename). `model` is the "attend.model" document
// without "aliases" (if it has one it must equal `aliases`); its "tokenizer" object may omit
// "files", which is then set to the names of `tokenizer_files` (if given, it must list exactly
// those names). `aliases` maps a tied name to a stored name (chains allowed); `tensors` may
// also contain the aliased names (e.g. a map with every name resolved): those entries are not
// stored (their shape must match the target's). Validates everything a reader validates, so a
// file that is written can be read back. Throws attend::Error naming the path.
void write_model_file(const std::string& path, const nlohmann::json& model,
                      const TensorMap& tensors, const std::map<std::string, std::string>& aliases,
                      const std::map<std::string, std::string>& tokenizer_files);

// Maps and validates a model file (zero copy: tensors point into the mapping). Throws
// attend::Error naming the file and the offending key/tensor.
ModelFileContents read_model_file(const std::string& path);
ModelFileContents parse_model_file(std::shared_ptr<const void> keepalive, const uint8_t* data,
                                   size_t size, const std::string& label);

// Cheap sniff (reads only the header): true if `path` is a safetensors file whose metadata
// says format=attend. Never throws.
bool looks_like_model_file(const std::string& path);

// Returns the weight `name`, checking its dtype and shape (a dimension of -1 in `shape`
// matches any size). Errors: "<file>: missing tensor '<name>'" and
// "<file>: tensor '<name>': expected F32 [512, 256], found BF16 [512]".
const HostTensor& require_tensor(const ModelFileContents& contents, const std::string& name,
                                 DType dtype, std::vector<int64_t> shape);

}  // namespace attend

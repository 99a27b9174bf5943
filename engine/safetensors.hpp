// engine/safetensors.hpp — reader (zero-copy, over a memory mapping) and streaming writer for
// the safetensors format: 8-byte little-endian header length N, N bytes of JSON header, data.
// The reader treats its input as untrusted and validates every field of the header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/host_tensor.hpp"

namespace attend {

// Largest header accepted (same limit as the reference implementation).
constexpr uint64_t kSafetensorsMaxHeaderSize = 100'000'000;

// Tensors whose name starts with this prefix are padding written by write_safetensors to keep
// the data of the following tensor aligned; Attend readers ignore them.
constexpr const char* kSafetensorsPadPrefix = "__pad__.";

struct SafetensorsFile {
  TensorMap tensors;                            // every tensor in the file, by name
  std::map<std::string, std::string> metadata;  // "__metadata__" (string -> string)
};

// Maps `path` read-only; the returned tensors point into the mapping (zero copy) and keep it
// alive. Throws attend::Error naming the file (and the tensor/field) on any malformed input.
SafetensorsFile read_safetensors(const std::string& path);

// Parses a safetensors image of `size` bytes at `data`; tensors point into it and hold
// `keepalive`. `label` names the source in error messages (usually the path).
SafetensorsFile parse_safetensors(std::shared_ptr<const void> keepalive, const uint8_t* data,
                                  size_t size, const std::string& label);

// Writes a valid safetensors file, streaming tensor data (no in-memory copy of the file).
// The header is padded with spaces so the data area starts at a multiple of `alignment`
// (a power of two) from the start of the file, and every tensor's data starts at a multiple of
// `alignment` too; gaps between tensors are filled by U8 tensors named "__pad__.<n>" so the
// data area has no holes (which the reference implementation rejects). Tensors are laid out
// in the given order. Names must be unique, non-empty, not "__metadata__" and not start with
// "__pad__.". Writes `path + ".tmp"`, fsyncs and renames it over `path`; any failure (e.g. a
// full disk) removes the temporary file and throws attend::Error naming the path.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, HostTensor>>& tensors,
                       const std::map<std::string, std::string>& metadata,
                       size_t alignment = 64);

// Parses untrusted JSON text strictly: rejects invalid JSON/UTF-8, duplicate object keys
// (which nlohmann would otherwise resolve silently to the last one) and nesting deeper than
// `max_depth` (objects/arrays). Errors are attend::Error prefixed with `what`.
nlohmann::json parse_json_strict(const char* text, size_t size, const std::string& what,
                                 int max_depth);

}  // namespace attend

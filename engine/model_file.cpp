// engine/model_file.cpp — writer and validating reader of Attend's model file (a safetensors
// file with format=attend metadata); see engine/model_file.hpp and weights_format.md.
#include "engine/model_file.hpp"

#include <cstring>
#include <set>
#include <utility>

#include "attend/error.hpp"
#include "engine/mapped_file.hpp"
#include "engine/safetensors.hpp"

namespace attend {

namespace {

using json = nlohmann::json;

constexpr const char* kFormatKey = "format";
constexpr const char* kFormatValue = "attend";
constexpr const char* kVersionKey = "attend.format_version";
constexpr const char* kModelKey = "attend.model";
// The model document is small and shallow; the limit only guards recursive consumers
// (json::dump) against hostile nesting.
constexpr int kModelDocMaxDepth = 64;

std::string sq(const std::string& s) {
  return "'" + (s.size() > 200 ? s.substr(0, 197) + "..." : s) + "'";
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

std::string type_name(const json& v) { return v.type_name(); }

// A tokenizer file name is a plain file name: consumers may write it to disk.
bool valid_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

// Checks the required keys and their types of the "attend.model" document.
void validate_model_doc(const json& doc, const std::string& label) {
  const std::string where = label + ": metadata '" + kModelKey + "'";
  if (!doc.is_object())
    throw Error(where + " is not a JSON object (found " + type_name(doc) + ")");
  for (const char* key : {"architecture", "generation", "tokenizer", "source", "aliases",
                          "quantization"}) {
    auto it = doc.find(key);
    if (it == doc.end()) throw Error(where + ": missing key '" + key + "'");
    if (!it->is_object())
      throw Error(where + ": key '" + key + "' must be an object (found " + type_name(*it) + ")");
  }
  const json& tok = doc.at("tokenizer");
  auto kind = tok.find("kind");  // absent or "": the model has no tokenizer (token ids only)
  if (kind != tok.end() && !kind->is_string())
    throw Error(where + ": 'tokenizer.kind' must be a string (found " + type_name(*kind) + ")");
  auto files = tok.find("files");
  if (files == tok.end()) throw Error(where + ": missing key 'tokenizer.files'");
  if (!files->is_array())
    throw Error(where + ": 'tokenizer.files' must be an array (found " + type_name(*files) + ")");
  std::set<std::string> seen;
  for (const json& f : *files) {
    if (!f.is_string())
      throw Error(where + ": 'tokenizer.files' entries must be strings (found " + type_name(f) +
                  ")");
    const std::string& name = f.get_ref<const std::string&>();
    if (!valid_file_name(name))
      throw Error(where + ": 'tokenizer.files' entry " + sq(name) +
                  " is not a plain file name");
    if (!seen.insert(name).second)
      throw Error(where + ": 'tokenizer.files' lists " + sq(name) + " twice");
  }
  for (auto it = doc.at("aliases").begin(); it != doc.at("aliases").end(); ++it) {
    if (!it->is_string())
      throw Error(where + ": alias " + sq(it.key()) + " must map to a string (found " +
                  type_name(*it) + ")");
  }
}

// True if `name` may not be used for a weight or an alias (it belongs to the file format).
bool reserved_name(const std::string& name) {
  return name.empty() || name == "__metadata__" || starts_with(name, kSafetensorsPadPrefix) ||
         starts_with(name, kModelFileTokenizerPrefix);
}

// Resolves every alias (following chains) to a stored weight; rejects aliases that shadow a
// stored tensor, cycles and dangling targets. Returns alias -> stored name.
std::map<std::string, std::string> resolve_aliases(
    const std::map<std::string, std::string>& aliases, const TensorMap& stored,
    const std::string& label) {
  std::map<std::string, std::string> out;
  for (const auto& [alias, first] : aliases) {
    const std::string where = label + ": alias " + sq(alias);
    if (reserved_name(alias)) throw Error(where + ": reserved name");
    if (stored.count(alias)) throw Error(where + ": a stored tensor has the same name");
    std::string cur = alias;
    std::string chain = sq(alias);
    std::set<std::string> visited{alias};
    for (auto it = aliases.find(cur); it != aliases.end(); it = aliases.find(cur)) {
      cur = it->second;
      chain += " -> " + sq(cur);
      if (!visited.insert(cur).second) throw Error(where + ": alias cycle " + chain);
    }
    if (!stored.count(cur))
      throw Error(where + ": dangling alias, target tensor " + sq(cur) + " does not exist (" +
                  chain + ")");
    out.emplace(alias, cur);
  }
  return out;
}

std::map<std::string, std::string> aliases_from_doc(const json& doc) {
  std::map<std::string, std::string> out;
  for (auto it = doc.at("aliases").begin(); it != doc.at("aliases").end(); ++it)
    out.emplace(it.key(), it->get<std::string>());
  return out;
}

// Parses "MAJOR" or "MAJOR.MINOR" (decimal digits); false if malformed.
bool parse_version(const std::string& s, long* major) {
  size_t i = 0;
  long m = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (m > 100000) return false;
    m = m * 10 + (s[i++] - '0');
  }
  if (i == 0) return false;
  if (i < s.size()) {
    if (s[i] != '.' || i + 1 == s.size()) return false;
    for (size_t j = i + 1; j < s.size(); ++j)
      if (s[j] < '0' || s[j] > '9') return false;
  }
  *major = m;
  return true;
}

std::string expected_shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] == -1 ? std::string("?") : std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace

void write_model_file(const std::string& path, const nlohmann::json& model,
                      const TensorMap& tensors, const std::map<std::string, std::string>& aliases,
                      const std::map<std::string, std::string>& tokenizer_files) {
  const std::string where = path + ": cannot write model file";
  if (!model.is_object()) throw Error(where + ": the model document is not a JSON object");
  json doc = model;
  json jaliases = json::object();
  for (const auto& [k, v] : aliases) jaliases[k] = v;
  if (doc.contains("aliases") && doc["aliases"] != jaliases)
    throw Error(where + ": the model document has an 'aliases' key that differs from the "
                "aliases passed");
  doc["aliases"] = jaliases;

  json names = json::array();
  for (const auto& [name, bytes] : tokenizer_files) names.push_back(name);
  if (doc.contains("tokenizer") && doc["tokenizer"].is_object()) {
    json& tok = doc["tokenizer"];
    if (!tok.contains("files")) {
      tok["files"] = names;
    } else if (tok["files"].is_array()) {
      std::set<std::string> listed, given;
      for (const json& f : tok["files"])
        if (f.is_string()) listed.insert(f.get<std::string>());
      for (const auto& [name, bytes] : tokenizer_files) given.insert(name);
      if (listed != given)
        throw Error(where + ": 'tokenizer.files' in the model document does not list exactly "
                    "the tokenizer files passed");
    }
  }
  validate_model_doc(doc, where);

  // `tensors` may also hold the aliased names (a caller's "every name, aliases resolved"
  // map): those are not stored, their target is.
  TensorMap stored;
  for (const auto& [name, t] : tensors) {
    if (reserved_name(name))
      throw Error(where + ": tensor name " + sq(name) + " is reserved by the format");
    if (!aliases.count(name)) stored.emplace(name, t);
  }
  const auto resolved = resolve_aliases(aliases, stored, where);
  for (const auto& [alias, target] : resolved) {
    auto it = tensors.find(alias);
    if (it != tensors.end() && it->second.shape != stored.at(target).shape)
      throw Error(where + ": tensor " + sq(alias) + " " + it->second.shape_str() +
                  " is also an alias of " + sq(target) + " " + stored.at(target).shape_str() +
                  " with a different shape");
  }

  std::vector<std::pair<std::string, HostTensor>> list;
  list.reserve(stored.size() + tokenizer_files.size());
  for (const auto& [name, t] : stored) list.emplace_back(name, t);
  for (const auto& [name, bytes] : tokenizer_files) {
    HostTensor t;  // points into `bytes`, which outlives the write
    t.dtype = DType::U8;
    t.shape = {static_cast<int64_t>(bytes.size())};
    t.data = reinterpret_cast<const uint8_t*>(bytes.data());
    t.nbytes = bytes.size();
    list.emplace_back(kModelFileTokenizerPrefix + name, std::move(t));
  }

  std::map<std::string, std::string> metadata;
  metadata[kFormatKey] = kFormatValue;
  metadata[kVersionKey] = std::to_string(kModelFileFormatVersion);
  try {
    metadata[kModelKey] = doc.dump();
  } catch (const json::exception& e) {
    throw Error(where + ": the model document contains a string that is not valid UTF-8 (" +
                e.what() + ")");
  }
  write_safetensors(path, list, metadata, kModelFileAlignment);
}

ModelFileContents parse_model_file(std::shared_ptr<const void> keepalive, const uint8_t* data,
                                   size_t size, const std::string& label) {
  SafetensorsFile sf = parse_safetensors(keepalive, data, size, label);

  auto fmt = sf.metadata.find(kFormatKey);
  if (fmt == sf.metadata.end())
    throw Error(label + ": not an Attend model file: missing metadata key 'format'");
  if (fmt->second != kFormatValue)
    throw Error(label + ": not an Attend model file: metadata 'format' is " + sq(fmt->second) +
                ", expected 'attend'");
  auto ver = sf.metadata.find(kVersionKey);
  if (ver == sf.metadata.end())
    throw Error(label + ": missing metadata key '" + kVersionKey + "'");
  long major = 0;
  if (!parse_version(ver->second, &major) || major < 1)
    throw Error(label + ": invalid metadata '" + kVersionKey + "' " + sq(ver->second));
  if (major > kModelFileFormatVersion)
    throw Error(label + ": written by a newer Attend (format " + ver->second +
                "); this build reads format " + std::to_string(kModelFileFormatVersion));

  auto mit = sf.metadata.find(kModelKey);
  if (mit == sf.metadata.end())
    throw Error(label + ": missing metadata key '" + kModelKey + "'");
  ModelFileContents out;
  out.model = parse_json_strict(mit->second.data(), mit->second.size(),
                                label + ": metadata '" + kModelKey + "'", kModelDocMaxDepth);
  validate_model_doc(out.model, label);

  // Alignment is a promise of the format (it lets tensors be used in place); check it.
  for (const auto& [name, t] : sf.tensors) {
    if (starts_with(name, kSafetensorsPadPrefix)) continue;
    const size_t offset = static_cast<size_t>(t.data - data);
    if (offset % kModelFileAlignment != 0)
      throw Error(label + ": tensor " + sq(name) + ": data at file offset " +
                  std::to_string(offset) + " is not " + std::to_string(kModelFileAlignment) +
                  "-byte aligned as the format requires");
  }

  TensorMap tokenizer_tensors;
  for (auto& [name, t] : sf.tensors) {
    if (starts_with(name, kSafetensorsPadPrefix)) continue;
    if (starts_with(name, kModelFileTokenizerPrefix))
      tokenizer_tensors.emplace(name.substr(std::strlen(kModelFileTokenizerPrefix)), t);
    else
      out.tensors.emplace(name, t);
  }
  for (const json& f : out.model.at("tokenizer").at("files")) {
    const std::string& name = f.get_ref<const std::string&>();
    auto it = tokenizer_tensors.find(name);
    if (it == tokenizer_tensors.end())
      throw Error(label + ": tokenizer file " + sq(name) + " listed in '" + kModelKey +
                  "' is missing (no tensor " + sq(kModelFileTokenizerPrefix + name) + ")");
    const HostTensor& t = it->second;
    if (t.dtype != DType::U8 || t.shape.size() != 1)
      throw Error(label + ": tensor " + sq(kModelFileTokenizerPrefix + name) +
                  ": a tokenizer file must be a 1-D U8 tensor, found " + dtype_name(t.dtype) +
                  " " + t.shape_str());
    out.tokenizer_files.emplace(name,
                                std::string(reinterpret_cast<const char*>(t.data), t.nbytes));
  }

  const auto resolved = resolve_aliases(aliases_from_doc(out.model), out.tensors, label);
  for (const auto& [alias, target] : resolved) {
    HostTensor t = out.tensors.at(target);
    out.tensors.emplace(alias, std::move(t));
  }

  out.keepalive = std::move(keepalive);
  out.label = label;
  return out;
}

ModelFileContents read_model_file(const std::string& path) {
  std::shared_ptr<MappedFile> f = MappedFile::open(path);
  const uint8_t* data = f->data();
  const size_t size = f->size();
  return parse_model_file(std::move(f), data, size, path);
}

bool looks_like_model_file(const std::string& path) {
  if (!file_exists(path)) return false;  // also keeps FIFOs and devices from blocking open()
  try {
    // Mapping is lazy: only the header pages are read.
    const SafetensorsFile sf = read_safetensors(path);
    auto it = sf.metadata.find(kFormatKey);
    return it != sf.metadata.end() && it->second == kFormatValue;
  } catch (...) {
    return false;
  }
}

const HostTensor& require_tensor(const ModelFileContents& contents, const std::string& name,
                                 DType dtype, std::vector<int64_t> shape) {
  auto it = contents.tensors.find(name);
  if (it == contents.tensors.end())
    throw Error(contents.label + ": missing tensor " + sq(name));
  const HostTensor& t = it->second;
  bool ok = t.dtype == dtype && t.shape.size() == shape.size();
  for (size_t i = 0; ok && i < shape.size(); ++i)
    ok = shape[i] == -1 || shape[i] == t.shape[i];
  if (!ok)
    throw Error(contents.label + ": tensor " + sq(name) + ": expected " + dtype_name(dtype) +
                " " + expected_shape_str(shape) + ", found " + dtype_name(t.dtype) + " " +
                t.shape_str());
  return t;
}

}  // namespace attend

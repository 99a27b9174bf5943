// tokenizer/hf_config.hpp — reading the Hugging Face tokenizer files shared by all families:
// tokenizer_config.json + special_tokens_map.json (special tokens, options) and vocab.json.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/special_tokens.hpp"
#include "tokenizer/tokenizer.hpp"

namespace attend {

// A special token as written in the config: a plain string, or an AddedToken object
// ({"content": ..., "lstrip": ..., "rstrip": ...}) which carries its own strip flags.
struct ConfiguredToken {
  std::string content;
  bool added_token = false;  // true: lstrip/rstrip below come from the file
  bool lstrip = false;
  bool rstrip = false;
  bool from_map = false;     // the value came from special_tokens_map.json

  // The SpecialToken used for splitting. AddedToken objects carry their flags. A plain string
  // from tokenizer_config.json goes through the class constructor, which may wrap it in an
  // AddedToken with `class_default` flags; a plain string from special_tokens_map.json is set on
  // the tokenizer as a str after construction, so it strips both sides.
  SpecialToken as_special(const SpecialToken& class_default) const;
};

// The strip flags of a plain-string special token (HF strips both neighbours).
inline SpecialToken plain_token_flags() { return SpecialToken{"", true, true}; }

// The merged view transformers' from_pretrained builds: tokenizer_config.json values, overridden
// by special_tokens_map.json. Both files are optional.
class HfTokenizerConfig {
 public:
  static HfTokenizerConfig from_files(const TokenizerFiles& files);

  // "bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token", ...
  // Absent (or null) -> nullopt.
  std::optional<ConfiguredToken> token(const std::string& key) const;
  ConfiguredToken token_or(const std::string& key, const std::string& default_content) const;
  // additional_special_tokens of special_tokens_map.json (which replaces the list the class
  // constructor built), nullopt when absent or null.
  std::optional<std::vector<ConfiguredToken>> map_additional_special_tokens() const;
  // additional_special_tokens of tokenizer_config.json (constructor input), nullopt when absent.
  std::optional<std::vector<ConfiguredToken>> config_additional_special_tokens() const;

  bool get_bool(const std::string& key, bool default_value) const;
  int64_t get_int(const std::string& key, int64_t default_value) const;
  std::string get_string(const std::string& key, const std::string& default_value) const;
  bool has(const std::string& key) const;

 private:
  nlohmann::json config_ = nlohmann::json::object();  // tokenizer_config.json
  nlohmann::json map_ = nlohmann::json::object();     // special_tokens_map.json
  const nlohmann::json* find(const std::string& key) const;
};

// Parses a JSON file of the bundle; throws attend::Error naming the file on failure.
nlohmann::json parse_json_file(const TokenizerFiles& files, const std::string& name);
// The bytes of a required file; throws attend::Error("tokenizer: missing file <name>").
const std::string& require_file(const TokenizerFiles& files, const std::string& name, const std::string& kind);

// vocab.json: token -> id. Throws attend::Error naming the file for non-integer ids.
std::unordered_map<std::string, int32_t> load_vocab_json(const TokenizerFiles& files, const std::string& name);

}  // namespace attend

// tokenizer/hf_config.cpp — parsing tokenizer_config.json, special_tokens_map.json and vocab.json.
#include "tokenizer/hf_config.hpp"

#include "attend/error.hpp"

namespace attend {
namespace {

ConfiguredToken parse_token(const nlohmann::json& v, const std::string& where) {
  ConfiguredToken t;
  if (v.is_string()) {
    t.content = v.get<std::string>();
  } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    t.content = v["content"].get<std::string>();
    t.added_token = true;
    t.lstrip = v.value("lstrip", false);
    t.rstrip = v.value("rstrip", false);
  } else {
    throw Error("tokenizer: " + where + " is neither a string nor an AddedToken object");
  }
  return t;
}

}  // namespace

SpecialToken ConfiguredToken::as_special(const SpecialToken& class_default) const {
  SpecialToken s = from_map ? plain_token_flags() : class_default;
  s.content = content;
  if (added_token) {
    s.lstrip = lstrip;
    s.rstrip = rstrip;
  }
  return s;
}

nlohmann::json parse_json_file(const TokenizerFiles& files, const std::string& name) {
  auto it = files.find(name);
  if (it == files.end()) throw Error("tokenizer: missing file " + name);
  try {
    return nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error("tokenizer: " + name + ": invalid JSON: " + e.what());
  }
}

const std::string& require_file(const TokenizerFiles& files, const std::string& name, const std::string& kind) {
  auto it = files.find(name);
  if (it == files.end()) throw Error("tokenizer (" + kind + "): missing file " + name);
  return it->second;
}

HfTokenizerConfig HfTokenizerConfig::from_files(const TokenizerFiles& files) {
  HfTokenizerConfig c;
  if (files.count("tokenizer_config.json")) {
    c.config_ = parse_json_file(files, "tokenizer_config.json");
    if (!c.config_.is_object()) throw Error("tokenizer: tokenizer_config.json: expected a JSON object");
  }
  if (files.count("special_tokens_map.json")) {
    c.map_ = parse_json_file(files, "special_tokens_map.json");
    if (!c.map_.is_object()) throw Error("tokenizer: special_tokens_map.json: expected a JSON object");
  }
  return c;
}

const nlohmann::json* HfTokenizerConfig::find(const std::string& key) const {
  auto m = map_.find(key);
  if (m != map_.end() && !m->is_null()) return &*m;
  auto c = config_.find(key);
  if (c != config_.end() && !c->is_null()) return &*c;
  return nullptr;
}

bool HfTokenizerConfig::has(const std::string& key) const { return find(key) != nullptr; }

std::optional<ConfiguredToken> HfTokenizerConfig::token(const std::string& key) const {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  ConfiguredToken t = parse_token(*v, key);
  auto m = map_.find(key);
  t.from_map = (m != map_.end() && &*m == v);
  return t;
}

ConfiguredToken HfTokenizerConfig::token_or(const std::string& key, const std::string& default_content) const {
  auto t = token(key);
  if (t) return *t;
  ConfiguredToken d;
  d.content = default_content;
  return d;
}

namespace {

std::optional<std::vector<ConfiguredToken>> token_list(const nlohmann::json& obj, const std::string& file,
                                                       bool from_map) {
  auto v = obj.find("additional_special_tokens");
  if (v == obj.end() || v->is_null()) return std::nullopt;
  if (!v->is_array()) throw Error("tokenizer: " + file + ": additional_special_tokens must be a list");
  std::vector<ConfiguredToken> out;
  for (size_t i = 0; i < v->size(); ++i) {
    out.push_back(parse_token((*v)[i], file + ": additional_special_tokens[" + std::to_string(i) + "]"));
    out.back().from_map = from_map;
  }
  return out;
}

}  // namespace

std::optional<std::vector<ConfiguredToken>> HfTokenizerConfig::map_additional_special_tokens() const {
  return token_list(map_, "special_tokens_map.json", true);
}

std::optional<std::vector<ConfiguredToken>> HfTokenizerConfig::config_additional_special_tokens() const {
  return token_list(config_, "tokenizer_config.json", false);
}

bool HfTokenizerConfig::get_bool(const std::string& key, bool default_value) const {
  auto c = config_.find(key);
  if (c == config_.end() || c->is_null()) return default_value;
  if (!c->is_boolean()) throw Error("tokenizer: tokenizer_config.json: " + key + " must be true/false");
  return c->get<bool>();
}

int64_t HfTokenizerConfig::get_int(const std::string& key, int64_t default_value) const {
  auto c = config_.find(key);
  if (c == config_.end() || c->is_null()) return default_value;
  if (!c->is_number_integer()) throw Error("tokenizer: tokenizer_config.json: " + key + " must be an integer");
  return c->get<int64_t>();
}

std::string HfTokenizerConfig::get_string(const std::string& key, const std::string& default_value) const {
  auto c = config_.find(key);
  if (c == config_.end() || c->is_null()) return default_value;
  if (!c->is_string()) throw Error("tokenizer: tokenizer_config.json: " + key + " must be a string");
  return c->get<std::string>();
}

std::unordered_map<std::string, int32_t> load_vocab_json(const TokenizerFiles& files, const std::string& name) {
  const nlohmann::json j = parse_json_file(files, name);
  if (!j.is_object()) throw Error("tokenizer: " + name + ": expected a JSON object {token: id}");
  std::unordered_map<std::string, int32_t> vocab;
  vocab.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer())
      throw Error("tokenizer: " + name + ": id of token \"" + it.key() + "\" is not an integer");
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id > INT32_MAX) throw Error("tokenizer: " + name + ": id of token \"" + it.key() + "\" out of range");
    vocab[it.key()] = static_cast<int32_t>(id);
  }
  return vocab;
}

}  // namespace attend

// tests/conformance/tokenizer_conformance.cpp — tokenizer checks against the Hugging Face fixtures:
// every case of tokenizers/*/cases.json and the text-in/text-out model folders.
#include "tests/conformance/tokenizer_conformance.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "engine/mapped_file.hpp"

namespace attend {
namespace conformance {
namespace {

using nlohmann::json;

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

std::string base_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Python-like repr of a string, with non-printable ASCII escaped.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string show_item(int32_t v) { return std::to_string(v); }
std::string show_item(const std::string& s) { return quote(s); }
template <typename T>
std::string show(const std::vector<T>& v);
template <typename T>
std::string show_item(const std::vector<T>& v) {
  return show(v);
}

template <typename T>
std::string show(const std::vector<T>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += show_item(v[i]);
  }
  return out + "]";
}

std::string to_hex(const std::string& bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

json load_json(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
}

// Collects the outcome of one group: counts checks, keeps the first failure messages.
class Group {
 public:
  explicit Group(std::string name) : name_(std::move(name)) {}

  // Runs one check; exceptions count as failures of that check.
  void check(const std::string& what, const std::function<std::string()>& fn) {
    ++checks_;
    std::string failure;
    try {
      failure = fn();
    } catch (const std::exception& e) {
      failure = std::string("exception: ") + e.what();
    }
    if (failure.empty()) return;
    ++failures_;
    if (failures_ <= kMaxShown) messages_ += "\n  " + what + ": " + failure;
  }

  template <typename T>
  void expect_equal(const std::string& what, const T& expected, const std::function<T()>& got) {
    check(what, [&]() -> std::string {
      const T g = got();
      if (g == expected) return {};
      if constexpr (std::is_same_v<T, std::string>)
        return "expected " + quote(expected) + " got " + quote(g);
      else if constexpr (std::is_arithmetic_v<T>)
        return "expected " + std::to_string(expected) + " got " + std::to_string(g);
      else
        return "expected " + show(expected) + " got " + show(g);
    });
  }

  CaseResult result() const {
    CaseResult r;
    r.group = name_;
    if (checks_ == 0) {  // a group that checked nothing is a broken fixture or runner
      r.passed = false;
      r.message = "no checks ran";
      return r;
    }
    r.passed = failures_ == 0;
    r.message = std::to_string(checks_ - failures_) + "/" + std::to_string(checks_) + " checks passed";
    if (failures_ > kMaxShown) r.message += " (first " + std::to_string(kMaxShown) + " failures shown)";
    r.message += messages_;
    return r;
  }

 private:
  static constexpr int kMaxShown = 12;
  std::string name_;
  int checks_ = 0;
  int failures_ = 0;
  std::string messages_;
};

CaseResult failed(const std::string& group, const std::string& why) {
  CaseResult r;
  r.group = group;
  r.message = why;
  return r;
}

std::vector<int32_t> ids_of(const json& j) { return j.get<std::vector<int32_t>>(); }
std::vector<std::string> strings_of(const json& j) { return j.get<std::vector<std::string>>(); }

std::vector<std::string> tokens_of(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(tok.id_to_token(id));
  return out;
}

// Streams ids through IncrementalDecoder. Returns the concatenated output, or a description of
// the first step whose output is not a prefix of the final decoding (text already emitted can
// not be taken back, so that is a failure even if the total comes out right).
std::string stream_decode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool* saw_replacement,
                          bool skip_special_tokens = true) {
  const std::string final_text = tok.decode(ids, skip_special_tokens);
  IncrementalDecoder dec(tok, skip_special_tokens);
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string piece = dec.push(ids[i]);
    if (piece.find("\xEF\xBF\xBD") != std::string::npos) *saw_replacement = true;
    out += piece;
    if (final_text.compare(0, out.size(), out) != 0)
      return "<emitted " + quote(out) + " after " + std::to_string(i + 1) + " ids: not a prefix of the final text>";
  }
  out += dec.finish();
  return out;
}

void check_side(Group& g, const Tokenizer& tok, const std::string& name, const std::string& text, const json& side,
                bool target) {
  g.expect_equal<std::vector<int32_t>>(name + " input_ids", ids_of(side["input_ids"]), [&] {
    return target ? tok.encode_target(text) : tok.encode(text);
  });
  g.expect_equal<std::vector<std::string>>(name + " pieces", strings_of(side["pieces"]), [&] {
    return target ? tok.tokenize_target(text) : tok.tokenize(text);
  });
  g.expect_equal<std::vector<std::string>>(name + " tokens", strings_of(side["tokens"]),
                                           [&] { return tokens_of(tok, ids_of(side["input_ids"])); });
}

// Family-specific "extras" of cases.json.
void check_extras(Group& g, const std::string& kind, Tokenizer& tok, const json& extras, const std::string& folder) {
  if (extras.contains("partial_utf8_decode")) {
    for (const json& c : extras["partial_utf8_decode"]["cases"]) {
      const std::string text = c["text"].get<std::string>();
      const std::vector<int32_t> ids = ids_of(c["ids"]);
      g.expect_equal<std::vector<int32_t>>("partial_utf8 " + quote(text) + " ids", ids, [&] {
        std::vector<int32_t> enc = tok.encode(text);
        return std::vector<int32_t>(enc.begin() + 1, enc.end() - 1);
      });
      if (c.contains("tokens"))
        g.expect_equal<std::vector<std::string>>("partial_utf8 " + quote(text) + " tokens", strings_of(c["tokens"]),
                                                 [&] { return tokens_of(tok, ids); });
      for (const json& p : c["prefixes"]) {
        const std::vector<int32_t> prefix = ids_of(p["ids"]);
        g.expect_equal<std::string>("partial_utf8 " + quote(text) + " prefix " + show(prefix),
                                    p["decoded"].get<std::string>(), [&] { return tok.decode(prefix, true); });
        g.expect_equal<std::string>("partial_utf8 " + quote(text) + " prefix " + show(prefix) + " utf8_hex",
                                    p["utf8_hex"].get<std::string>(), [&] { return to_hex(tok.decode(prefix, true)); });
      }
      g.check("partial_utf8 " + quote(text) + " stream holds incomplete bytes", [&]() -> std::string {
        bool saw = false;
        const std::string s = stream_decode(tok, ids, &saw);
        if (saw) return "a U+FFFD was emitted";
        if (s != tok.decode(ids, true)) return "stream " + quote(s) + " != decode " + quote(tok.decode(ids, true));
        return {};
      });
    }
  }
  if (extras.contains("add_prefix_space")) {
    TokenizerFiles files = load_tokenizer_files(folder, kind);
    json cfg = files.count("tokenizer_config.json") ? json::parse(files["tokenizer_config.json"]) : json::object();
    cfg["add_prefix_space"] = true;
    files["tokenizer_config.json"] = cfg.dump();
    const auto spaced = make_tokenizer(kind, files);
    for (const json& c : extras["add_prefix_space"]["cases"]) {
      const std::string text = c["text"].get<std::string>();
      g.expect_equal<std::vector<int32_t>>("add_prefix_space " + quote(text), ids_of(c["input_ids"]),
                                           [&] { return spaced->encode(text); });
      g.expect_equal<std::vector<std::string>>("add_prefix_space " + quote(text) + " tokens", strings_of(c["tokens"]),
                                               [&] { return tokens_of(*spaced, ids_of(c["input_ids"])); });
      g.expect_equal<std::vector<int32_t>>("add_prefix_space default " + quote(text), ids_of(c["default_input_ids"]),
                                           [&] { return tok.encode(text); });
    }
  }
  // Language ids: lang_token_to_id (m2m100 "__xx__" tokens), lang_code_to_id, get_lang_id.
  if (extras.contains("lang_token_to_id")) {
    for (auto it = extras["lang_token_to_id"].begin(); it != extras["lang_token_to_id"].end(); ++it) {
      const std::string t = it.key();
      g.expect_equal<int32_t>("lang_token_to_id " + t, it.value().get<int32_t>(), [&] {
        auto id = tok.token_to_id(t);
        return id ? *id : -1;
      });
    }
  }
  for (const char* key : {"lang_code_to_id", "get_lang_id"}) {
    if (!extras.contains(key)) continue;
    for (auto it = extras[key].begin(); it != extras[key].end(); ++it) {
      const std::string code = it.key();
      g.expect_equal<int32_t>(std::string(key) + " " + code, it.value().get<int32_t>(), [&] {
        auto id = tok.language_id(code);
        return id ? *id : -1;
      });
      g.expect_equal<std::string>(std::string(key) + " " + code + " token", tok.id_to_token(it.value().get<int32_t>()),
                                  [&] { return kind == "m2m100" ? "__" + code + "__" : code; });
    }
    g.check(std::string(key) + " listed by language_codes()", [&]() -> std::string {
      const auto codes = tok.language_codes();
      for (auto it = extras[key].begin(); it != extras[key].end(); ++it)
        if (std::find(codes.begin(), codes.end(), it.key()) == codes.end()) return it.key() + " missing";
      return {};
    });
  }
  if (extras.contains("sentinels")) {
    for (auto it = extras["sentinels"]["ids"].begin(); it != extras["sentinels"]["ids"].end(); ++it) {
      const std::string t = it.key();
      const int32_t id = it.value().get<int32_t>();
      g.expect_equal<int32_t>("sentinel " + t, id, [&] {
        auto got = tok.token_to_id(t);
        return got ? *got : -1;
      });
      g.expect_equal<std::string>("sentinel id " + std::to_string(id), t, [&] { return tok.id_to_token(id); });
      g.expect_equal<bool>("sentinel " + t + " is special", true, [&] { return tok.is_special_id(id); });
    }
  }
  if (extras.contains("reserved_ids")) {
    for (auto it = extras["reserved_ids"]["ids"].begin(); it != extras["reserved_ids"]["ids"].end(); ++it) {
      const std::string t = it.key();
      const int32_t id = it.value().get<int32_t>();
      g.expect_equal<int32_t>("reserved " + t, id, [&] {
        auto got = tok.token_to_id(t);
        return got ? *got : -1;
      });
      g.expect_equal<std::string>("reserved id " + std::to_string(id), t, [&] { return tok.id_to_token(id); });
    }
  }
  if (extras.contains("src_lang") || extras.contains("tgt_lang")) {
    g.check("set_languages(src_lang, tgt_lang)", [&]() -> std::string {
      tok.set_languages(extras.value("src_lang", ""), extras.value("tgt_lang", ""));
      return {};
    });
    g.check("set_languages rejects an unknown code", [&]() -> std::string {
      try {
        tok.set_languages("xx_NOPE", "");
      } catch (const Error& e) {
        const auto codes = tok.language_codes();
        if (!codes.empty() && std::string(e.what()).find(codes.front()) == std::string::npos)
          return std::string("error does not list the valid codes: ") + e.what();
        return {};
      }
      return "no attend::Error thrown";
    });
  }
  if (extras.contains("generation_ids")) {
    const json& gen = extras["generation_ids"];
    if (gen.contains("forced_bos_token_id") && kind != "bart")
      g.expect_equal<int32_t>("generation forced_bos_token_id = target_language_id()",
                              gen["forced_bos_token_id"].get<int32_t>(), [&] {
                                auto id = tok.target_language_id();
                                return id ? *id : -1;
                              });
    if (gen.contains("forced_bos_token_id") && kind == "bart")
      g.expect_equal<int32_t>("generation forced_bos_token_id = bos", gen["forced_bos_token_id"].get<int32_t>(), [&] {
        auto id = tok.bos_id();
        return id ? *id : -1;
      });
    if (gen.contains("eos_token_id"))
      g.expect_equal<int32_t>("generation eos_token_id", gen["eos_token_id"].get<int32_t>(), [&] { return tok.eos_id(); });
    if (gen.contains("pad_token_id"))
      g.expect_equal<int32_t>("generation pad_token_id", gen["pad_token_id"].get<int32_t>(), [&] { return tok.pad_id(); });
  }
}

}  // namespace

TokenizerFiles load_tokenizer_files(const std::string& folder, const std::string& kind) {
  TokenizerFiles files;
  for (const std::string& name : tokenizer_file_names(kind)) {
    const std::string path = join_path(folder, name);
    if (file_exists(path)) files[name] = read_text_file(path);
  }
  return files;
}

std::vector<std::string> list_subdirectories(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::stat(join_path(dir, name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string format_results(const std::string& title, const std::vector<CaseResult>& results) {
  std::string out;
  for (const CaseResult& r : results) {
    out += r.passed ? "[PASS] " : "[FAIL] ";
    out += title + " " + r.group + ": " + r.message + "\n";
  }
  return out;
}

std::vector<CaseResult> check_tokenizer_folder(const std::string& folder_path) {
  std::vector<CaseResult> results;
  json cases;
  try {
    cases = load_json(join_path(folder_path, "cases.json"));
  } catch (const std::exception& e) {
    return {failed("load", e.what())};
  }
  std::string kind;
  const std::string cls = cases.value("tokenizer_class", "");
  if (!cls.empty()) {
    kind = tokenizer_kind_for_class(cls);
    if (kind.empty()) return {failed("load", "unsupported tokenizer_class " + cls)};
  } else if (file_exists(join_path(folder_path, "source.spm")) ||
             base_name(folder_path).find("marian") != std::string::npos) {
    kind = "marian";
  } else {
    return {failed("load", "cases.json has no tokenizer_class and the folder is not a Marian tokenizer")};
  }

  std::unique_ptr<Tokenizer> tok;
  try {
    tok = make_tokenizer(kind, load_tokenizer_files(folder_path, kind));
    const json& extras = cases.contains("extras") ? cases["extras"] : json::object();
    if (extras.contains("src_lang") || extras.contains("tgt_lang"))
      tok->set_languages(extras.value("src_lang", ""), extras.value("tgt_lang", ""));
  } catch (const std::exception& e) {
    return {failed("load", "kind " + kind + ": " + e.what())};
  }
  CaseResult load;
  load.group = "load";
  load.passed = true;
  load.message = "kind " + kind + (cls.empty() ? "" : " (" + cls + ")");
  results.push_back(load);

  // special_tokens
  {
    Group g("special_tokens");
    const json& st = cases["special_tokens"];
    auto opt = [](std::optional<int32_t> v) { return v ? *v : -1; };
    if (st.contains("eos_token_id"))
      g.expect_equal<int32_t>("eos_token_id", st["eos_token_id"].get<int32_t>(), [&] { return tok->eos_id(); });
    if (st.contains("pad_token_id"))
      g.expect_equal<int32_t>("pad_token_id", st["pad_token_id"].get<int32_t>(), [&] { return tok->pad_id(); });
    if (st.contains("unk_token_id"))
      g.expect_equal<int32_t>("unk_token_id", st["unk_token_id"].get<int32_t>(), [&] { return tok->unk_id(); });
    if (st.contains("bos_token_id"))
      g.expect_equal<int32_t>("bos_token_id", st["bos_token_id"].get<int32_t>(), [&] { return opt(tok->bos_id()); });
    if (st.contains("mask_token_id") && st.contains("mask_token"))
      g.expect_equal<int32_t>("mask_token_id", st["mask_token_id"].get<int32_t>(),
                              [&] { return opt(tok->token_to_id(st["mask_token"].get<std::string>())); });
    const char* len_key = st.contains("len_tokenizer") ? "len_tokenizer" : "vocab_size";
    if (st.contains(len_key))
      g.expect_equal<int32_t>(len_key, st[len_key].get<int32_t>(), [&] { return tok->vocab_size(); });
    for (const char* key : {"eos_token", "pad_token", "unk_token"}) {
      if (!st.contains(key)) continue;
      const std::string id_key = std::string(key) + "_id";
      if (st.contains(id_key))
        g.expect_equal<std::string>(std::string(key) + " string", st[key].get<std::string>(),
                                    [&] { return tok->id_to_token(st[id_key].get<int32_t>()); });
    }
    results.push_back(g.result());
  }

  Group source("source"), target("target"), decode("decode"), stream("stream");
  for (const json& c : cases["cases"]) {
    const std::string name = c["name"].get<std::string>();
    const std::string text = c["text"].get<std::string>();
    check_side(source, *tok, name, text, c["source"], false);
    check_side(target, *tok, name, text, c["target"], true);
    for (const char* side_name : {"source", "target"}) {
      const json& side = c[side_name];
      const bool is_source = std::string(side_name) == "source";
      const std::vector<int32_t> ids = ids_of(side["input_ids"]);
      auto dec = [&](bool skip) { return is_source ? tok->decode_source(ids, skip) : tok->decode(ids, skip); };
      decode.expect_equal<std::string>(name + " " + side_name + " decoded", side["decoded"].get<std::string>(),
                                       [&] { return dec(true); });
      decode.expect_equal<std::string>(name + " " + side_name + " decoded_keep_special",
                                       side["decoded_keep_special"].get<std::string>(), [&] { return dec(false); });
    }
    stream.expect_equal<std::string>(name + " target stream", c["target"]["decoded"].get<std::string>(), [&] {
      bool saw = false;
      return stream_decode(*tok, ids_of(c["target"]["input_ids"]), &saw);
    });
    stream.expect_equal<std::string>(name + " target stream keep_special",
                                     c["target"]["decoded_keep_special"].get<std::string>(), [&] {
                                       bool saw = false;
                                       return stream_decode(*tok, ids_of(c["target"]["input_ids"]), &saw, false);
                                     });
  }
  results.push_back(source.result());
  results.push_back(target.result());
  results.push_back(decode.result());
  results.push_back(stream.result());

  if (cases.contains("batch_example")) {
    Group g("batch");
    const json& b = cases["batch_example"];
    const std::vector<std::string> texts = strings_of(b["texts"]);
    const EncodedBatch got = encode_batch(*tok, texts);
    g.expect_equal<std::vector<std::vector<int32_t>>>(
        "input_ids", b["input_ids"].get<std::vector<std::vector<int32_t>>>(),
        [&] { return got.input_ids; });
    g.expect_equal<std::vector<std::vector<int32_t>>>(
        "attention_mask", b["attention_mask"].get<std::vector<std::vector<int32_t>>>(),
        [&] { return got.attention_mask; });
    results.push_back(g.result());
  }  // folders without a batch_example have nothing to check here: no group is reported

  if (cases.contains("extras") && !cases["extras"].empty()) {
    Group g("extras");
    check_extras(g, kind, *tok, cases["extras"], folder_path);
    results.push_back(g.result());
  }  // likewise for folders without extras
  return results;
}

std::vector<CaseResult> check_text_model_tokenizer(const std::string& model_folder) {
  json cases;
  try {
    cases = load_json(join_path(model_folder, "cases.json"));
  } catch (const std::exception& e) {
    return {failed("load", e.what())};
  }
  std::string kind, prefix;
  if (cases.contains("tokenizer") && cases["tokenizer"].is_object()) {
    const std::string cls = cases["tokenizer"].value("tokenizer_class", "");
    kind = tokenizer_kind_for_class(cls);
    if (kind.empty()) return {failed("load", "unsupported tokenizer_class " + cls)};
    prefix = cases["tokenizer"].value("input_prefix", "");
  } else if (cases.value("family", "") == "marian" && file_exists(join_path(model_folder, "source.spm"))) {
    kind = "marian";
  } else {
    return {};  // a model folder without tokenizer files: its tokenizer is not part of the suite
  }
  std::unique_ptr<Tokenizer> tok;
  try {
    tok = make_tokenizer(kind, load_tokenizer_files(model_folder, kind));
  } catch (const std::exception& e) {
    return {failed("load", "kind " + kind + ": " + e.what())};
  }
  std::vector<CaseResult> results;
  CaseResult load;
  load.group = "load";
  load.passed = true;
  load.message = "kind " + kind + (prefix.empty() ? "" : ", input_prefix " + quote(prefix));
  results.push_back(load);

  Group enc("encode"), dec("decode");
  for (const json& c : cases["cases"]) {
    const std::string name = c["name"].get<std::string>();
    if (c.contains("input_text")) {
      std::vector<std::string> texts;
      for (const json& t : c["input_text"]) texts.push_back(prefix + t.get<std::string>());
      const EncodedBatch got = encode_batch(*tok, texts);
      enc.expect_equal<std::vector<std::vector<int32_t>>>(name + " input_ids",
                                                          c["input_ids"].get<std::vector<std::vector<int32_t>>>(),
                                                          [&] { return got.input_ids; });
      if (c.contains("attention_mask"))
        enc.expect_equal<std::vector<std::vector<int32_t>>>(
            name + " attention_mask", c["attention_mask"].get<std::vector<std::vector<int32_t>>>(),
            [&] { return got.attention_mask; });
    }
    const json& exp = c["expected"];
    if (exp.contains("decoded_text")) {
      const auto seqs = exp["sequences"].get<std::vector<std::vector<int32_t>>>();
      const auto texts = strings_of(exp["decoded_text"]);
      dec.check(name + " rows", [&]() -> std::string {
        return seqs.size() == texts.size() ? std::string() : "sequences and decoded_text differ in length";
      });
      for (size_t i = 0; i < seqs.size() && i < texts.size(); ++i)
        dec.expect_equal<std::string>(name + " row " + std::to_string(i), texts[i],
                                      [&] { return tok->decode(seqs[i], true); });
    }
  }
  results.push_back(enc.result());
  results.push_back(dec.result());
  return results;
}

}  // namespace conformance
}  // namespace attend

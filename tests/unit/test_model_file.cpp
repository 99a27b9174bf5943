// tests/unit/test_model_file.cpp — Attend model file (.attend): round trip of weights, aliases
// and tokenizer files, alignment, require_tensor messages, the sniffer, and a corpus of
// malformed model files (each must be an attend::Error naming the problem).
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "attend/error.hpp"
#include "engine/host_tensor.hpp"
#include "engine/model_file.hpp"
#include "engine/safetensors.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using namespace attend;
using json = nlohmann::json;

using attend_test::fixtures_root;
using attend_test::TempDir;

namespace {


HostTensor tensor_of(DType dt, std::vector<int64_t> shape, uint8_t seed) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * dtype_size(dt));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed + i * 13);
  return make_host_tensor(dt, std::move(shape), std::move(bytes));
}

json sample_model() {
  return json{
      {"architecture",
       {{"family", "marian"}, {"d_model", 16}, {"norm", "post"}, {"positions", "sinusoidal"},
        {"activation", "swish"}, {"encoder_layers", 2}}},
      {"generation", {{"num_beams", 4}, {"max_length", 512}, {"length_penalty", 1.0}}},
      {"tokenizer", {{"kind", "marian_spm"}}},
      {"source", {{"model_type", "marian"}, {"checkpoint", "model.safetensors"}}},
      {"quantization", {{"kind", "none"}}},
  };
}

TensorMap sample_tensors() {
  return TensorMap{
      {"shared.weight", tensor_of(DType::F32, {10, 16}, 1)},
      {"encoder.layers.0.self_attn.q.weight", tensor_of(DType::F16, {16, 16}, 2)},
      {"encoder.layers.0.self_attn.q.bias", tensor_of(DType::BF16, {16}, 3)},
      {"encoder.layers.0.fc1.weight", tensor_of(DType::I8, {32, 16}, 4)},
      {"encoder.layers.0.fc1.weight.scale", tensor_of(DType::F32, {32}, 5)},
      {"final_logits_bias", tensor_of(DType::U8, {3}, 6)},
  };
}

const std::map<std::string, std::string> kAliases = {
    {"decoder.embed_tokens.weight", "shared.weight"},
    {"lm_head.weight", "decoder.embed_tokens.weight"},  // a chain
    {"encoder.embed_tokens.weight", "shared.weight"},
};

std::map<std::string, std::string> sample_tokenizer_files() {
  static const char kBinary[] = "\x00\x01spm\xff binary\0data";
  return {{"source.spm", std::string(kBinary, sizeof kBinary - 1)},
          {"vocab.json", R"({"<pad>": 0, "</s>": 1})"},
          {"empty.txt", ""}};
}

void expect_error_contains(const std::string& msg, std::initializer_list<const char*> words) {
  INFO("message: " << msg);
  for (const char* w : words) CHECK(msg.find(w) != std::string::npos);
}

// Writes a safetensors file with the given metadata (and tensors) and expects read_model_file to
// fail with a message that names the file and contains `words`.
void expect_model_error(const TempDir& dir, const std::map<std::string, std::string>& metadata,
                        const std::vector<std::pair<std::string, HostTensor>>& tensors,
                        std::initializer_list<const char*> words, size_t alignment = 64) {
  const std::string path = dir.file("bad.attend");
  write_safetensors(path, tensors, metadata, alignment);
  try {
    read_model_file(path);
    FAIL("no error; expected '" << *words.begin() << "'");
  } catch (const attend::Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find(path) != std::string::npos);
    expect_error_contains(msg, words);
  }
}

std::map<std::string, std::string> metadata_with(const json& model,
                                                 const std::string& version = "1") {
  return {{"format", "attend"}, {"attend.format_version", version}, {"attend.model", model.dump()}};
}

json complete_model() {
  json m = sample_model();
  m["tokenizer"]["files"] = json::array();
  m["aliases"] = json::object();
  return m;
}


}  // namespace

TEST_CASE("model file: round trip of weights, aliases, tokenizer files", "[model_file]") {
  TempDir dir;
  const std::string path = dir.file("m.attend");
  const TensorMap tensors = sample_tensors();
  const auto tok = sample_tokenizer_files();
  write_model_file(path, sample_model(), tensors, kAliases, tok);
  CHECK_FALSE(fs::exists(path + ".tmp"));

  const ModelFileContents c = read_model_file(path);
  CHECK(c.label == path);
  CHECK(c.keepalive != nullptr);

  // The document comes back with the aliases and the tokenizer file list filled in.
  json expected = sample_model();
  expected["aliases"] = json(kAliases);
  expected["tokenizer"]["files"] = json::array({"empty.txt", "source.spm", "vocab.json"});
  CHECK(c.model == expected);

  CHECK(c.tokenizer_files == tok);
  CHECK(c.tensors.size() == tensors.size() + kAliases.size());
  for (const auto& [name, t] : tensors) {
    INFO(name);
    REQUIRE(c.tensors.count(name));
    const HostTensor& r = c.tensors.at(name);
    CHECK(r.dtype == t.dtype);
    CHECK(r.shape == t.shape);
    REQUIRE(r.nbytes == t.nbytes);
    CHECK(std::memcmp(r.data, t.data, t.nbytes) == 0);
    CHECK(reinterpret_cast<uintptr_t>(r.data) % 64 == 0);  // mapping is page aligned
  }
  for (const auto& [alias, target] : kAliases) {
    INFO(alias);
    REQUIRE(c.tensors.count(alias));
    // Aliases share the bytes of the stored tensor (chains resolved).
    CHECK(c.tensors.at(alias).data == c.tensors.at("shared.weight").data);
    CHECK(c.tensors.at(alias).shape == c.tensors.at("shared.weight").shape);
  }
  for (const auto& [name, t] : c.tensors) {
    CHECK(name.rfind("tokenizer/", 0) != 0);
    CHECK(name.rfind("__pad__.", 0) != 0);
  }

  // The file is a plain safetensors file: metadata strings, tokenizer tensors, aligned data.
  const SafetensorsFile sf = read_safetensors(path);
  CHECK(sf.metadata.at("format") == "attend");
  CHECK(sf.metadata.at("attend.format_version") == "1");
  CHECK(json::parse(sf.metadata.at("attend.model")) == expected);
  CHECK(sf.tensors.count("tokenizer/source.spm"));
  CHECK(sf.tensors.at("tokenizer/source.spm").dtype == DType::U8);
  CHECK_FALSE(sf.tensors.count("lm_head.weight"));  // stored once

  // Independent check of the layout: contiguous data, every non-padding tensor 64-aligned.
  const std::string bytes = attend_test::read_file(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  const json h = json::parse(bytes.substr(8, n));
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const uint64_t b = (*it)["data_offsets"][0], e = (*it)["data_offsets"][1];
    if (it.key().rfind("__pad__.", 0) != 0) CHECK((8 + n + b) % 64 == 0);
    spans.emplace_back(b, e);
  }
  std::sort(spans.begin(), spans.end());
  uint64_t cur = 0;
  for (const auto& [b, e] : spans) {
    CHECK(b == cur);
    cur = e;
  }
  CHECK(8 + n + cur == bytes.size());

  // parse_model_file over an in-memory copy gives the same result.
  auto owner = std::make_shared<std::string>(bytes);
  const ModelFileContents m = parse_model_file(
      owner, reinterpret_cast<const uint8_t*>(owner->data()), owner->size(), "<mem>");
  CHECK(m.label == "<mem>");
  CHECK(m.model == expected);
  CHECK(m.tensors.size() == c.tensors.size());
}

TEST_CASE("model file: no aliases, no tokenizer files, explicit file list", "[model_file]") {
  TempDir dir;
  const std::string path = dir.file("m.attend");
  json model = sample_model();
  model["tokenizer"]["files"] = {"spiece.model"};
  write_model_file(path, model, {{"w", tensor_of(DType::F32, {2, 2}, 1)}}, {},
                   {{"spiece.model", "abc"}});
  ModelFileContents c = read_model_file(path);
  CHECK(c.tokenizer_files.at("spiece.model") == "abc");
  CHECK(c.model["aliases"] == json::object());
  CHECK(c.tensors.size() == 1);

  // Re-writing what was read (its document already has aliases) works.
  write_model_file(path, c.model, c.tensors, {}, c.tokenizer_files);
  CHECK(read_model_file(path).model == c.model);
}

TEST_CASE("model file: tensors given under alias names too (converter style)", "[model_file]") {
  TempDir dir;
  const std::string path = dir.file("m.attend");
  // Every name present, the tied ones also listed as aliases: stored once.
  const HostTensor shared = tensor_of(DType::F32, {10, 16}, 1);
  const HostTensor shared_f16 = tensor_of(DType::F16, {10, 16}, 1);
  json model = sample_model();
  model["tokenizer"] = json::object();  // a model without tokenizer
  write_model_file(path, model,
                   {{"encoder.embed_tokens.weight", shared_f16},
                    {"decoder.embed_tokens.weight", shared},
                    {"lm_head.weight", shared}},
                   {{"decoder.embed_tokens.weight", "encoder.embed_tokens.weight"},
                    {"lm_head.weight", "encoder.embed_tokens.weight"}},
                   {});
  const SafetensorsFile sf = read_safetensors(path);
  size_t stored = 0;
  for (const auto& [name, t] : sf.tensors)
    if (name.rfind("__pad__.", 0) != 0) ++stored;
  CHECK(stored == 1);
  const ModelFileContents c = read_model_file(path);
  CHECK(c.tensors.size() == 3);
  CHECK(c.tensors.at("lm_head.weight").dtype == DType::F16);  // the stored tensor wins
  CHECK(c.tensors.at("lm_head.weight").data == c.tensors.at("encoder.embed_tokens.weight").data);
  CHECK(c.model["tokenizer"] == json{{"files", json::array()}});
  CHECK(c.tokenizer_files.empty());
}

TEST_CASE("model file: require_tensor", "[model_file]") {
  TempDir dir;
  const std::string path = dir.file("m.attend");
  write_model_file(path, sample_model(),
                   {{"x", tensor_of(DType::BF16, {512}, 1)},
                    {"w", tensor_of(DType::F32, {4, 3}, 2)}},
                   {{"y", "w"}}, {});
  const ModelFileContents c = read_model_file(path);
  CHECK(require_tensor(c, "w", DType::F32, {4, 3}).shape == std::vector<int64_t>{4, 3});
  CHECK(require_tensor(c, "y", DType::F32, {4, 3}).data == c.tensors.at("w").data);
  CHECK(require_tensor(c, "w", DType::F32, {-1, 3}).nbytes == 48);
  try {
    require_tensor(c, "x", DType::F32, {512, 256});
    FAIL("expected an error");
  } catch (const attend::Error& e) {
    CHECK(std::string(e.what()) ==
          path + ": tensor 'x': expected F32 [512, 256], found BF16 [512]");
  }
  try {
    require_tensor(c, "w", DType::F32, {4, -1, 2});
    FAIL("expected an error");
  } catch (const attend::Error& e) {
    CHECK(std::string(e.what()) == path + ": tensor 'w': expected F32 [4, ?, 2], found F32 [4, 3]");
  }
  try {
    require_tensor(c, "nope", DType::F32, {1});
    FAIL("expected an error");
  } catch (const attend::Error& e) {
    CHECK(std::string(e.what()) == path + ": missing tensor 'nope'");
  }
}

TEST_CASE("model file: looks_like_model_file", "[model_file]") {
  TempDir dir;
  const std::string model = dir.file("m.attend");
  write_model_file(model, sample_model(), {{"w", tensor_of(DType::F32, {2}, 1)}}, {}, {});
  CHECK(looks_like_model_file(model));

  const std::string plain = dir.file("plain.safetensors");
  write_safetensors(plain, {{"w", tensor_of(DType::F32, {2}, 1)}}, {{"format", "pt"}});
  CHECK_FALSE(looks_like_model_file(plain));

  const std::string garbage = dir.file("garbage.bin");
  std::ofstream(garbage) << "this is not a model file at all";
  CHECK_FALSE(looks_like_model_file(garbage));
  CHECK_FALSE(looks_like_model_file(dir.file("missing.attend")));
  CHECK_FALSE(looks_like_model_file(dir.path.string()));  // a directory
}

TEST_CASE("model file: writer rejects inconsistent input", "[model_file]") {
  TempDir dir;
  const std::string path = dir.file("w.attend");
  const TensorMap tensors = {{"w", tensor_of(DType::F32, {2}, 1)}};
  auto expect = [&](const json& model, const TensorMap& t,
                    const std::map<std::string, std::string>& aliases,
                    const std::map<std::string, std::string>& tok,
                    std::initializer_list<const char*> words) {
    try {
      write_model_file(path, model, t, aliases, tok);
      FAIL("no error; expected '" << *words.begin() << "'");
    } catch (const attend::Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find(path) != std::string::npos);
      expect_error_contains(msg, words);
    }
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path + ".tmp"));
  };
  expect(sample_model(), tensors, {{"a", "b"}, {"b", "a"}}, {}, {"alias cycle"});
  expect(sample_model(), tensors, {{"a", "missing"}}, {}, {"dangling", "'missing'"});
  expect(sample_model(), tensors, {{"w", "w"}}, {}, {"alias cycle"});
  expect(sample_model(), {{"w", tensor_of(DType::F32, {2}, 1)}, {"t", tensor_of(DType::F32, {3}, 1)}},
         {{"t", "w"}}, {}, {"'t'", "different shape"});
  expect(sample_model(), {{"tokenizer/x", tensor_of(DType::U8, {1}, 1)}}, {}, {}, {"reserved"});
  expect(sample_model(), {{"__pad__.3", tensor_of(DType::U8, {1}, 1)}}, {}, {}, {"reserved"});
  expect(sample_model(), tensors, {}, {{"../evil", "x"}}, {"not a plain file name"});
  json missing_arch = sample_model();
  missing_arch.erase("architecture");
  expect(missing_arch, tensors, {}, {}, {"missing key 'architecture'"});
  json other_aliases = sample_model();
  other_aliases["aliases"] = {{"x", "w"}};
  expect(other_aliases, tensors, {}, {}, {"'aliases'"});
  json wrong_files = sample_model();
  wrong_files["tokenizer"]["files"] = {"a.model"};
  expect(wrong_files, tensors, {}, {{"b.model", "x"}}, {"tokenizer.files"});
  expect(json::array(), tensors, {}, {}, {"not a JSON object"});
  json bad_kind = sample_model();
  bad_kind["tokenizer"]["kind"] = 5;
  expect(bad_kind, tensors, {}, {}, {"tokenizer.kind"});
}

TEST_CASE("model file: malformed files give attend::Error naming the problem",
          "[model_file][malformed]") {
  TempDir dir;
  const json good = complete_model();
  const std::vector<std::pair<std::string, HostTensor>> w = {
      {"w", tensor_of(DType::F32, {2}, 1)}};

  SECTION("sanity: the hand-made good file reads") {
    const std::string path = dir.file("good.attend");
    write_safetensors(path, w, metadata_with(good));
    CHECK(read_model_file(path).tensors.count("w"));
  }
  SECTION("format key") {
    expect_model_error(dir, {{"attend.format_version", "1"}, {"attend.model", good.dump()}}, w,
                       {"not an Attend model file", "missing metadata key 'format'"});
    auto md = metadata_with(good);
    md["format"] = "pt";
    expect_model_error(dir, md, w, {"not an Attend model file", "'pt'"});
    expect_model_error(dir, {}, w, {"missing metadata key 'format'"});
  }
  SECTION("version") {
    expect_model_error(dir, metadata_with(good, "2"), w,
                       {"written by a newer Attend (format 2); this build reads format 1"});
    expect_model_error(dir, metadata_with(good, "17.3"), w, {"newer Attend (format 17.3)"});
    expect_model_error(dir, metadata_with(good, "abc"), w, {"invalid", "'abc'"});
    expect_model_error(dir, metadata_with(good, "0"), w, {"invalid"});
    expect_model_error(dir, metadata_with(good, "1."), w, {"invalid"});
    auto md = metadata_with(good);
    md.erase("attend.format_version");
    expect_model_error(dir, md, w, {"missing metadata key 'attend.format_version'"});
    // A newer minor version of format 1 is readable.
    const std::string path = dir.file("minor.attend");
    write_safetensors(path, w, metadata_with(good, "1.4"));
    CHECK(read_model_file(path).tensors.count("w"));
  }
  SECTION("model document") {
    auto md = metadata_with(good);
    md.erase("attend.model");
    expect_model_error(dir, md, w, {"missing metadata key 'attend.model'"});
    md["attend.model"] = "{\"architecture\": ";
    expect_model_error(dir, md, w, {"'attend.model'", "invalid JSON"});
    md["attend.model"] = "[]";
    expect_model_error(dir, md, w, {"'attend.model'", "not a JSON object"});
    for (const char* key :
         {"architecture", "generation", "tokenizer", "source", "aliases", "quantization"}) {
      json m = good;
      m.erase(key);
      expect_model_error(dir, metadata_with(m), w, {"missing key", key});
      m[key] = "a string";
      expect_model_error(dir, metadata_with(m), w, {key, "must be an object"});
    }
    json m = good;
    m["tokenizer"]["files"] = "spm.model";
    expect_model_error(dir, metadata_with(m), w, {"'tokenizer.files' must be an array"});
    m["tokenizer"]["files"] = {1};
    expect_model_error(dir, metadata_with(m), w, {"must be strings"});
    m["tokenizer"]["files"] = {"a/b"};
    expect_model_error(dir, metadata_with(m), w, {"not a plain file name"});
    m["tokenizer"]["files"] = {"x", "x"};
    expect_model_error(dir, metadata_with(m), w, {"twice"});
    m = good;
    m["tokenizer"]["kind"] = 3;
    expect_model_error(dir, metadata_with(m), w, {"tokenizer.kind"});
  }
  SECTION("aliases") {
    json m = good;
    m["aliases"] = {{"a", "b"}, {"b", "c"}, {"c", "a"}};
    expect_model_error(dir, metadata_with(m), w, {"alias cycle"});
    m["aliases"] = {{"a", "a"}};
    expect_model_error(dir, metadata_with(m), w, {"alias cycle"});
    m["aliases"] = {{"a", "nothing"}};
    expect_model_error(dir, metadata_with(m), w, {"alias 'a'", "dangling", "'nothing'"});
    m["aliases"] = {{"a", 3}};
    expect_model_error(dir, metadata_with(m), w, {"alias 'a'", "must map to a string"});
    m["aliases"] = {{"w", "w"}};
    expect_model_error(dir, metadata_with(m), w, {"alias 'w'", "same name"});
    // An alias may not point at a tokenizer file.
    m = good;
    m["tokenizer"]["files"] = {"t.bin"};
    m["aliases"] = {{"a", "tokenizer/t.bin"}};
    auto withtok = w;
    withtok.emplace_back("tokenizer/t.bin", tensor_of(DType::U8, {4}, 1));
    expect_model_error(dir, metadata_with(m), withtok, {"dangling"});
  }
  SECTION("tokenizer files") {
    json m = good;
    m["tokenizer"]["files"] = {"spm.model"};
    expect_model_error(dir, metadata_with(m), w,
                       {"tokenizer file 'spm.model'", "missing", "'tokenizer/spm.model'"});
    auto wrong = w;
    wrong.emplace_back("tokenizer/spm.model", tensor_of(DType::F32, {2}, 1));
    expect_model_error(dir, metadata_with(m), wrong, {"1-D U8"});
  }
  SECTION("alignment") {
    auto odd = w;
    odd.insert(odd.begin(), {"odd", tensor_of(DType::U8, {3}, 1)});
    expect_model_error(dir, metadata_with(good), odd, {"64-byte aligned"}, 8);
  }
  SECTION("safetensors-level damage is reported too") {
    const std::string path = dir.file("trunc.attend");
    write_model_file(path, sample_model(), sample_tensors(), kAliases, sample_tokenizer_files());
    const std::string bytes = attend_test::read_file(path);
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 10));
    try {
      read_model_file(path);
      FAIL("expected an error");
    } catch (const attend::Error& e) {
      expect_error_contains(e.what(), {"outside the data area"});
    }
  }
}

TEST_CASE("model file: Hugging Face checkpoints are not model files", "[model_file][fixtures]") {
  const fs::path p = fs::path(fixtures_root()) / "models" / "marian" / "model.safetensors";
  if (!fs::exists(p)) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") FAIL("fixtures not found: " << p.string());
    WARN("fixtures not found: " << p.string() << " (set ATTEND_FIXTURES); skipping");
    return;
  }
  CHECK_FALSE(looks_like_model_file(p.string()));
  try {
    read_model_file(p.string());
    FAIL("expected an error");
  } catch (const attend::Error& e) {
    expect_error_contains(e.what(), {"not an Attend model file", "'pt'"});
  }
}

namespace {

// A raw safetensors image: 8-byte little-endian header length, the header text, the data.
std::string raw_safetensors(const std::string& header, const std::string& data) {
  std::string out;
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + data;
}

// Header of a one-tensor Attend model file ("w": `dtype` `shape` at `offsets`), padded to 64 bytes.
std::string model_header(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  json md = metadata_with(complete_model());
  std::string h = "{\"__metadata__\": " + md.dump() + ", \"w\": {\"dtype\": \"" + dtype + "\", \"shape\": " + shape +
                  ", \"data_offsets\": " + offsets + "}}";
  while ((h.size() + 8) % 64 != 0) h.push_back(' ');
  return h;
}

// Writes `bytes` as a model file and returns read_model_file's error (fails when it reads).
std::string model_file_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("damaged.attend");
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  try {
    read_model_file(path);
  } catch (const attend::Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find(path) != std::string::npos);
    return msg;
  }
  FAIL("damaged model file was read without an error");
  return "";
}

}  // namespace

TEST_CASE("model file: corpus of damaged files (truncated, bad offsets, absurd shapes, wrong dtypes)",
          "[model_file][malformed]") {
  TempDir dir;
  const std::string data(8, '\x01');
  const std::string good = raw_safetensors(model_header("F32", "[2]", "[0, 8]"), data);
  {
    const std::string path = dir.file("good.attend");
    std::ofstream(path, std::ios::binary).write(good.data(), static_cast<std::streamsize>(good.size()));
    REQUIRE(read_model_file(path).tensors.at("w").nbytes == 8);
  }
  SECTION("truncated at every kind of place") {
    expect_error_contains(model_file_error(dir, ""), {"truncated"});
    expect_error_contains(model_file_error(dir, good.substr(0, 5)), {"truncated"});
    expect_error_contains(model_file_error(dir, good.substr(0, 8)), {"header"});
    expect_error_contains(model_file_error(dir, good.substr(0, 40)), {"header"});
    expect_error_contains(model_file_error(dir, good.substr(0, good.size() - 1)), {"'w'"});
    expect_error_contains(model_file_error(dir, good.substr(0, good.size() - 8)), {"'w'"});
  }
  SECTION("header length and offsets out of range") {
    std::string huge = good;
    huge[7] = '\x7f';  // header length ~ 9e18
    expect_error_contains(model_file_error(dir, huge), {"header"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "[2]", "[0, 800]"), data)), {"'w'"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "[2]", "[8, 0]"), data)), {"'w'"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "[2]", "[4, 12]"), data + "xxxx")),
                          {"'w'"});
    expect_error_contains(
        model_file_error(dir, raw_safetensors(model_header("F32", "[2]", "[0, 18446744073709551615]"), data)), {"'w'"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "[2]", "[-8, 0]"), data)), {"'w'"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "[2]", "[0]"), data)), {"'w'"});
  }
  SECTION("absurd shapes") {
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "[3]", "[0, 8]"), data)), {"'w'"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "[-2]", "[0, 8]"), data)), {"'w'"});
    expect_error_contains(
        model_file_error(dir, raw_safetensors(model_header("F32", "[4294967296, 4294967296, 4]", "[0, 8]"), data)),
        {"'w'"});
    expect_error_contains(
        model_file_error(dir, raw_safetensors(model_header("F32", "[9223372036854775807, 2]", "[0, 8]"), data)), {"'w'"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "[2.5]", "[0, 8]"), data)), {"'w'"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F32", "\"2\"", "[0, 8]"), data)), {"'w'"});
  }
  SECTION("wrong dtypes") {
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F33", "[2]", "[0, 8]"), data)),
                          {"'w'", "F33"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("F64", "[2]", "[0, 8]"), data)), {"'w'"});
    expect_error_contains(model_file_error(dir, raw_safetensors(model_header("", "[2]", "[0, 8]"), data)), {"'w'"});
    // A tokenizer file stored as F32 instead of U8.
    json m = complete_model();
    m["tokenizer"]["files"] = {"vocab.json"};
    const std::string path = dir.file("tokdtype.attend");
    write_safetensors(path, {{"tokenizer/vocab.json", tensor_of(DType::F32, {2}, 1)}}, metadata_with(m));
    try {
      read_model_file(path);
      FAIL("expected an error");
    } catch (const attend::Error& e) {
      expect_error_contains(e.what(), {"vocab.json", "1-D U8"});
    }
  }
  SECTION("a model whose weights do not fit its architecture fails to load with a clear error") {
    const std::string path = dir.file("misfit.attend");
    write_model_file(path, sample_model(), sample_tensors(), kAliases, sample_tokenizer_files());
    try {
      attend::Model::load(path);
      FAIL("expected an error");
    } catch (const attend::Error& e) {
      expect_error_contains(e.what(), {path.c_str()});
    }
  }
}

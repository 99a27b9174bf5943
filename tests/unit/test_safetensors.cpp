// tests/unit/test_safetensors.cpp — safetensors reader/writer: round trips, alignment, an
// independent validity check of the writer's output, a corpus of malformed files (each must be
// an attend::Error naming the problem, never a crash), mutation fuzzing and the fixtures.
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "engine/host_tensor.hpp"
#include "engine/safetensors.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using namespace attend;

using attend_test::fixtures_root;
using attend_test::TempDir;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}


std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// A raw safetensors image from a header text and a data area.
std::string raw_file(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

HostTensor tensor_of(DType dt, std::vector<int64_t> shape, uint8_t seed) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * dtype_size(dt));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return make_host_tensor(dt, std::move(shape), std::move(bytes));
}

// Validity as the reference implementation defines it, checked independently of our reader:
// header starts with '{', entries sorted by offsets are contiguous from 0, each spans
// numel * dtype size, and the last one ends exactly at the end of the file. Also checks that
// every tensor's data starts at a multiple of `alignment` from the start of the file.
void check_valid_safetensors(const std::string& bytes, size_t alignment) {
  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  REQUIRE(8 + n <= bytes.size());
  CHECK(n % 8 == 0);
  CHECK((8 + n) % alignment == 0);
  const std::string header = bytes.substr(8, n);
  REQUIRE(header[0] == '{');
  const nlohmann::json h = nlohmann::json::parse(header);
  const std::map<std::string, size_t> sizes = {{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I8", 1},
                                               {"U8", 1},  {"I32", 4}, {"I64", 8},  {"BOOL", 1},
                                               {"F64", 8}, {"I16", 2}};
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") {
      for (const auto& v : *it) CHECK(v.is_string());
      continue;
    }
    const auto& e = *it;
    REQUIRE(sizes.count(e.at("dtype").get<std::string>()));
    uint64_t numel = 1;
    for (const auto& d : e.at("shape")) numel *= d.get<uint64_t>();
    const uint64_t b = e.at("data_offsets")[0].get<uint64_t>();
    const uint64_t en = e.at("data_offsets")[1].get<uint64_t>();
    CHECK(en - b == numel * sizes.at(e.at("dtype").get<std::string>()));
    if (it.key().rfind("__pad__.", 0) != 0) {
      INFO("tensor " << it.key());
      CHECK((8 + n + b) % alignment == 0);
    }
    spans.emplace_back(b, en);
  }
  std::sort(spans.begin(), spans.end());
  uint64_t cur = 0;
  for (const auto& [b, e] : spans) {
    CHECK(b == cur);
    cur = e;
  }
  CHECK(8 + n + cur == bytes.size());
}

// Expects reading `bytes` (as a file) to throw attend::Error whose message names the file
// and contains each of `words`.
void expect_read_error(const TempDir& dir, const std::string& bytes,
                       std::initializer_list<const char*> words) {
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, bytes);
  try {
    read_safetensors(path);
    FAIL("no error; expected one containing '" << *words.begin() << "'");
  } catch (const attend::Error& e) {
    const std::string msg = e.what();
    INFO("message: " << msg);
    CHECK(msg.find(path) != std::string::npos);
    for (const char* w : words) CHECK(msg.find(w) != std::string::npos);
  }
}


}  // namespace

TEST_CASE("safetensors: round trip of every dtype, aligned, with metadata", "[safetensors]") {
  TempDir dir;
  const std::string path = dir.file("rt.safetensors");
  std::vector<std::pair<std::string, HostTensor>> tensors = {
      {"a.f32", tensor_of(DType::F32, {3, 5}, 1)},
      {"b.f16", tensor_of(DType::F16, {7}, 2)},
      {"c.bf16", tensor_of(DType::BF16, {2, 3, 3}, 3)},
      {"d.i8", tensor_of(DType::I8, {13}, 4)},
      {"e.u8", tensor_of(DType::U8, {1, 1}, 5)},
      {"f.scalar", tensor_of(DType::F32, {}, 6)},
      {"g.empty", tensor_of(DType::F32, {0, 4}, 7)},
      {"h.i64", tensor_of(DType::I64, {3}, 8)},
  };
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"note", "quotes \" and unicode \xc3\xa9"}, {"empty", ""}};
  write_safetensors(path, tensors, metadata);
  CHECK_FALSE(fs::exists(path + ".tmp"));

  const std::string bytes = attend_test::read_file(path);
  check_valid_safetensors(bytes, 64);

  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.metadata == metadata);
  size_t pads = 0;
  for (const auto& [name, t] : f.tensors) {
    if (name.rfind("__pad__.", 0) == 0) {
      ++pads;
      CHECK(t.dtype == DType::U8);
      CHECK(t.shape.size() == 1);
      CHECK(t.nbytes > 0);
      CHECK(t.nbytes < 64);
      for (size_t i = 0; i < t.nbytes; ++i) CHECK(t.data[i] == 0);
    }
  }
  CHECK(pads > 0);
  CHECK(f.tensors.size() == tensors.size() + pads);
  for (const auto& [name, t] : tensors) {
    INFO("tensor " << name);
    REQUIRE(f.tensors.count(name));
    const HostTensor& r = f.tensors.at(name);
    CHECK(r.dtype == t.dtype);
    CHECK(r.shape == t.shape);
    REQUIRE(r.nbytes == t.nbytes);
    if (t.nbytes > 0) CHECK(std::memcmp(r.data, t.data, t.nbytes) == 0);
    // The mapping is page aligned, so file alignment is memory alignment.
    CHECK(reinterpret_cast<uintptr_t>(r.data) % 64 == 0);
    CHECK(r.keepalive != nullptr);
  }
}

TEST_CASE("safetensors: writer alignment options and empty files", "[safetensors]") {
  TempDir dir;
  for (size_t alignment : {size_t(1), size_t(8), size_t(64), size_t(128), size_t(4096)}) {
    INFO("alignment " << alignment);
    const std::string path = dir.file("al.safetensors");
    write_safetensors(path,
                      {{"x", tensor_of(DType::U8, {3}, 1)},
                       {"y", tensor_of(DType::F16, {5}, 2)},
                       {"z", tensor_of(DType::F32, {1}, 3)}},
                      {}, alignment);
    const std::string bytes = attend_test::read_file(path);
    check_valid_safetensors(bytes, alignment);
    const SafetensorsFile f = read_safetensors(path);
    CHECK(f.metadata.empty());
    for (const char* name : {"x", "y", "z"}) {
      REQUIRE(f.tensors.count(name));
      const uint8_t* base = f.tensors.at(name).data;
      CHECK(reinterpret_cast<uintptr_t>(base) % alignment == 0);
    }
  }
  // No tensors at all is still a valid file.
  const std::string path = dir.file("empty.safetensors");
  write_safetensors(path, {}, {{"k", "v"}});
  check_valid_safetensors(attend_test::read_file(path), 64);
  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.tensors.empty());
  CHECK(f.metadata.at("k") == "v");
}

TEST_CASE("safetensors: many tensors (header handling stays linear)", "[safetensors]") {
  // nlohmann's callback parser is quadratic in the number of members of an object; a
  // regression to it would make this test take minutes instead of well under a second.
  TempDir dir;
  const std::string path = dir.file("many.safetensors");
  const HostTensor t = tensor_of(DType::F16, {3}, 1);
  std::vector<std::pair<std::string, HostTensor>> tensors;
  for (int i = 0; i < 20000; ++i) tensors.emplace_back("layer." + std::to_string(i), t);
  write_safetensors(path, tensors, {{"format", "pt"}});
  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.tensors.size() == 39999);  // a 58-byte pad after each 6-byte tensor but the last
  CHECK(f.tensors.at("layer.19999").shape == std::vector<int64_t>{3});
  check_valid_safetensors(attend_test::read_file(path), 64);
}

TEST_CASE("safetensors: parse_safetensors over memory uses the label", "[safetensors]") {
  const std::string header = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string image = raw_file(header, std::string(8, '\x01'));
  auto owner = std::make_shared<std::string>(image);
  const auto* p = reinterpret_cast<const uint8_t*>(owner->data());
  const SafetensorsFile f = parse_safetensors(owner, p, owner->size(), "<memory>");
  REQUIRE(f.tensors.count("t"));
  CHECK(f.tensors.at("t").data == p + 8 + header.size());
  CHECK(f.tensors.at("t").keepalive == owner);
  try {
    parse_safetensors(owner, p, 5, "<memory>");
    FAIL("expected an error");
  } catch (const attend::Error& e) {
    CHECK(std::string(e.what()).find("<memory>") == 0);
  }
}

TEST_CASE("safetensors: writer errors", "[safetensors]") {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  auto expect = [&](const std::vector<std::pair<std::string, HostTensor>>& tensors,
                    size_t alignment, const char* word) {
    try {
      write_safetensors(path, tensors, {}, alignment);
      FAIL("no error; expected '" << word << "'");
    } catch (const attend::Error& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find(path) != std::string::npos);
      CHECK(msg.find(word) != std::string::npos);
    }
    CHECK_FALSE(fs::exists(path + ".tmp"));
  };
  const HostTensor t = tensor_of(DType::F32, {2}, 1);
  expect({{"a", t}, {"a", t}}, 64, "duplicate");
  expect({{"__pad__.0", t}}, 64, "reserved");
  expect({{"__metadata__", t}}, 64, "reserved");
  expect({{"", t}}, 64, "empty tensor name");
  HostTensor wrong = t;
  wrong.shape = {3};
  expect({{"w", wrong}}, 64, "needs 12");
  expect({{"a", t}}, 3, "power of two");
  expect({{"a", t}}, 0, "power of two");
  expect({{"bad\xff", t}}, 64, "UTF-8");

  // A directory that does not exist.
  const std::string nowhere = dir.file("no/such/dir/x.safetensors");
  try {
    write_safetensors(nowhere, {{"a", t}}, {});
    FAIL("expected an error");
  } catch (const attend::Error& e) {
    CHECK(std::string(e.what()).find(nowhere) != std::string::npos);
  }
}

TEST_CASE("safetensors: a failed write (file size limit) leaves the old file intact",
          "[safetensors]") {
  TempDir dir;
  const std::string path = dir.file("full.safetensors");
  write_safetensors(path, {{"old", tensor_of(DType::U8, {10}, 9)}}, {});
  const std::string before = attend_test::read_file(path);

  // Simulate a full disk: a 4 KiB file size limit makes write() fail with EFBIG.
  struct rlimit old_limit {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    write_safetensors(path, {{"big", tensor_of(DType::F32, {64, 1024}, 1)}}, {});
  } catch (const attend::Error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::signal(SIGXFSZ, old_handler);

  INFO(message);
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("write failed") != std::string::npos);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK(attend_test::read_file(path) == before);
}

TEST_CASE("safetensors: malformed files give attend::Error naming the problem",
          "[safetensors][malformed]") {
  TempDir dir;
  const std::string f32x2 = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";
  const std::string data8(8, '\0');
  auto one = [&](const std::string& entry) { return raw_file("{\"t\":{" + entry + "}}", data8); };

  SECTION("truncated header length") {
    expect_read_error(dir, "", {"truncated"});
    expect_read_error(dir, std::string("\x10\x00\x00", 3), {"truncated"});
  }
  SECTION("header length larger than the file") {
    expect_read_error(dir, le64(1000) + "{}", {"header length 1000", "larger than the file"});
  }
  SECTION("absurd header length") {
    expect_read_error(dir, le64(uint64_t(1) << 63) + "{}", {"exceeds the limit"});
  }
  SECTION("header not a JSON object") {
    expect_read_error(dir, raw_file("[1, 2]", ""), {"does not start with '{'"});
    expect_read_error(dir, raw_file("  {}", ""), {"does not start with '{'"});
    expect_read_error(dir, le64(0), {"does not start with '{'"});
  }
  SECTION("invalid JSON") {
    expect_read_error(dir, raw_file("{\"t\": ", ""), {"invalid JSON"});
    expect_read_error(dir, raw_file("{\"t\": {}} trailing", ""), {"invalid JSON"});
    expect_read_error(dir, raw_file("{\"bad\xc3\x28\": {}}", ""), {"invalid JSON"});
    expect_read_error(dir, raw_file("{\"a\": 1, \"a\": 2}", ""), {"duplicate key 'a'"});
    expect_read_error(dir, raw_file("{\"t\":{" + f32x2 + ",\"dtype\":\"F16\"}}", data8),
                      {"duplicate key 'dtype'"});
    expect_read_error(dir, raw_file("{\"a\":" + std::string(10000, '[') + "}", ""),
                      {"nested deeper"});
  }
  SECTION("entry types") {
    expect_read_error(dir, raw_file("{\"t\": 5}", ""), {"tensor 't'", "not a JSON object"});
    expect_read_error(dir, one(R"("shape":[2],"data_offsets":[0,8])"),
                      {"tensor 't'", "missing field 'dtype'"});
    expect_read_error(dir, one(R"("dtype":4,"shape":[2],"data_offsets":[0,8])"),
                      {"tensor 't'", "'dtype' is not a string"});
    expect_read_error(dir, one(R"("dtype":"F32","data_offsets":[0,8])"),
                      {"missing field 'shape'"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":2,"data_offsets":[0,8])"),
                      {"'shape' is not an array"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":[2])"),
                      {"missing field 'data_offsets'"});
  }
  SECTION("unknown dtype") {
    expect_read_error(dir, one(R"("dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8])"),
                      {"tensor 't'", "unknown", "F8_E4M3"});
    expect_read_error(dir, one(R"("dtype":"f32","shape":[2],"data_offsets":[0,8])"),
                      {"unknown", "'f32'"});
  }
  SECTION("bad shapes") {
    expect_read_error(dir, one(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"),
                      {"tensor 't'", "negative"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"),
                      {"not an integer"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":["2"],"data_offsets":[0,8])"),
                      {"not an integer"});
    expect_read_error(
        dir,
        one(R"("dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8])"),
        {"tensor 't'", "overflows"});
    expect_read_error(dir,
                      one(R"("dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,8])"),
                      {"too large"});
    expect_read_error(
        dir, one(R"("dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8])"),
        {"overflows"});
  }
  SECTION("bad offsets") {
    expect_read_error(dir, one(R"("dtype":"F32","shape":[2],"data_offsets":[0])"),
                      {"'data_offsets'"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":[2],"data_offsets":[-8,0])"),
                      {"'data_offsets'"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":[2],"data_offsets":"0,8")"),
                      {"'data_offsets'"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":[250],"data_offsets":[0,1000])"),
                      {"tensor 't'", "outside the data area"});
    expect_read_error(
        dir,
        one(R"("dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615])"),
        {"outside the data area"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":[1],"data_offsets":[8,4])"),
                      {"begin is after end"});
    expect_read_error(dir, one(R"("dtype":"F32","shape":[2],"data_offsets":[0,4])"),
                      {"tensor 't'", "size mismatch", "needs 8 bytes"});
  }
  SECTION("bad metadata") {
    expect_read_error(dir, raw_file(R"({"__metadata__":{"format":1}})", ""),
                      {"__metadata__", "'format'", "not a string"});
    expect_read_error(dir, raw_file(R"({"__metadata__":"x"})", ""),
                      {"__metadata__", "not a JSON object"});
  }
}

TEST_CASE("safetensors: truncations and header mutations never crash", "[safetensors][fuzz]") {
  TempDir dir;
  const std::string path = dir.file("src.safetensors");
  write_safetensors(path,
                    {{"w", tensor_of(DType::F32, {4, 3}, 1)},
                     {"b", tensor_of(DType::BF16, {3}, 2)},
                     {"q", tensor_of(DType::I8, {5}, 3)}},
                    {{"format", "pt"}});
  const std::string good = attend_test::read_file(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(good[i]);

  size_t errors = 0, parsed = 0;
  auto attempt = [&](const std::string& image) {
    auto owner = std::make_shared<std::string>(image);
    try {
      const SafetensorsFile f = parse_safetensors(
          owner, reinterpret_cast<const uint8_t*>(owner->data()), owner->size(), "fuzz");
      for (const auto& [name, t] : f.tensors) {
        // Everything accepted must lie inside the buffer.
        const auto* lo = reinterpret_cast<const uint8_t*>(owner->data());
        REQUIRE(t.data >= lo);
        REQUIRE(t.data + t.nbytes <= lo + owner->size());
      }
      ++parsed;
    } catch (const attend::Error&) {
      ++errors;
    }
  };
  for (size_t len = 0; len < good.size(); ++len) attempt(good.substr(0, len));
  std::mt19937 rng(12345);
  const char interesting[] = {'0', '9', '-', '"', '{', '}', '[', ']', ',', ':', ' ', 'e', '.'};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string image = good;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      const size_t pos = 8 + rng() % n;
      image[pos] = (rng() % 2) ? interesting[rng() % sizeof interesting]
                               : static_cast<char>(rng() & 0xff);
    }
    attempt(image);
  }
  CHECK(errors > 0);
  CHECK(parsed > 0);  // some mutations only touch padding spaces or data
}

TEST_CASE("safetensors: reads every fixture checkpoint", "[safetensors][fixtures]") {
  const std::string root = fixtures_root();
  const fs::path models = fs::path(root) / "models";
  if (!fs::is_directory(models)) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") FAIL("fixtures not found at " << root);
    WARN("fixtures not found at " << root << " (set ATTEND_FIXTURES); skipping");
    return;
  }
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(models)) {
    for (const char* name : {"model.safetensors", "tensors.safetensors"}) {
      const fs::path p = entry.path() / name;
      if (!fs::exists(p)) continue;
      INFO(p.string());
      ++files;
      const SafetensorsFile f = read_safetensors(p.string());
      CHECK(f.tensors.size() > 0);
      for (const auto& [tname, t] : f.tensors) {
        INFO(tname);
        CHECK((t.dtype == DType::F32 || t.dtype == DType::I64));
        CHECK(t.nbytes == static_cast<size_t>(t.numel()) * dtype_size(t.dtype));
      }
      if (std::string(name) == "model.safetensors") CHECK(f.metadata.at("format") == "pt");
      // The reference writer's output also passes our independent validity check.
      check_valid_safetensors(attend_test::read_file(p.string()), 1);
    }
  }
  CHECK(files >= 2);

  const fs::path marian = models / "marian" / "model.safetensors";
  if (fs::exists(marian)) {
    const SafetensorsFile f = read_safetensors(marian.string());
    REQUIRE(f.tensors.count("model.shared.weight"));
    const HostTensor& t = f.tensors.at("model.shared.weight");
    CHECK(t.dtype == DType::F32);
    CHECK(t.shape == std::vector<int64_t>{54688, 32});
    const std::vector<float> v = t.to_f32();
    for (size_t i = 0; i < v.size(); i += 997) REQUIRE(std::isfinite(v[i]));
  }
}

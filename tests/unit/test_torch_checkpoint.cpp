// tests/unit/test_torch_checkpoint.cpp — unit tests of the pytorch_model.bin reader: small zip +
// pickle checkpoints built in the test (dtypes, shared storages, non-contiguous views,
// OrderedDict roots, malformed inputs) and, when ../shared is present, every fixture checkpoint
// compared key by key against its model.safetensors.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "attend/error.hpp"
#include "engine/kernels/half.hpp"
#include "engine/host_tensor.hpp"
#include "engine/mapped_file.hpp"
#include "models/torch_checkpoint.hpp"
#include "models/zip_reader.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/torch_checkpoint_builder.hpp"

using attend::DType;
using attend::HostTensor;
using attend::TensorMap;
using namespace attend_test;

namespace {

struct Parsed {
  std::shared_ptr<std::string> buf;
  TensorMap map;
  bool points_into_file(const HostTensor& t) const {
    const auto* b = reinterpret_cast<const uint8_t*>(buf->data());
    return t.data >= b && t.data + t.nbytes <= b + buf->size();
  }
};

Parsed parse(const std::string& bytes, const std::string& label = "test.bin") {
  Parsed p;
  p.buf = std::make_shared<std::string>(bytes);
  p.map = attend::parse_torch_checkpoint(p.buf, reinterpret_cast<const uint8_t*>(p.buf->data()),
                                         p.buf->size(), label);
  return p;
}

// Parses and returns the attend::Error message; fails the test when parsing succeeds.
std::string parse_error(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const attend::Error& e) {
    return e.what();
  }
  FAIL("expected attend::Error");
  return "";
}

// Parse that may succeed or throw attend::Error, but nothing else (and no crash).
void parse_no_crash(const std::string& bytes) {
  try {
    Parsed p = parse(bytes);
    for (const auto& kv : p.map) {  // touch every byte (ASan catches bad views)
      unsigned sum = 0;
      for (size_t i = 0; i < kv.second.nbytes; ++i) sum += kv.second.data[i];
      (void)sum;
    }
  } catch (const attend::Error&) {
  }
}

std::vector<float> f32(const HostTensor& t) { return t.to_f32(); }

std::string simple_checkpoint() {
  const std::vector<TensorDesc> ts = {{"w", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}}};
  return make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}});
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("torch checkpoint: fp32 tensor, zero copy", "[torch_checkpoint]") {
  for (bool torch_style : {true, false}) {
    for (bool zip64 : {true, false}) {
      for (const char* prefix : {"archive/", "pytorch_model/", ""}) {
        const std::vector<TensorDesc> ts = {{"w", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}}};
        Parsed p = parse(make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}}, prefix,
                                         ZipOptions{torch_style, zip64, 0, zip64}));
        REQUIRE(p.map.size() == 1);
        const HostTensor& w = p.map.at("w");
        CHECK(w.dtype == DType::F32);
        CHECK(w.shape == std::vector<int64_t>{2, 3});
        CHECK(w.nbytes == 24);
        CHECK(f32(w) == iota_f32(6));
        CHECK(p.points_into_file(w));
        CHECK(w.keepalive == p.buf);
      }
    }
  }
}

TEST_CASE("torch checkpoint: fp16 and bf16 tensors", "[torch_checkpoint]") {
  const std::vector<uint16_t> h = {0x3c00, 0xc000, 0x3800, 0x0000};  // 1, -2, 0.5, 0
  const std::vector<uint16_t> bf = {0x3f80, 0xc000, 0x3f00, 0x4040};  // 1, -2, 0.5, 3
  const std::vector<TensorDesc> ts = {{"h", "HalfStorage", "0", 4, 0, {4}, {1}},
                                      {"b", "BFloat16Storage", "1", 4, 0, {2, 2}, {2, 1}}};
  Parsed p = parse(make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(h)}, {"1", bytes_of(bf)}}));
  REQUIRE(p.map.size() == 2);
  CHECK(p.map.at("h").dtype == DType::F16);
  CHECK(p.map.at("h").nbytes == 8);
  CHECK(f32(p.map.at("h")) == std::vector<float>{1.f, -2.f, 0.5f, 0.f});
  CHECK(p.map.at("b").dtype == DType::BF16);
  CHECK(p.map.at("b").shape == std::vector<int64_t>{2, 2});
  CHECK(f32(p.map.at("b")) == std::vector<float>{1.f, -2.f, 0.5f, 3.f});
}

TEST_CASE("torch checkpoint: other dtypes and scalars", "[torch_checkpoint]") {
  const std::vector<int64_t> i64 = {-1, 1LL << 40};
  const std::vector<int32_t> i32 = {-7, 9};
  const std::vector<int16_t> i16 = {-3, 4};
  const std::vector<int8_t> i8 = {-5, 6};
  const std::vector<uint8_t> u8 = {200, 1};
  const std::vector<uint8_t> bl = {1, 0};
  const std::vector<double> f64 = {0.25, -8.0};
  const std::vector<TensorDesc> ts = {
      {"i64", "LongStorage", "a", 2, 0, {2}, {1}},   {"i32", "IntStorage", "b", 2, 0, {2}, {1}},
      {"i16", "ShortStorage", "c", 2, 0, {2}, {1}},  {"i8", "CharStorage", "d", 2, 0, {2}, {1}},
      {"u8", "ByteStorage", "e", 2, 0, {2}, {1}},    {"bool", "BoolStorage", "f", 2, 0, {2}, {1}},
      {"f64", "DoubleStorage", "g", 2, 0, {2}, {1}}, {"scalar", "DoubleStorage", "g", 2, 1, {}, {}},
      {"empty", "FloatStorage", "h", 0, 0, {0, 4}, {4, 1}}};
  Parsed p = parse(make_checkpoint(state_dict_pickle(ts), {{"a", bytes_of(i64)}, {"b", bytes_of(i32)},
                                                          {"c", bytes_of(i16)}, {"d", bytes_of(i8)},
                                                          {"e", bytes_of(u8)}, {"f", bytes_of(bl)},
                                                          {"g", bytes_of(f64)}, {"h", ""}}));
  auto as = [&](const char* k, DType dt, const std::string& expected) {
    const HostTensor& t = p.map.at(k);
    CHECK(t.dtype == dt);
    CHECK(std::string(reinterpret_cast<const char*>(t.data), t.nbytes) == expected);
  };
  as("i64", DType::I64, bytes_of(i64));
  as("i32", DType::I32, bytes_of(i32));
  as("i16", DType::I16, bytes_of(i16));
  as("i8", DType::I8, bytes_of(i8));
  as("u8", DType::U8, bytes_of(u8));
  as("bool", DType::BOOL, bytes_of(bl));
  as("f64", DType::F64, bytes_of(f64));
  CHECK(p.map.at("scalar").shape.empty());
  CHECK(f32(p.map.at("scalar")) == std::vector<float>{-8.f});
  CHECK(p.map.at("empty").shape == std::vector<int64_t>{0, 4});
  CHECK(p.map.at("empty").nbytes == 0);
}

TEST_CASE("torch checkpoint: shared storage with offsets (tied weights)", "[torch_checkpoint]") {
  const std::vector<TensorDesc> ts = {{"a", "FloatStorage", "0", 10, 0, {4}, {1}},
                                      {"b", "FloatStorage", "0", 10, 6, {2, 2}, {2, 1}},
                                      {"c", "FloatStorage", "0", 10, 0, {4}, {1}}};
  Parsed p = parse(make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(10))}}));
  REQUIRE(p.map.size() == 3);
  CHECK(f32(p.map.at("a")) == std::vector<float>{0, 1, 2, 3});
  CHECK(f32(p.map.at("b")) == std::vector<float>{6, 7, 8, 9});
  CHECK(p.map.at("b").shape == std::vector<int64_t>{2, 2});
  CHECK(p.map.at("a").data == p.map.at("c").data);  // same storage, zero copy
  CHECK(p.map.at("b").data == p.map.at("a").data + 24);
  CHECK(p.points_into_file(p.map.at("b")));
}

TEST_CASE("torch checkpoint: memo-shared tensor object under two keys", "[torch_checkpoint]") {
  // {'x': T, 'y': T} where the second value is a BINGET of the first tensor.
  Pickle p;
  p.proto().op('}').mark().str("x");
  p.global("torch._utils", "_rebuild_tensor_v2").mark();
  p.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).op('t').op('Q');
  p.integer(0).ints({4}).ints({1}).op(0x89).ordered_dict().op('t').op('R').put(7);
  p.str("y").get(7).op('u').op('.');
  Parsed r = parse(make_checkpoint(p.b, {{"0", bytes_of(iota_f32(4))}}));
  CHECK(r.map.at("x").data == r.map.at("y").data);
  CHECK(f32(r.map.at("y")) == std::vector<float>{0, 1, 2, 3});
}

TEST_CASE("torch checkpoint: transposed view is materialised", "[torch_checkpoint]") {
  // storage = [[0,1,2],[3,4,5]] row-major; the view is its transpose: shape [3,2], stride [1,3].
  const std::vector<TensorDesc> ts = {{"t", "FloatStorage", "0", 6, 0, {3, 2}, {1, 3}},
                                      {"col", "FloatStorage", "0", 6, 1, {2}, {3}},
                                      {"bcast", "FloatStorage", "0", 6, 2, {2, 3}, {0, 1}}};
  Parsed p = parse(make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}}));
  const HostTensor& t = p.map.at("t");
  CHECK(t.shape == std::vector<int64_t>{3, 2});
  CHECK(t.nbytes == 24);
  CHECK(f32(t) == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK_FALSE(p.points_into_file(t));
  CHECK(f32(p.map.at("col")) == std::vector<float>{1, 4});
  CHECK(f32(p.map.at("bcast")) == std::vector<float>{2, 3, 4, 2, 3, 4});
}

TEST_CASE("torch checkpoint: OrderedDict root, parameters, metadata argument", "[torch_checkpoint]") {
  const std::vector<TensorDesc> ts = {{"layer.weight", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}},
                                      {"layer.bias", "FloatStorage", "1", 2, 0, {2}, {1}}};
  for (int variant = 0; variant < 4; ++variant) {
    PickleOptions o;
    o.ordered_dict_root = true;
    o.parameter_wrap = variant & 1;
    o.metadata_arg = variant & 2;
    Parsed p = parse(make_checkpoint(state_dict_pickle(ts, o),
                                     {{"0", bytes_of(iota_f32(6))}, {"1", bytes_of(std::vector<float>{7, 8})}}));
    REQUIRE(p.map.size() == 2);
    CHECK(f32(p.map.at("layer.weight")) == iota_f32(6));
    CHECK(f32(p.map.at("layer.bias")) == std::vector<float>{7, 8});
  }
}

TEST_CASE("torch checkpoint: protocol 4 opcodes", "[torch_checkpoint]") {
  // FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL.
  Pickle p;
  auto sstr = [&](const std::string& s) { p.op(0x8c).le(s.size(), 1).raw(s).op(0x94); };
  p.op(0x80).op(4).op(0x95).le(0, 8).op('}').op(0x94).mark();
  sstr("k");
  sstr("torch._utils"); sstr("_rebuild_tensor_v2"); p.op(0x93).op(0x94);
  p.mark().mark();
  sstr("storage"); sstr("torch"); sstr("FloatStorage"); p.op(0x93).op(0x94);
  sstr("0"); sstr("cpu"); p.integer(3).op('t').op(0x94).op('Q');
  p.integer(0).ints({3}).ints({1}).op(0x89).ordered_dict().op('t').op('R').op('u').op('.');
  Parsed r = parse(make_checkpoint(p.b, {{"0", bytes_of(iota_f32(3))}}));
  CHECK(f32(r.map.at("k")) == std::vector<float>{0, 1, 2});
}

TEST_CASE("torch checkpoint: missing file", "[torch_checkpoint]") {
  CHECK_THROWS_AS(attend::read_torch_checkpoint("/nonexistent/pytorch_model.bin"), attend::Error);
}

TEST_CASE("torch checkpoint: truncated files", "[torch_checkpoint]") {
  const std::string good = simple_checkpoint();
  REQUIRE_NOTHROW(parse(good));
  for (size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(parse(good.substr(0, n)), attend::Error);
  }
}

TEST_CASE("torch checkpoint: bad central directory offsets", "[torch_checkpoint]") {
  for (bool zip64 : {false, true}) {
    const std::vector<TensorDesc> ts = {{"w", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}}};
    std::string good = make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}}, "archive/",
                                       ZipOptions{true, zip64, 0});
    const size_t eocd = good.size() - 22;
    const size_t z64 = good.size() - 22 - 20 - 56;
    for (uint64_t bad : {uint64_t{1}, uint64_t{0xfffffff0}, uint64_t{good.size()}, uint64_t{eocd - 10}}) {
      std::string b = good;
      if (zip64) {
        for (int i = 0; i < 8; ++i) b[z64 + 48 + i] = char((bad >> (8 * i)) & 0xff);
      } else {
        for (int i = 0; i < 4; ++i) b[eocd + 16 + i] = char((bad >> (8 * i)) & 0xff);
      }
      const std::string msg = parse_error(b);
      CHECK(msg.find("test.bin") != std::string::npos);
    }
    // Local header offset of the first entry pointing past the file.
    std::string b = good;
    const size_t cd = good.find(std::string("PK\x01\x02", 4));
    REQUIRE(cd != std::string::npos);
    for (int i = 0; i < 4; ++i) b[cd + 42 + i] = char(0xee);
    CHECK(parse_error(b).find("local header") != std::string::npos);
  }
}

TEST_CASE("torch checkpoint: storage too small for the view", "[torch_checkpoint]") {
  {  // view extent beyond the declared numel
    const std::vector<TensorDesc> ts = {{"w", "FloatStorage", "0", 6, 0, {3, 3}, {3, 1}}};
    const std::string msg = parse_error(make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}}));
    CHECK(msg.find("'w'") != std::string::npos);
  }
  {  // offset past the end
    const std::vector<TensorDesc> ts = {{"w", "FloatStorage", "0", 6, 5, {2}, {1}}};
    CHECK(parse_error(make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}})).find("'w'") !=
          std::string::npos);
  }
  {  // declared numel larger than the record
    const std::vector<TensorDesc> ts = {{"w", "FloatStorage", "0", 8, 0, {2}, {1}}};
    CHECK(parse_error(make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}})).find("data/0") !=
          std::string::npos);
  }
  {  // missing record
    const std::vector<TensorDesc> ts = {{"w", "FloatStorage", "7", 6, 0, {2}, {1}}};
    CHECK(parse_error(make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}})).find("data/7") !=
          std::string::npos);
  }
  {  // negative stride / size, overflowing extents, huge broadcast
    for (const TensorDesc& t : std::vector<TensorDesc>{
             {"w", "FloatStorage", "0", 6, 0, {2}, {-1}},
             {"w", "FloatStorage", "0", 6, 0, {-2}, {1}},
             {"w", "FloatStorage", "0", 6, -1, {2}, {1}},
             {"w", "FloatStorage", "0", 6, 0, {2, INT64_MAX / 2}, {1, 4}},
             {"w", "FloatStorage", "0", 6, 0, {1LL << 20, 1LL << 20}, {0, 0}},
             {"w", "FloatStorage", "0", 6, 0, {1LL << 62, 1LL << 62}, {0, 0}}}) {
      parse_error(make_checkpoint(state_dict_pickle({t}), {{"0", bytes_of(iota_f32(6))}}));
    }
  }
}

TEST_CASE("torch checkpoint: unknown globals are rejected", "[torch_checkpoint]") {
  Pickle p;
  p.proto().global("os", "system").str("echo pwned").op(0x85).op('R').op('.');
  const std::string msg = parse_error(make_checkpoint(p.b, {}));
  CHECK(msg.find("os.system") != std::string::npos);
  CHECK(msg.find("offset") != std::string::npos);

  Pickle q;  // a known module with an unknown name, via STACK_GLOBAL
  q.proto().str("torch").str("load").op(0x93).op('.');
  CHECK(parse_error(make_checkpoint(q.b, {})).find("torch.load") != std::string::npos);
}

TEST_CASE("torch checkpoint: garbage and malformed pickles", "[torch_checkpoint]") {
  const std::vector<std::string> bad = {
      "",                                    // no STOP
      std::string("\x80\x02", 2),            // no STOP
      ".",                                   // STOP on empty stack
      std::string("\x80\x02}\xff.", 5),      // invalid opcode
      "I1\n.",                               // protocol-0 INT: unsupported
      std::string("\x80\x02K\x01.", 5),      // root is an int
      std::string("\x80\x02]\x94h\x00\x85.", 8),  // root is a tuple
      std::string("\x80\x02}X\xff\xff\xff\x7f", 8),  // string longer than data
      std::string("\x80\x02}h\x05.", 5),     // undefined memo key
      std::string("\x80\x02}(K\x01u.", 7),   // SETITEMS with odd item count
      std::string("\x80\x02}u.", 4),         // SETITEMS without MARK
      std::string("\x80\x02" "0.", 4),        // POP on an empty stack
      std::string("\x80\x02}K\x01K\x02s.", 9),  // non-string key
      std::string("\x80\x02}X\x01\x00\x00\x00kK\x01s.", 13),  // value not a tensor
      std::string("\x80\x02K\x01K\x02R.", 8),  // calling an int
      std::string("\x80\x02\x8a\x09", 4),    // LONG1 too wide
      std::string("\x80\x09}.", 4),          // unknown protocol
      std::string("\x80\x02") + "ctorch\nFloatStorage\n)R.",  // calling a storage type
      std::string("\x80\x02") + "ctorch._utils\n_rebuild_tensor_v2\n)R.",  // wrong arity
      std::string("\x80\x02") + "ccollections\nOrderedDict\nK\x01\x85R.",  // OrderedDict(1)
      std::string("\x80\x02") + "ccollections\nOrderedDict\n" + std::string(300, 'x') + "\n.",
      std::string("\x80\x02X\x07\x00\x00\x00storageK\x01\x85Q.", 19),  // bad persistent id
  };
  for (const std::string& pkl : bad) {
    CAPTURE(pkl);
    parse_error(make_checkpoint(pkl, {{"0", bytes_of(iota_f32(6))}}));
  }
  // Deeply nested objects must not overflow the C++ stack (nothing recurses).
  Pickle deep;
  deep.proto().op(']');
  deep.b.append(200000, '\x85');
  deep.op('.');
  parse_error(make_checkpoint(deep.b, {}));
  // A dict containing itself (a reference cycle) must not leak or loop.
  Pickle cyc;
  cyc.proto().op('}').put(0).str("self").get(0).op('s').op('.');
  parse_error(make_checkpoint(cyc.b, {}));
}

TEST_CASE("torch checkpoint: not a checkpoint / unsupported containers", "[torch_checkpoint]") {
  CHECK(parse_error(std::string("\x80\x02}.", 4)).find("legacy") != std::string::npos);
  CHECK_THROWS_AS(parse(std::string(100, '\0')), attend::Error);
  CHECK_THROWS_AS(parse("PK"), attend::Error);
  // A zip without data.pkl.
  CHECK(parse_error(make_zip({{"a/version", "3\n"}})).find("data.pkl") != std::string::npos);
  // Compressed entries are rejected with a clear message.
  const std::vector<TensorDesc> ts = {{"w", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}}};
  const std::string z = make_checkpoint(state_dict_pickle(ts), {{"0", bytes_of(iota_f32(6))}}, "archive/",
                                        ZipOptions{true, true, 8});
  CHECK(parse_error(z).find("compressed") != std::string::npos);
  // A corrupted data.pkl is caught by its CRC-32.
  std::string c = simple_checkpoint();
  c[64 + 5] ^= 0x01;  // torch-style padding puts data.pkl at offset 64
  CHECK(parse_error(c).find("CRC") != std::string::npos);
  // Big-endian byte order is refused.
  std::vector<std::pair<std::string, std::string>> files = {
      {"archive/data.pkl", state_dict_pickle(ts)}, {"archive/data/0", bytes_of(iota_f32(6))},
      {"archive/byteorder", "big"}};
  CHECK(parse_error(make_zip(files)).find("byte order") != std::string::npos);
  files[2].second = "little";
  CHECK(parse(make_zip(files)).map.size() == 1);
}

TEST_CASE("torch checkpoint: mutated inputs never crash", "[torch_checkpoint]") {
  const std::vector<TensorDesc> ts = {{"a", "FloatStorage", "0", 10, 0, {2, 2}, {1, 2}},
                                      {"b", "HalfStorage", "1", 4, 1, {3}, {1}}};
  PickleOptions o;
  o.ordered_dict_root = true;
  const std::string pkl = state_dict_pickle(ts, o);
  const std::vector<std::pair<std::string, std::string>> st = {{"0", bytes_of(iota_f32(10))},
                                                               {"1", std::string(8, '\x3c')}};
  REQUIRE(parse(make_checkpoint(pkl, st)).map.size() == 2);
  // Every pickle byte replaced by a few values (zip rebuilt, so the CRC is right).
  for (size_t i = 0; i < pkl.size(); ++i) {
    for (uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff, 0x28, 0x2e, 0x74, 0x85, 0x51, 0x52}) {
      std::string m = pkl;
      m[i] = static_cast<char>(v);
      parse_no_crash(make_checkpoint(m, st));
    }
    parse_no_crash(make_checkpoint(pkl.substr(0, i) + pkl.substr(i + 1), st));  // deletion
  }
  // Every zip byte flipped.
  const std::string zip = make_checkpoint(pkl, st);
  for (size_t i = 0; i < zip.size(); ++i) {
    for (uint8_t x : {0x01, 0x80, 0xff}) {
      std::string m = zip;
      m[i] = static_cast<char>(m[i] ^ x);
      parse_no_crash(m);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fixture checkpoints: every model.safetensors tensor must exist in pytorch_model.bin with the
// same shape and bytes.

namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}


struct SafeTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  const uint8_t* data;
  size_t nbytes;
};

std::map<std::string, SafeTensor> read_safetensors(const attend::MappedFile& f) {
  REQUIRE(f.size() >= 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(f.data()[i]) << (8 * i);
  REQUIRE(n <= f.size() - 8);
  const nlohmann::json header =
      nlohmann::json::parse(std::string(reinterpret_cast<const char*>(f.data() + 8), static_cast<size_t>(n)));
  const uint8_t* base = f.data() + 8 + n;
  const size_t data_size = f.size() - 8 - static_cast<size_t>(n);
  std::map<std::string, SafeTensor> out;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") continue;
    SafeTensor t;
    t.dtype = v.at("dtype").get<std::string>();
    t.shape = v.at("shape").get<std::vector<int64_t>>();
    const auto off = v.at("data_offsets").get<std::vector<size_t>>();
    REQUIRE(off.size() == 2);
    REQUIRE(off[0] <= off[1]);
    REQUIRE(off[1] <= data_size);
    t.data = base + off[0];
    t.nbytes = off[1] - off[0];
    out.emplace(name, t);
  }
  return out;
}

void compare_with_safetensors(const std::string& dir) {
  INFO("model folder: " << dir);
  const TensorMap bin = attend::read_torch_checkpoint(dir + "/pytorch_model.bin");
  const auto st_file = attend::MappedFile::open(dir + "/model.safetensors");
  const auto st = read_safetensors(*st_file);
  REQUIRE_FALSE(st.empty());
  CHECK(bin.size() >= st.size());
  for (const auto& [name, t] : st) {
    INFO("tensor " << name);
    auto it = bin.find(name);
    REQUIRE(it != bin.end());
    const HostTensor& b = it->second;
    CHECK(std::string(attend::dtype_name(b.dtype)) == t.dtype);
    CHECK(b.shape == t.shape);
    REQUIRE(b.nbytes == t.nbytes);
    CHECK(std::memcmp(b.data, t.data, t.nbytes) == 0);
  }
  for (const auto& [name, b] : bin) {  // every .bin tensor is well-formed
    INFO("tensor " << name);
    CHECK(b.nbytes == static_cast<size_t>(b.numel()) * attend::dtype_size(b.dtype));
  }
}

}  // namespace

TEST_CASE("torch checkpoint: fixture models match their safetensors", "[torch_checkpoint][fixtures]") {
  const std::string root = attend_test::fixtures_root();
  if (!attend_test::fixtures_available(root + "/models")) return;
  std::vector<std::string> dirs;
  if (DIR* d = ::opendir((root + "/models").c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != ".." && is_dir(root + "/models/" + name)) dirs.push_back(root + "/models/" + name);
    }
    ::closedir(d);
  }
  std::sort(dirs.begin(), dirs.end());
  REQUIRE_FALSE(dirs.empty());
  for (const std::string& dir : dirs) {
    if (!attend::file_exists(dir + "/pytorch_model.bin")) continue;
    compare_with_safetensors(dir);
  }
  // Tied weights: in the Marian fixture, lm_head shares model.shared's storage (zero copy).
  if (attend::file_exists(root + "/models/marian/pytorch_model.bin")) {
    const TensorMap m = attend::read_torch_checkpoint(root + "/models/marian/pytorch_model.bin");
    REQUIRE(m.count("lm_head.weight"));
    REQUIRE(m.count("model.shared.weight"));
    CHECK(m.at("lm_head.weight").data == m.at("model.shared.weight").data);
  }
  const std::string real = root + "/../models/marian-en-de-multi30k";
  if (attend::file_exists(real + "/pytorch_model.bin")) compare_with_safetensors(real);
}

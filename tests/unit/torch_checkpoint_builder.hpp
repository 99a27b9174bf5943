// tests/unit/torch_checkpoint_builder.hpp — builds small pytorch_model.bin images in memory (a
// protocol-2 pickle writer and a ZIP writer, as torch.save lays them out) for the reader's unit
// tests and the fuzzing seed corpus (fuzz/make_seeds.cpp).
#pragma once
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "models/zip_reader.hpp"

namespace attend_test {

// ---------------------------------------------------------------------------------------------
// A tiny pickle writer (protocol 2 opcodes, as torch.save emits them).

struct Pickle {
  std::string b;
  Pickle& op(uint8_t c) { b.push_back(static_cast<char>(c)); return *this; }
  Pickle& raw(const std::string& s) { b += s; return *this; }
  Pickle& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  Pickle& proto() { return op(0x80).op(2); }
  Pickle& mark() { return op('('); }
  Pickle& str(const std::string& s) { return op('X').le(s.size(), 4).raw(s); }
  Pickle& integer(int64_t v) {
    if (v >= 0 && v < 256) return op('K').le(static_cast<uint64_t>(v), 1);
    if (v >= 0 && v < 65536) return op('M').le(static_cast<uint64_t>(v), 2);
    if (v >= INT32_MIN && v <= INT32_MAX) return op('J').le(static_cast<uint32_t>(v), 4);
    return op(0x8a).op(8).le(static_cast<uint64_t>(v), 8);  // LONG1
  }
  Pickle& ints(const std::vector<int64_t>& v) {
    if (v.empty()) return op(')');
    if (v.size() <= 3) {
      for (int64_t x : v) integer(x);
      return op(static_cast<uint8_t>(0x84 + v.size()));
    }
    mark();
    for (int64_t x : v) integer(x);
    return op('t');
  }
  Pickle& global(const std::string& mod, const std::string& name) {
    return op('c').raw(mod + "\n" + name + "\n");
  }
  Pickle& put(uint32_t i) { return i < 256 ? op('q').le(i, 1) : op('r').le(i, 4); }
  Pickle& get(uint32_t i) { return i < 256 ? op('h').le(i, 1) : op('j').le(i, 4); }
  Pickle& ordered_dict() { return global("collections", "OrderedDict").op(')').op('R'); }
};

struct TensorDesc {
  std::string key;
  std::string storage_type;  // "FloatStorage", ...
  std::string storage_key;   // record name under data/
  int64_t storage_numel;
  int64_t offset;
  std::vector<int64_t> size, stride;
};

struct PickleOptions {
  bool ordered_dict_root = false;  // OrderedDict() + BUILD({'_metadata': ...}) instead of {}
  bool parameter_wrap = false;     // wrap tensors in torch._utils._rebuild_parameter
  bool metadata_arg = false;       // 7th _rebuild_tensor_v2 argument
};

// A state dict pickle exactly in the shape torch.save writes it.
inline std::string state_dict_pickle(const std::vector<TensorDesc>& ts, PickleOptions o = {}) {
  Pickle p;
  p.proto();
  if (o.ordered_dict_root) p.ordered_dict(); else p.op('}');
  p.mark();
  for (const TensorDesc& t : ts) {
    p.str(t.key);
    if (o.parameter_wrap) p.global("torch._utils", "_rebuild_parameter").mark();
    p.global("torch._utils", "_rebuild_tensor_v2").mark();
    p.mark().str("storage").global("torch", t.storage_type).str(t.storage_key).str("cpu")
        .integer(t.storage_numel).op('t').op('Q');
    p.integer(t.offset).ints(t.size).ints(t.stride).op(0x89).ordered_dict();
    if (o.metadata_arg) p.op('}');
    p.op('t').op('R');
    if (o.parameter_wrap) p.op(0x89).ordered_dict().op('t').op('R');
  }
  p.op('u');
  if (o.ordered_dict_root) {  // state = {'_metadata': OrderedDict({'': {'version': 1}})}
    p.op('}').str("_metadata").ordered_dict().str("").op('}').str("version").integer(1).op('s')
        .op('s').op('s').op('b');
  }
  p.op('.');
  return p.b;
}

// ---------------------------------------------------------------------------------------------
// A tiny zip writer: stored entries with correct CRC-32. torch_style mimics PyTorch's writer
// (flag 0x0808 with zero sizes in the local header + data descriptor, "FB" padding extra field
// aligning data to 64 bytes, ZIP64 end records).

struct ZipOptions {
  bool torch_style = true;
  bool zip64 = true;
  uint16_t method = 0;
  bool zip64_extra = false;  // central directory sizes/offsets saturated, real values in a ZIP64 extra field
};

inline void put16(std::string& s, uint32_t v) { s.push_back(char(v & 0xff)); s.push_back(char((v >> 8) & 0xff)); }
inline void put32(std::string& s, uint32_t v) { put16(s, v & 0xffff); put16(s, v >> 16); }
inline void put64(std::string& s, uint64_t v) { put32(s, uint32_t(v)); put32(s, uint32_t(v >> 32)); }

inline std::string make_zip(const std::vector<std::pair<std::string, std::string>>& files, ZipOptions o = {}) {
  std::string out, cd;
  for (const auto& [name, data] : files) {
    const uint32_t crc = attend::crc32_update(0, reinterpret_cast<const uint8_t*>(data.data()), data.size());
    const uint32_t offset = static_cast<uint32_t>(out.size());
    const uint16_t flags = o.torch_style ? 0x0808 : 0;
    std::string extra;
    if (o.torch_style) {
      const size_t unpadded = out.size() + 30 + name.size() + 4;
      const size_t pad = (64 - unpadded % 64) % 64;
      put16(extra, 0x4246);  // "FB"
      put16(extra, static_cast<uint32_t>(pad));
      extra.append(pad, 'Z');
    }
    put32(out, 0x04034b50); put16(out, 20); put16(out, flags); put16(out, o.method);
    put16(out, 0); put16(out, 0);
    put32(out, o.torch_style ? 0 : crc);
    put32(out, o.torch_style ? 0 : uint32_t(data.size()));
    put32(out, o.torch_style ? 0 : uint32_t(data.size()));
    put16(out, uint32_t(name.size())); put16(out, uint32_t(extra.size()));
    out += name; out += extra; out += data;
    if (o.torch_style) {
      put32(out, 0x08074b50); put32(out, crc); put32(out, uint32_t(data.size())); put32(out, uint32_t(data.size()));
    }
    const uint32_t sat = 0xffffffffu;
    std::string cd_extra;
    if (o.zip64_extra) {
      put16(cd_extra, 0x5455); put16(cd_extra, 1); cd_extra.push_back('\0');  // an unrelated field first
      put16(cd_extra, 0x0001); put16(cd_extra, 24);
      put64(cd_extra, data.size()); put64(cd_extra, data.size()); put64(cd_extra, offset);
    }
    put32(cd, 0x02014b50); put16(cd, 0x031e); put16(cd, 45); put16(cd, flags); put16(cd, o.method);
    put16(cd, 0); put16(cd, 0); put32(cd, crc);
    put32(cd, o.zip64_extra ? sat : uint32_t(data.size())); put32(cd, o.zip64_extra ? sat : uint32_t(data.size()));
    put16(cd, uint32_t(name.size())); put16(cd, uint32_t(cd_extra.size())); put16(cd, 0); put16(cd, 0); put16(cd, 0);
    put32(cd, 0);
    put32(cd, o.zip64_extra ? sat : offset);
    cd += name;
    cd += cd_extra;
  }
  const uint64_t cd_offset = out.size();
  out += cd;
  if (o.zip64) {
    const uint64_t z64 = out.size();
    put32(out, 0x06064b50); put64(out, 44); put16(out, 0x031e); put16(out, 45); put32(out, 0); put32(out, 0);
    put64(out, files.size()); put64(out, files.size()); put64(out, cd.size()); put64(out, cd_offset);
    put32(out, 0x07064b50); put32(out, 0); put64(out, z64); put32(out, 1);
  }
  put32(out, 0x06054b50); put16(out, 0); put16(out, 0); put16(out, uint32_t(files.size()));
  put16(out, uint32_t(files.size())); put32(out, uint32_t(cd.size())); put32(out, uint32_t(cd_offset));
  put16(out, 0);
  return out;
}

template <typename T>
inline std::string bytes_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

inline std::vector<float> iota_f32(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

// A checkpoint = zip(prefix/data.pkl, prefix/data/<k>..., prefix/version).
inline std::string make_checkpoint(const std::string& pkl,
                            const std::vector<std::pair<std::string, std::string>>& storages,
                            const std::string& prefix = "archive/", ZipOptions zo = {}) {
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back(prefix + "data.pkl", pkl);
  for (const auto& [k, d] : storages) files.emplace_back(prefix + "data/" + k, d);
  files.emplace_back(prefix + "version", "3\n");
  return make_zip(files, zo);
}


}  // namespace attend_test

// engine/safetensors.cpp — validating zero-copy safetensors reader and aligned, atomic,
// streaming safetensors writer (see engine/safetensors.hpp and weights_format.md).
#include "engine/safetensors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "engine/mapped_file.hpp"

namespace attend {

namespace {

using json = nlohmann::json;

// Maximum nesting of the safetensors header: {name: {"shape": [..]}} is 3 levels.
constexpr int kHeaderMaxDepth = 8;

// Quotes a (possibly hostile, huge) name for an error message.
std::string sq(const std::string& s) {
  return "'" + (s.size() > 200 ? s.substr(0, 197) + "..." : s) + "'";
}

// SAX handler for parse_json_strict: rejects duplicate keys and excessive nesting.
struct StrictJsonScan : nlohmann::json_sax<json> {
  explicit StrictJsonScan(int max_depth) : max_depth_(max_depth) {}
  std::string error;  // set on failure

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    if (!enter()) return false;
    keys_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!keys_.back().insert(k).second) {
      error = "duplicate key " + sq(k);
      return false;
    }
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }

 private:
  bool enter() {
    if (++depth_ > max_depth_) {
      error = "nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    return true;
  }
  int max_depth_;
  int depth_ = 0;
  std::vector<std::set<std::string>> keys_;  // keys seen in each open object
};

// Human-readable JSON value for error messages, truncated to keep messages short.
std::string brief(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// Reads a non-negative JSON integer (signed or unsigned representation) into *out.
bool as_u64(const json& v, uint64_t* out) {
  if (v.is_number_unsigned()) { *out = v.get<uint64_t>(); return true; }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i < 0) return false;
    *out = static_cast<uint64_t>(i);
    return true;
  }
  return false;
}

HostTensor parse_tensor_entry(const std::string& label, const std::string& name, const json& e,
                              const uint8_t* data_area, uint64_t data_size,
                              const std::shared_ptr<const void>& keepalive) {
  const std::string where = label + ": tensor " + sq(name) + ": ";
  if (!e.is_object()) throw Error(where + "header entry is not a JSON object: " + brief(e));

  auto field = [&](const char* key) -> const json& {
    auto it = e.find(key);
    if (it == e.end()) throw Error(where + "missing field '" + key + "'");
    return *it;
  };

  HostTensor t;
  const json& jd = field("dtype");
  if (!jd.is_string()) throw Error(where + "field 'dtype' is not a string: " + brief(jd));
  const std::string& dname = jd.get_ref<const std::string&>();
  if (!dtype_from_name(dname, &t.dtype))
    throw Error(where + "unknown or unsupported dtype " + sq(dname));

  const json& js = field("shape");
  if (!js.is_array()) throw Error(where + "field 'shape' is not an array: " + brief(js));
  const uint64_t esize = dtype_size(t.dtype);
  uint64_t nbytes = esize;  // running numel * dtype_size, overflow-checked
  bool overflow = false;
  t.shape.reserve(js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    const json& d = js[i];
    if (!d.is_number_integer())
      throw Error(where + "shape dimension " + std::to_string(i) + " is not an integer: " +
                  brief(d));
    if (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() < 0)
      throw Error(where + "shape dimension " + std::to_string(i) + " is negative (" +
                  std::to_string(d.get<int64_t>()) + ")");
    uint64_t dim = 0;
    as_u64(d, &dim);
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error(where + "shape dimension " + std::to_string(i) + " is too large (" +
                  std::to_string(dim) + ")");
    if (__builtin_mul_overflow(nbytes, dim, &nbytes)) overflow = true;
    t.shape.push_back(static_cast<int64_t>(dim));
  }
  if (overflow || nbytes > std::numeric_limits<size_t>::max())
    throw Error(where + "shape " + brief(js) + " is too large: its size in bytes overflows");

  const json& jo = field("data_offsets");
  uint64_t begin = 0, end = 0;
  if (!jo.is_array() || jo.size() != 2 || !as_u64(jo[0], &begin) || !as_u64(jo[1], &end))
    throw Error(where + "field 'data_offsets' is not a pair of non-negative integers: " +
                brief(jo));
  if (begin > end)
    throw Error(where + "data_offsets " + brief(jo) + " are invalid: begin is after end");
  if (end > data_size)
    throw Error(where + "data_offsets " + brief(jo) + " are outside the data area (" +
                std::to_string(data_size) + " bytes); the file is truncated or corrupt");
  if (end - begin != nbytes)
    throw Error(where + "data_offsets " + brief(jo) + " span " + std::to_string(end - begin) +
                " bytes but " + dname + " " + shape_string(t.shape) + " needs " +
                std::to_string(nbytes) + " bytes (size mismatch)");

  t.data = data_area + begin;
  t.nbytes = static_cast<size_t>(nbytes);
  t.keepalive = keepalive;
  return t;
}

// --- writer helpers -----------------------------------------------------------------------

std::string errno_text(int e) { return std::strerror(e); }

// Owns the temporary file while it is written; removes it unless committed.
class TempFile {
 public:
  TempFile(const std::string& final_path)
      : final_(final_path), tmp_(final_path + ".tmp") {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create " + tmp_, errno);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
      const size_t chunk = std::min<size_t>(n, size_t(1) << 30);
      const ssize_t w = ::write(fd_, b, chunk);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail("write failed", errno);
      }
      if (w == 0) fail("write failed", EIO);
      b += w;
      n -= static_cast<size_t>(w);
    }
  }

  void write_zeros(uint64_t n) {
    static const uint8_t zeros[4096] = {};
    while (n > 0) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, sizeof zeros));
      write(zeros, chunk);
      n -= chunk;
    }
  }

  void commit() {
    if (::fsync(fd_) != 0) fail("fsync failed", errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("close failed", errno);
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) fail("cannot rename " + tmp_, errno);
    committed_ = true;
    // Make the rename durable too (best effort: some filesystems refuse to fsync a directory).
    const size_t slash = final_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : final_.substr(0, slash + 1);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what, int e) {
    throw Error(final_ + ": cannot write safetensors file: " + what + ": " + errno_text(e));
  }
  std::string final_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

struct LayoutEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
  const uint8_t* data;  // nullptr: padding (zeros)
};

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

nlohmann::json parse_json_strict(const char* text, size_t size, const std::string& what,
                                 int max_depth) {
  // Pass 1: a SAX scan (no DOM) for duplicate keys and nesting depth. nlohmann's DOM parser
  // silently keeps the last of duplicate keys, and its callback parser is quadratic in the
  // number of object members, so the checks are done here, in linear time.
  StrictJsonScan scan(max_depth);
  const bool ok = json::sax_parse(text, text + size, &scan, json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  if (!ok || !scan.error.empty())
    throw Error(what + ": invalid JSON: " + (scan.error.empty() ? "parse error" : scan.error));
  // Pass 2: build the document (cannot fail after a successful scan, but stay defensive).
  try {
    return json::parse(text, text + size);
  } catch (const json::exception& e) {
    throw Error(what + ": invalid JSON: " + e.what());
  }
}

SafetensorsFile parse_safetensors(std::shared_ptr<const void> keepalive, const uint8_t* data,
                                  size_t size, const std::string& label) {
  if (size < 8)
    throw Error(label + ": not a safetensors file: truncated (" + std::to_string(size) +
                " bytes, shorter than the 8-byte header length)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kSafetensorsMaxHeaderSize)
    throw Error(label + ": not a safetensors file: header length " + std::to_string(n) +
                " exceeds the limit of " + std::to_string(kSafetensorsMaxHeaderSize) + " bytes");
  if (n > size - 8)
    throw Error(label + ": header length " + std::to_string(n) + " is larger than the file (" +
                std::to_string(size) + " bytes): truncated or not a safetensors file");
  const char* htext = reinterpret_cast<const char*>(data + 8);
  if (n == 0 || htext[0] != '{')
    throw Error(label + ": not a safetensors file: the header does not start with '{'");
  const json header = parse_json_strict(htext, static_cast<size_t>(n), label + ": header",
                                        kHeaderMaxDepth);
  if (!header.is_object()) throw Error(label + ": header is not a JSON object");

  const uint8_t* data_area = data + 8 + n;
  const uint64_t data_size = size - 8 - n;
  SafetensorsFile out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw Error(label + ": __metadata__ is not a JSON object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          throw Error(label + ": __metadata__ field " + sq(m.key()) +
                      " is not a string: " + brief(*m));
        out.metadata.emplace(m.key(), m->get<std::string>());
      }
      continue;
    }
    out.tensors.emplace(it.key(), parse_tensor_entry(label, it.key(), *it, data_area, data_size,
                                                     keepalive));
  }
  return out;
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::shared_ptr<MappedFile> f = MappedFile::open(path);
  const uint8_t* data = f->data();
  const size_t size = f->size();
  return parse_safetensors(std::move(f), data, size, path);
}

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, HostTensor>>& tensors,
                       const std::map<std::string, std::string>& metadata, size_t alignment) {
  const std::string where = path + ": cannot write safetensors file: ";
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > (size_t(1) << 20))
    throw Error(where + "alignment " + std::to_string(alignment) +
                " is not a power of two up to 1 MiB");

  // Lay out the data area: every tensor at a multiple of `alignment`, gaps filled by padding.
  std::vector<LayoutEntry> layout;
  std::set<std::string> names;
  uint64_t cur = 0;
  size_t npad = 0;
  for (const auto& [name, t] : tensors) {
    const std::string tw = where + "tensor " + sq(name) + ": ";
    if (name.empty()) throw Error(where + "empty tensor name");
    if (name == "__metadata__") throw Error(tw + "the name is reserved");
    if (name.rfind(kSafetensorsPadPrefix, 0) == 0)
      throw Error(tw + "names starting with '" + kSafetensorsPadPrefix + "' are reserved");
    if (!names.insert(name).second) throw Error(tw + "duplicate tensor name");
    uint64_t nbytes = dtype_size(t.dtype);
    for (int64_t d : t.shape) {
      if (d < 0) throw Error(tw + "negative dimension in shape " + shape_string(t.shape));
      if (__builtin_mul_overflow(nbytes, static_cast<uint64_t>(d), &nbytes))
        throw Error(tw + "shape " + shape_string(t.shape) + " is too large");
    }
    if (nbytes != t.nbytes)
      throw Error(tw + "holds " + std::to_string(t.nbytes) + " bytes but " +
                  dtype_name(t.dtype) + " " + shape_string(t.shape) + " needs " +
                  std::to_string(nbytes));
    if (nbytes > 0 && t.data == nullptr) throw Error(tw + "no data");
    const uint64_t start = align_up(cur, alignment);
    if (start > cur) {
      layout.push_back({kSafetensorsPadPrefix + std::to_string(npad++), DType::U8,
                        {static_cast<int64_t>(start - cur)}, cur, start, nullptr});
    }
    layout.push_back({name, t.dtype, t.shape, start, start + nbytes, t.data});
    cur = start + nbytes;
  }

  // Header: __metadata__ first, then the tensors in file order; padded with spaces so the
  // data area starts aligned (at least to 8 bytes, as the reference writer does). Built entry
  // by entry (an ordered_json object has linear-time insertion).
  std::string htext = "{";
  try {
    if (!metadata.empty()) htext += "\"__metadata__\":" + json(metadata).dump();
    for (const LayoutEntry& e : layout) {
      if (htext.size() > 1) htext += ',';
      htext += json(e.name).dump();
      htext += ":{\"dtype\":\"";
      htext += dtype_name(e.dtype);
      htext += "\",\"shape\":" + json(e.shape).dump();
      htext += ",\"data_offsets\":[" + std::to_string(e.begin) + "," + std::to_string(e.end) +
               "]}";
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + "a tensor name or metadata string is not valid UTF-8 (" + e.what() + ")");
  }
  htext += '}';
  const uint64_t data_start = align_up(8 + htext.size(), std::max<size_t>(alignment, 8));
  htext.append(static_cast<size_t>(data_start - 8 - htext.size()), ' ');
  if (htext.size() > kSafetensorsMaxHeaderSize)
    throw Error(where + "header of " + std::to_string(htext.size()) + " bytes is too large");

  TempFile out(path);
  uint8_t len[8];
  const uint64_t n = htext.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  out.write(len, 8);
  out.write(htext.data(), htext.size());
  for (const LayoutEntry& e : layout) {
    if (e.data == nullptr) out.write_zeros(e.end - e.begin);
    else out.write(e.data, static_cast<size_t>(e.end - e.begin));
  }
  out.commit();
}

}  // namespace attend

// models/torch_checkpoint.cpp — PyTorch zip checkpoint reader: locates data.pkl and the
// data/<key> storage records in the zip, runs a restricted pickle VM (no code execution; only
// the globals a state dict uses), then turns the rebuilt tensor views into HostTensors
// (zero copy when contiguous, materialised otherwise), validating everything on the way.
#include "models/torch_checkpoint.hpp"

#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "attend/error.hpp"
#include "engine/mapped_file.hpp"
#include "models/zip_reader.hpp"

namespace attend {
namespace {

// ---------------------------------------------------------------------------------------------
// Pickle values. Scalars live inline in a Value; containers and torch objects live in per-type
// arenas owned by the VM and are referenced by index, so memo sharing / in-place mutation behave
// as in Python, cycles are harmless and destruction never recurses.

enum class Kind : uint8_t { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

// The only callables / classes a state dict may reference.
enum class Fn : uint8_t {
  OrderedDict,
  RebuildTensorV2,
  RebuildParameter,
  RebuildParameterWithState,
  TorchSize,
  StorageType,  // torch.<X>Storage; the dtype is in Value::ref
};

struct Value {
  Kind kind = Kind::None;
  uint32_t ref = 0;  // arena index (Str/Tuple/List/Dict/Storage/Tensor); Global: storage dtype
  int64_t i = 0;     // Bool/Int value; Float bits; Global: Fn
};

struct DictObj {
  std::vector<std::pair<Value, Value>> items;                // insertion order
  std::unordered_map<std::string, size_t> str_index;         // str key -> position in items
};

struct StorageObj {
  DType dtype;
  const uint8_t* data;  // start of the zip record
  uint64_t numel;       // elements of `dtype` (declared numel * size <= record size, checked)
  std::string key;      // storage record key, for messages
};

struct TensorSpec {
  uint32_t storage;
  int64_t offset;
  std::vector<int64_t> shape, stride;
};

struct StorageTypeInfo {
  const char* name;
  DType dtype;
};

constexpr StorageTypeInfo kStorageTypes[] = {
    {"FloatStorage", DType::F32},   {"HalfStorage", DType::F16}, {"BFloat16Storage", DType::BF16},
    {"DoubleStorage", DType::F64},  {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
    {"ShortStorage", DType::I16},   {"CharStorage", DType::I8},  {"ByteStorage", DType::U8},
    {"BoolStorage", DType::BOOL},
};

constexpr size_t kMaxGlobalLine = 256;  // longer module/name lines are rejected
constexpr size_t kMaxDims = 64;

bool mul_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool add_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

// ---------------------------------------------------------------------------------------------

class Unpickler {
 public:
  Unpickler(const ZipReader& zip, std::string prefix, const uint8_t* data, size_t size, std::string label)
      : zip_(zip), prefix_(std::move(prefix)), p_(data), n_(size), label_(std::move(label)) {}

  // Runs the pickle program up to STOP and returns the resulting top-level object.
  Value run();

  const DictObj& dict(const Value& v) const { return dicts_[v.ref]; }
  const std::string& str(const Value& v) const { return strs_[v.ref]; }
  const TensorSpec& tensor(const Value& v) const { return tensors_[v.ref]; }
  const StorageObj& storage(uint32_t idx) const { return storages_[idx]; }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(label_ + ": " + prefix_ + "data.pkl: " + msg + " (opcode 0x" + hex(op_) + " at offset " +
                std::to_string(op_pos_) + ")");
  }
  static std::string hex(uint8_t b) {
    const char* d = "0123456789abcdef";
    return std::string{d[b >> 4], d[b & 15]};
  }

  const uint8_t* need(size_t k) {
    if (n_ - pos_ < k) fail("unexpected end of pickle data");
    const uint8_t* r = p_ + pos_;
    pos_ += k;
    return r;
  }
  uint64_t read_le(size_t k) {
    const uint8_t* b = need(k);
    uint64_t v = 0;
    for (size_t j = 0; j < k; ++j) v |= static_cast<uint64_t>(b[j]) << (8 * j);
    return v;
  }
  std::string read_line() {
    const size_t start = pos_;
    while (pos_ < n_ && p_[pos_] != '\n') {
      if (pos_ - start >= kMaxGlobalLine) fail("GLOBAL name too long");
      ++pos_;
    }
    if (pos_ >= n_) fail("unexpected end of pickle data in GLOBAL");
    std::string s(reinterpret_cast<const char*>(p_ + start), pos_ - start);
    ++pos_;  // '\n'
    return s;
  }

  void push(Value v) { stack_.push_back(v); }
  Value pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    Value v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value& top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops everything above the innermost MARK (and the mark).
  std::vector<Value> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }

  Value make_str(std::string s) {
    strs_.push_back(std::move(s));
    return Value{Kind::Str, static_cast<uint32_t>(strs_.size() - 1), 0};
  }
  Value make_seq(Kind k, std::vector<Value> items) {
    seqs_.push_back(std::move(items));
    return Value{k, static_cast<uint32_t>(seqs_.size() - 1), 0};
  }
  Value make_dict() {
    dicts_.emplace_back();
    return Value{Kind::Dict, static_cast<uint32_t>(dicts_.size() - 1), 0};
  }
  Value make_int(int64_t v) { return Value{Kind::Int, 0, v}; }

  void set_item(const Value& d, const Value& k, const Value& v) {
    if (d.kind != Kind::Dict) fail(std::string("SETITEM(S) on a ") + kind_name(d.kind) + ", not a dict");
    DictObj& obj = dicts_[d.ref];
    if (k.kind == Kind::Str) {
      auto [it, inserted] = obj.str_index.emplace(strs_[k.ref], obj.items.size());
      if (!inserted) { obj.items[it->second].second = v; return; }
    }
    obj.items.emplace_back(k, v);
  }
  void append(const Value& l, const Value& v) {
    if (l.kind != Kind::List) fail(std::string("APPEND(S) on a ") + kind_name(l.kind) + ", not a list");
    seqs_[l.ref].push_back(v);
  }

  void memo_put(uint64_t idx) {
    const Value v = top();
    memo_[idx] = v;
  }
  Value memo_get(uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo key " + std::to_string(idx) + " is not defined");
    return it->second;
  }

  Value global(const std::string& module, const std::string& name);
  Value call(const Value& fn, const Value& args);
  Value persistent_load(const Value& pid);
  int64_t as_int(const Value& v, const char* what) {
    if (v.kind != Kind::Int && v.kind != Kind::Bool) fail(std::string(what) + " must be an int, got " + kind_name(v.kind));
    return v.i;
  }
  std::vector<int64_t> int_tuple(const Value& v, const char* what) {
    if (v.kind != Kind::Tuple && v.kind != Kind::List)
      fail(std::string(what) + " must be a tuple of ints, got " + kind_name(v.kind));
    std::vector<int64_t> out;
    for (const Value& e : seqs_[v.ref]) out.push_back(as_int(e, what));
    return out;
  }

  const ZipReader& zip_;
  std::string prefix_;
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  std::string label_;
  uint8_t op_ = 0;
  size_t op_pos_ = 0;

  std::vector<Value> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value> memo_;
  std::vector<std::string> strs_;
  std::vector<std::vector<Value>> seqs_;
  std::vector<DictObj> dicts_;
  std::vector<StorageObj> storages_;
  std::vector<TensorSpec> tensors_;
};

Value Unpickler::global(const std::string& module, const std::string& name) {
  auto g = [](Fn f, uint32_t extra = 0) { return Value{Kind::Global, extra, static_cast<int64_t>(f)}; };
  if (module == "collections" && name == "OrderedDict") return g(Fn::OrderedDict);
  if (module == "torch._utils") {
    if (name == "_rebuild_tensor_v2") return g(Fn::RebuildTensorV2);
    if (name == "_rebuild_parameter") return g(Fn::RebuildParameter);
    if (name == "_rebuild_parameter_with_state") return g(Fn::RebuildParameterWithState);
  }
  if (module == "torch") {
    if (name == "Size") return g(Fn::TorchSize);
    for (const auto& st : kStorageTypes)
      if (name == st.name) return g(Fn::StorageType, static_cast<uint32_t>(st.dtype));
  }
  fail("unsupported global '" + module + "." + name +
       "' (only state dicts of plain tensors can be read; nothing is executed)");
}

Value Unpickler::call(const Value& fn, const Value& args) {
  if (fn.kind != Kind::Global) fail(std::string("cannot call a ") + kind_name(fn.kind));
  if (args.kind != Kind::Tuple) fail(std::string("call arguments must be a tuple, got ") + kind_name(args.kind));
  const std::vector<Value> a = seqs_[args.ref];  // copy: arenas may grow below
  switch (static_cast<Fn>(fn.i)) {
    case Fn::OrderedDict: {
      if (!a.empty()) fail("collections.OrderedDict called with arguments");
      return make_dict();
    }
    case Fn::TorchSize: {
      if (a.size() != 1) fail("torch.Size expects one argument");
      int_tuple(a[0], "torch.Size argument");
      return a[0];
    }
    case Fn::RebuildTensorV2: {
      if (a.size() != 6 && a.size() != 7)
        fail("torch._utils._rebuild_tensor_v2 expects 6 or 7 arguments, got " + std::to_string(a.size()));
      if (a[0].kind != Kind::Storage) fail(std::string("_rebuild_tensor_v2: storage argument is a ") + kind_name(a[0].kind));
      TensorSpec t;
      t.storage = a[0].ref;
      t.offset = as_int(a[1], "_rebuild_tensor_v2 storage_offset");
      t.shape = int_tuple(a[2], "_rebuild_tensor_v2 size");
      t.stride = int_tuple(a[3], "_rebuild_tensor_v2 stride");
      if (t.shape.size() != t.stride.size())
        fail("_rebuild_tensor_v2: size has " + std::to_string(t.shape.size()) + " dims but stride has " +
             std::to_string(t.stride.size()));
      if (t.shape.size() > kMaxDims) fail("_rebuild_tensor_v2: too many dimensions");
      tensors_.push_back(std::move(t));
      return Value{Kind::Tensor, static_cast<uint32_t>(tensors_.size() - 1), 0};
    }
    case Fn::RebuildParameter:
    case Fn::RebuildParameterWithState: {
      const size_t want = static_cast<Fn>(fn.i) == Fn::RebuildParameter ? 3 : 4;
      if (a.size() != want) fail("torch._utils._rebuild_parameter: wrong number of arguments");
      if (a[0].kind != Kind::Tensor) fail(std::string("_rebuild_parameter: data argument is a ") + kind_name(a[0].kind));
      return a[0];
    }
    case Fn::StorageType:
      fail("storage types cannot be called");
  }
  fail("bad callable");
}

Value Unpickler::persistent_load(const Value& pid) {
  if (pid.kind != Kind::Tuple) fail(std::string("persistent id must be a tuple, got ") + kind_name(pid.kind));
  const std::vector<Value>& t = seqs_[pid.ref];
  if (t.size() != 5 || t[0].kind != Kind::Str || strs_[t[0].ref] != "storage")
    fail("persistent id is not ('storage', type, key, location, numel)");
  if (t[1].kind != Kind::Global || static_cast<Fn>(t[1].i) != Fn::StorageType)
    fail("persistent id: unsupported storage type");
  if (t[2].kind != Kind::Str) fail("persistent id: storage key is not a string");
  if (t[3].kind != Kind::Str) fail("persistent id: storage location is not a string");
  const int64_t numel = as_int(t[4], "persistent id numel");
  if (numel < 0) fail("persistent id: negative numel");
  StorageObj s;
  s.dtype = static_cast<DType>(t[1].ref);
  s.key = strs_[t[2].ref];
  s.numel = static_cast<uint64_t>(numel);
  const std::string entry_name = prefix_ + "data/" + s.key;
  const ZipEntry* e = zip_.find(entry_name);
  if (!e) fail("storage record '" + entry_name + "' is missing from the archive");
  const uint64_t es = dtype_size(s.dtype);
  if (s.numel > e->size / es)
    fail("storage '" + s.key + "' declares " + std::to_string(s.numel) + " " + dtype_name(s.dtype) +
         " elements but its record '" + entry_name + "' has only " + std::to_string(e->size) + " bytes");
  s.data = zip_.entry_data(*e);
  storages_.push_back(std::move(s));
  return Value{Kind::Storage, static_cast<uint32_t>(storages_.size() - 1), 0};
}

Value Unpickler::run() {
  while (true) {
    if (pos_ >= n_) {
      op_pos_ = pos_;
      op_ = 0;
      fail("pickle ends without STOP");
    }
    op_pos_ = pos_;
    op_ = p_[pos_++];
    switch (op_) {
      case 0x80: {  // PROTO
        const uint64_t v = read_le(1);
        if (v > 5) fail("unsupported pickle protocol " + std::to_string(v));
        break;
      }
      case 0x95: read_le(8); break;  // FRAME: framing is only a hint for buffered readers
      case '}': push(make_dict()); break;                         // EMPTY_DICT
      case ']': push(make_seq(Kind::List, {})); break;            // EMPTY_LIST
      case ')': push(make_seq(Kind::Tuple, {})); break;           // EMPTY_TUPLE
      case '(': marks_.push_back(stack_.size()); break;           // MARK
      case 'N': push(Value{Kind::None, 0, 0}); break;             // NONE
      case 0x88: push(Value{Kind::Bool, 0, 1}); break;            // NEWTRUE
      case 0x89: push(Value{Kind::Bool, 0, 0}); break;            // NEWFALSE
      case 'J': push(make_int(static_cast<int32_t>(static_cast<uint32_t>(read_le(4))))); break;  // BININT
      case 'K': push(make_int(static_cast<int64_t>(read_le(1)))); break;                          // BININT1
      case 'M': push(make_int(static_cast<int64_t>(read_le(2)))); break;                          // BININT2
      case 0x8a: {  // LONG1
        const size_t k = static_cast<size_t>(read_le(1));
        if (k > 8) fail("LONG1 integer wider than 64 bits");
        uint64_t v = read_le(k);
        if (k > 0 && k < 8 && (v >> (8 * k - 1)) & 1) v |= ~uint64_t{0} << (8 * k);  // sign-extend
        int64_t s;
        std::memcpy(&s, &v, 8);
        push(make_int(s));
        break;
      }
      case 'G': {  // BINFLOAT (big-endian)
        const uint8_t* b = need(8);
        uint64_t bits = 0;
        for (int j = 0; j < 8; ++j) bits = (bits << 8) | b[j];
        push(Value{Kind::Float, 0, static_cast<int64_t>(bits)});
        break;
      }
      case 'X':     // BINUNICODE
      case 0x8c:    // SHORT_BINUNICODE
      case 0x8d: {  // BINUNICODE8
        const uint64_t len = read_le(op_ == 'X' ? 4 : op_ == 0x8c ? 1 : 8);
        if (len > n_ - pos_) fail("string runs past the end of the pickle");
        const uint8_t* b = need(static_cast<size_t>(len));
        push(make_str(std::string(reinterpret_cast<const char*>(b), static_cast<size_t>(len))));
        break;
      }
      case 't': push(make_seq(Kind::Tuple, pop_mark())); break;  // TUPLE
      case 0x85: case 0x86: case 0x87: {                          // TUPLE1/2/3
        const size_t k = static_cast<size_t>(op_ - 0x84);
        if (stack_.size() < floor() + k) fail("stack underflow");
        std::vector<Value> items(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
        stack_.resize(stack_.size() - k);
        push(make_seq(Kind::Tuple, std::move(items)));
        break;
      }
      case 'l': push(make_seq(Kind::List, pop_mark())); break;  // LIST
      case 'd': {                                               // DICT
        std::vector<Value> items = pop_mark();
        if (items.size() % 2) fail("DICT with an odd number of items");
        const Value d = make_dict();
        for (size_t j = 0; j < items.size(); j += 2) set_item(d, items[j], items[j + 1]);
        push(d);
        break;
      }
      case 'q': memo_put(read_le(1)); break;   // BINPUT
      case 'r': memo_put(read_le(4)); break;   // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
      case 'h': push(memo_get(read_le(1))); break;  // BINGET
      case 'j': push(memo_get(read_le(4))); break;  // LONG_BINGET
      case '0': pop(); break;                       // POP
      case '1': pop_mark(); break;                  // POP_MARK
      case '2': push(top()); break;                 // DUP
      case 's': {  // SETITEM
        const Value v = pop();
        const Value k = pop();
        set_item(top(), k, v);
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<Value> items = pop_mark();
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        const Value d = top();
        for (size_t j = 0; j < items.size(); j += 2) set_item(d, items[j], items[j + 1]);
        break;
      }
      case 'a': {  // APPEND
        const Value v = pop();
        append(top(), v);
        break;
      }
      case 'e': {  // APPENDS
        std::vector<Value> items = pop_mark();
        const Value l = top();
        for (const Value& v : items) append(l, v);
        break;
      }
      case 'c': {  // GLOBAL
        const std::string module = read_line();
        const std::string name = read_line();
        push(global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const Value name = pop();
        const Value module = pop();
        if (name.kind != Kind::Str || module.kind != Kind::Str) fail("STACK_GLOBAL needs two strings");
        push(global(strs_[module.ref], strs_[name.ref]));
        break;
      }
      case 'R': {  // REDUCE
        const Value args = pop();
        const Value fn = pop();
        push(call(fn, args));
        break;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args); only OrderedDict makes sense here
        const Value args = pop();
        const Value cls = pop();
        if (cls.kind != Kind::Global || static_cast<Fn>(cls.i) != Fn::OrderedDict)
          fail("NEWOBJ is only supported for collections.OrderedDict");
        push(call(cls, args));
        break;
      }
      case 'b': {  // BUILD: sets attributes (e.g. OrderedDict._metadata); ignored
        pop();
        const Value& obj = top();
        if (obj.kind != Kind::Dict && obj.kind != Kind::Tensor)
          fail(std::string("BUILD on a ") + kind_name(obj.kind));
        break;
      }
      case 'Q': {  // BINPERSID
        const Value pid = pop();
        push(persistent_load(pid));
        break;
      }
      case '.':  // STOP
        if (stack_.empty()) fail("STOP with an empty stack");
        return stack_.back();
      default:
        fail("unsupported or invalid pickle opcode");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Turning rebuilt views into HostTensors.

class TensorBuilder {
 public:
  TensorBuilder(const Unpickler& vm, std::shared_ptr<const void> keepalive, uint64_t materialise_budget,
                std::string label)
      : vm_(vm), keepalive_(std::move(keepalive)), budget_(materialise_budget), label_(std::move(label)) {}

  HostTensor build(const std::string& key, const TensorSpec& t) {
    const StorageObj& s = vm_.storage(t.storage);
    auto fail = [&](const std::string& msg) {
      throw Error(label_ + ": tensor '" + key + "' (storage '" + s.key + "'): " + msg);
    };
    const int64_t es = static_cast<int64_t>(dtype_size(s.dtype));
    if (t.offset < 0) fail("negative storage offset");
    int64_t numel = 1, max_index = t.offset;
    bool contiguous = true;
    int64_t expected = 1;
    for (size_t d = t.shape.size(); d-- > 0;) {
      const int64_t size = t.shape[d], stride = t.stride[d];
      if (size < 0) fail("negative size in dimension " + std::to_string(d));
      if (stride < 0) fail("negative stride in dimension " + std::to_string(d));
      if (!mul_ok(numel, size, &numel)) fail("element count overflows");
      if (size > 1 && stride != expected) contiguous = false;
      if (size > 0) {
        int64_t span;
        if (!mul_ok(size - 1, stride, &span) || !add_ok(max_index, span, &max_index))
          fail("view extent overflows");
      }
      if (!mul_ok(expected, size, &expected)) fail("element count overflows");
    }
    int64_t nbytes;
    if (!mul_ok(numel, es, &nbytes)) fail("byte size overflows");
    HostTensor out;
    out.dtype = s.dtype;
    out.shape = t.shape;
    if (numel == 0) {
      out.data = s.data;
      out.nbytes = 0;
      out.keepalive = keepalive_;
      return out;
    }
    if (static_cast<uint64_t>(max_index) >= s.numel)
      fail("view (offset " + std::to_string(t.offset) + ", shape " + out.shape_str() + ") needs element " +
           std::to_string(max_index) + " but the storage has only " + std::to_string(s.numel) + " elements");
    if (contiguous) {
      out.data = s.data + t.offset * es;
      out.nbytes = static_cast<size_t>(nbytes);
      out.keepalive = keepalive_;
      return out;
    }
    // Non-contiguous view (e.g. a saved transpose): copy into a new row-major buffer.
    if (static_cast<uint64_t>(nbytes) > budget_)
      fail("materialising this non-contiguous view (" + std::to_string(nbytes) +
           " bytes) exceeds the copy budget for this file");
    budget_ -= static_cast<uint64_t>(nbytes);
    std::vector<uint8_t> bytes(static_cast<size_t>(nbytes));
    const size_t nd = t.shape.size();
    std::vector<int64_t> idx(nd, 0);
    const int64_t inner = t.shape[nd - 1], inner_stride = t.stride[nd - 1];
    const size_t esz = static_cast<size_t>(es);
    uint8_t* dst = bytes.data();
    for (int64_t done = 0; done < numel; done += inner) {
      int64_t src = t.offset;
      for (size_t d = 0; d + 1 < nd; ++d) src += idx[d] * t.stride[d];
      for (int64_t j = 0; j < inner; ++j, src += inner_stride, dst += esz)
        std::memcpy(dst, s.data + src * es, esz);
      for (size_t d = nd - 1; d-- > 0;) {  // odometer over the outer dimensions
        if (++idx[d] < t.shape[d]) break;
        idx[d] = 0;
      }
    }
    return make_host_tensor(s.dtype, t.shape, std::move(bytes));
  }

 private:
  const Unpickler& vm_;
  std::shared_ptr<const void> keepalive_;
  uint64_t budget_;
  std::string label_;
};

// Finds "<prefix>data.pkl" where <prefix> is empty or a single top-level folder ("archive/",
// "pytorch_model/", ...). Returns the prefix.
std::string find_archive_prefix(const ZipReader& zip, const std::string& label) {
  static const std::string kPkl = "data.pkl";
  std::string found;
  int count = 0;
  for (const ZipEntry& e : zip.entries()) {
    const std::string& n = e.name;
    if (n.size() < kPkl.size() || n.compare(n.size() - kPkl.size(), kPkl.size(), kPkl) != 0) continue;
    const std::string prefix = n.substr(0, n.size() - kPkl.size());
    if (!prefix.empty() && (prefix.back() != '/' || prefix.find('/') != prefix.size() - 1)) continue;
    found = prefix;
    ++count;
  }
  if (count == 0)
    throw Error(label + ": zip archive has no data.pkl entry (not a PyTorch checkpoint?)");
  if (count > 1) throw Error(label + ": zip archive has several data.pkl entries");
  return found;
}

}  // namespace

TensorMap parse_torch_checkpoint(std::shared_ptr<const void> keepalive, const uint8_t* data, size_t size,
                                 const std::string& label) {
  if (size >= 2 && data[0] == 0x80 && data[1] <= 5)
    throw Error(label + ": legacy (non-zip, pre-PyTorch-1.6) torch.save format is not supported; "
                        "re-save it with a recent PyTorch or convert it to safetensors");
  if (size >= 4 && !(data[0] == 'P' && data[1] == 'K'))
    throw Error(label + ": not a PyTorch zip checkpoint (no zip signature)");
  const ZipReader zip(data, size, label);
  const std::string prefix = find_archive_prefix(zip, label);

  if (const ZipEntry* bo = zip.find(prefix + "byteorder")) {
    if (bo->size > 16) throw Error(label + ": bad byteorder record");
    const uint8_t* b = zip.entry_data(*bo);
    std::string order(reinterpret_cast<const char*>(b), static_cast<size_t>(bo->size));
    while (!order.empty() && (order.back() == '\n' || order.back() == '\r' || order.back() == ' ')) order.pop_back();
    if (order != "little")
      throw Error(label + ": checkpoint byte order is '" + order + "'; only little-endian is supported");
  }

  const ZipEntry* pkl = zip.find(prefix + "data.pkl");
  const uint8_t* pkl_data = zip.entry_data(*pkl, /*verify_crc=*/true);
  Unpickler vm(zip, prefix, pkl_data, static_cast<size_t>(pkl->size), label);
  const Value root = vm.run();
  if (root.kind != Kind::Dict)
    throw Error(label + ": data.pkl holds a " + kind_name(root.kind) + ", not a state dict");

  // Copies of non-contiguous views may use at most twice the file size plus 256 MiB in total,
  // so a small malicious file cannot request huge allocations.
  TensorBuilder builder(vm, keepalive, 2 * static_cast<uint64_t>(size) + (uint64_t{256} << 20), label);
  TensorMap out;
  std::unordered_map<uint32_t, HostTensor> built;  // tensor object -> result (memo-shared views)
  for (const auto& [k, v] : vm.dict(root).items) {
    if (k.kind != Kind::Str) throw Error(label + ": state dict key is a " + kind_name(k.kind) + ", not a string");
    const std::string& key = vm.str(k);
    if (v.kind != Kind::Tensor)
      throw Error(label + ": state dict entry '" + key + "' is a " + kind_name(v.kind) + ", not a tensor");
    auto it = built.find(v.ref);
    if (it == built.end()) it = built.emplace(v.ref, builder.build(key, vm.tensor(v))).first;
    out[key] = it->second;
  }
  return out;
}

TensorMap read_torch_checkpoint(const std::string& path) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  return parse_torch_checkpoint(file, file->data(), file->size(), path);
}

}  // namespace attend

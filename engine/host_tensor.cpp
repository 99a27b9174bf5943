// engine/host_tensor.cpp — dtype helpers and HostTensor conversions.
#include "engine/host_tensor.hpp"

#include <cstring>

#include "attend/error.hpp"
#include "engine/kernels/half.hpp"

namespace attend {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::BOOL: return 1;
    case DType::I64: case DType::F64: return 8;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::BOOL: return "BOOL";
    case DType::F64: return "F64";
    case DType::I16: return "I16";
  }
  return "?";
}

bool dtype_from_name(const std::string& s, DType* out) {
  static const std::pair<const char*, DType> table[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I8", DType::I8},
      {"U8", DType::U8},   {"I32", DType::I32}, {"I64", DType::I64},   {"BOOL", DType::BOOL},
      {"F64", DType::F64}, {"I16", DType::I16}};
  for (const auto& [name, t] : table) {
    if (s == name) { *out = t; return true; }
  }
  return false;
}

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string HostTensor::shape_str() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::vector<float> HostTensor::to_f32() const {
  const size_t n = static_cast<size_t>(numel());
  std::vector<float> out(n);
  switch (dtype) {
    case DType::F32: std::memcpy(out.data(), data, n * 4); break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h; std::memcpy(&h, data + 2 * i, 2); out[i] = half_to_float(h);
      }
      break;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h; std::memcpy(&h, data + 2 * i, 2); out[i] = bf16_to_float(h);
      }
      break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d; std::memcpy(&d, data + 8 * i, 8); out[i] = static_cast<float>(d);
      }
      break;
    default:
      throw Error(std::string("cannot convert a ") + dtype_name(dtype) + " tensor to float32");
  }
  return out;
}

HostTensor make_host_tensor(DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
  auto owner = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  HostTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = owner->data();
  t.nbytes = owner->size();
  t.keepalive = owner;
  return t;
}

HostTensor make_f32_tensor(std::vector<int64_t> shape, const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return make_host_tensor(DType::F32, std::move(shape), std::move(bytes));
}

}  // namespace attend

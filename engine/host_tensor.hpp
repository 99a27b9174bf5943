// engine/host_tensor.hpp — dtypes and a plain, read-only host tensor view shared by the
// checkpoint readers, the converter and the model-file reader (no oneDNN here).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attend {

class MappedFile;  // engine/mapped_file.hpp

enum class DType : uint8_t { F32, F16, BF16, I8, U8, I32, I64, BOOL, F64, I16 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);                  // safetensors spelling: "F32", "BF16", ...
bool dtype_from_name(const std::string& s, DType* out);

// A contiguous row-major tensor living in memory owned by `keepalive` (a mapped file, a
// decompressed buffer, ...). `data` points at `nbytes` bytes = numel * dtype_size(dtype).
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::shared_ptr<const void> keepalive;
  // The read-only file mapping `data` lies in (a model file being loaded), or null. Once the
  // bytes have been copied, release_pages(tensor) may drop them from the resident set; they are
  // read back from the file if touched again (MappedFile::read_at copies them without mapping
  // them). Never set for heap-owned bytes (dropping those loses them).
  const MappedFile* mapping = nullptr;

  int64_t numel() const;
  std::string shape_str() const;  // "[2, 3]"
  // Copy converted to float32 (from F32/F16/BF16/F64); throws attend::Error for other dtypes.
  std::vector<float> to_f32() const;
};

// Owns a buffer and exposes it as a HostTensor.
HostTensor make_host_tensor(DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
HostTensor make_f32_tensor(std::vector<int64_t> shape, const std::vector<float>& values);

using TensorMap = std::map<std::string, HostTensor>;

}  // namespace attend

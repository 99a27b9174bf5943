// fuzz/fuzz_torch_checkpoint.cpp — libFuzzer target: the pytorch_model.bin reader (ZIP
// container, pickle virtual machine, storages and views) on arbitrary bytes.
#include <cstdint>
#include <cstring>
#include <memory>

#include "attend/error.hpp"
#include "models/torch_checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::shared_ptr<uint8_t[]> copy(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(copy.get(), data, size);
  try {
    attend::TensorMap tensors = attend::parse_torch_checkpoint(copy, copy.get(), size, "fuzz.bin");
    volatile uint8_t sink = 0;
    for (const auto& [name, t] : tensors) {
      const auto* p = t.data;
      if (t.nbytes) sink = sink ^ p[0] ^ p[t.nbytes - 1];
    }
  } catch (const attend::Error&) {
  }
  return 0;
}

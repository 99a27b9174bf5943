// fuzz/fuzz_safetensors.cpp — libFuzzer target: the safetensors reader (header length, JSON
// header, dtypes, shapes, data offsets) on arbitrary bytes.
#include <cstdint>
#include <cstring>
#include <memory>

#include "attend/error.hpp"
#include "engine/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::shared_ptr<uint8_t[]> copy(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(copy.get(), data, size);
  try {
    attend::SafetensorsFile f = attend::parse_safetensors(copy, copy.get(), size, "fuzz.safetensors");
    volatile uint8_t sink = 0;
    for (const auto& [name, t] : f.tensors) {
      const auto* p = t.data;
      if (t.nbytes) sink = sink ^ p[0] ^ p[t.nbytes - 1];
    }
  } catch (const attend::Error&) {
  }
  return 0;
}

// fuzz/fuzz_model_file.cpp — libFuzzer target: the .attend model file reader (safetensors
// container + "attend.model" document, aliases, tokenizer files) on arbitrary bytes.
#include <cstdint>
#include <cstring>
#include <memory>

#include "attend/error.hpp"
#include "engine/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly-sized heap copy, so ASan sees any read past the end of the "file".
  std::shared_ptr<uint8_t[]> copy(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(copy.get(), data, size);
  try {
    attend::ModelFileContents c = attend::parse_model_file(copy, copy.get(), size, "fuzz.attend");
    // Touch every tensor's bytes: the reader promised they lie inside the input.
    volatile uint8_t sink = 0;
    for (const auto& [name, t] : c.tensors) {
      const auto* p = t.data;
      for (size_t i = 0; i < t.nbytes; i += 97) sink = sink ^ p[i];
      if (t.nbytes) sink = sink ^ p[t.nbytes - 1];
    }
    for (const auto& [name, bytes] : c.tokenizer_files) sink = sink ^ static_cast<uint8_t>(bytes.size());
  } catch (const attend::Error&) {
  }
  return 0;
}

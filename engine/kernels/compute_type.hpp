// engine/kernels/compute_type.hpp — the arithmetic the matmuls run in (fp32, bf16, int8) and how a
// requested type ("default", "auto", "fp32", "bf16", "int8") is resolved against the CPU at run
// time (oneDNN's effective ISA), never at build time.
#pragma once
#include <string>

namespace attend {

enum class ComputeType { F32, BF16, I8 };

const char* compute_type_name(ComputeType t);  // "fp32", "bf16", "int8"

// What the CPU does natively: bf16 needs AVX512_BF16 (or AMX), int8 is fast with VNNI
// (AVX512 VNNI, AVX-VNNI or AMX) and still runs (slower) on AVX512/AVX2 without it.
struct CpuCaps {
  bool avx2 = false, avx512 = false, vnni = false, bf16 = false, amx = false;
  std::string isa;  // oneDNN's name of the effective ISA, e.g. "avx512_core_bf16"
  // The processor as cpuid names it: brand string, family, model and stepping, e.g. "AMD EPYC
  // (family 25, model 17, stepping 1)". Machines of one kind can differ in generation behind
  // the same brand string (a hypervisor's "AMD EPYC"); a benchmark figure says which it ran on.
  std::string model;
};
CpuCaps cpu_caps();

struct ResolvedCompute {
  ComputeType type = ComputeType::F32;
  std::string note;  // why, when the choice differs from what was asked (fallbacks, auto)
};

// requested: "" or "default" (what the model file was quantized for: int8 file -> int8, bf16
// file -> bf16, anything else -> fp32), "auto" (fastest this CPU supports: int8 with VNNI/AMX,
// else bf16 with native bf16, else fp32), or an explicit "fp32" / "bf16" / "int8" (falls back
// to fp32, with a note, when the CPU cannot run it). `file_quantization` is the model file's
// quantization.weights ("none", "int8", "bf16", "fp16"). Throws attend::Error for an unknown name.
ResolvedCompute resolve_compute_type(const std::string& requested, const std::string& file_quantization,
                                     const CpuCaps& caps);

}  // namespace attend

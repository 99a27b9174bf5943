// engine/kernels/compute_type.cpp — compute type names, CPU capability probe and resolution.
#include "engine/kernels/compute_type.hpp"

#include <cstring>
#include <dnnl.hpp>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "attend/error.hpp"

namespace attend {

const char* compute_type_name(ComputeType t) {
  switch (t) {
    case ComputeType::F32: return "fp32";
    case ComputeType::BF16: return "bf16";
    case ComputeType::I8: return "int8";
  }
  return "fp32";
}

namespace {

// cpuid's brand string (leaves 0x80000002-4, trimmed) and leaf 1's family, model and stepping
// (the displayed values: extended family added for base family 15, extended model for 6 and 15).
std::string cpu_model_name() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  std::string brand;
  if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000004u) {
    char text[49] = {};
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
      __get_cpuid(0x80000002u + leaf, &a, &b, &c, &d);
      const unsigned regs[4] = {a, b, c, d};
      std::memcpy(text + 16 * leaf, regs, sizeof regs);
    }
    brand = text;
    const size_t first = brand.find_first_not_of(' ');
    brand = first == std::string::npos ? "" : brand.substr(first, brand.find_last_not_of(' ') - first + 1);
  }
  if (brand.empty()) brand = "unknown CPU";
  if (!__get_cpuid(1u, &a, &b, &c, &d)) return brand;
  const unsigned base_family = (a >> 8) & 0xfu, base_model = (a >> 4) & 0xfu;
  const unsigned family = base_family == 0xfu ? base_family + ((a >> 20) & 0xffu) : base_family;
  const unsigned model =
      base_family == 0x6u || base_family == 0xfu ? base_model + (((a >> 16) & 0xfu) << 4) : base_model;
  return brand + " (family " + std::to_string(family) + ", model " + std::to_string(model) + ", stepping " +
         std::to_string(a & 0xfu) + ")";
#else
  return "unknown CPU (not x86)";
#endif
}

}  // namespace

CpuCaps cpu_caps() {
  using isa = dnnl::cpu_isa;
  CpuCaps c;
  // oneDNN's "effective" ISA is the most it is allowed to use (ONEDNN_MAX_CPU_ISA), not what
  // the CPU has; the CPU's own flags come from cpuid. Both must agree.
  const isa e = dnnl::get_effective_cpu_isa();
  auto allowed = [e](isa want) {  // ISA values are bit sets: richer ones contain the lower bits
    return (static_cast<unsigned>(e) & static_cast<unsigned>(want)) == static_cast<unsigned>(want);
  };
  __builtin_cpu_init();
  c.avx2 = __builtin_cpu_supports("avx2") && allowed(isa::avx2);
  c.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && allowed(isa::avx512_core);
  const bool vnni512 = c.avx512 && __builtin_cpu_supports("avx512vnni") && allowed(isa::avx512_core_vnni);
  const bool vnni256 = c.avx2 && __builtin_cpu_supports("avxvnni") && allowed(isa::avx2_vnni);
  c.vnni = vnni512 || vnni256;
  c.bf16 = vnni512 && __builtin_cpu_supports("avx512bf16") && allowed(isa::avx512_core_bf16);
  c.amx = c.bf16 && __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-int8") &&
          allowed(isa::avx512_core_amx);
  if (c.amx) c.isa = "avx512_core_amx";
  else if (c.bf16) c.isa = "avx512_core_bf16";
  else if (vnni512) c.isa = "avx512_core_vnni";
  else if (c.avx512) c.isa = "avx512_core";
  else if (vnni256) c.isa = "avx2_vnni";
  else if (c.avx2) c.isa = "avx2";
  else c.isa = "pre-avx2";
  c.model = cpu_model_name();
  return c;
}

namespace {
bool runs_int8(const CpuCaps& c) { return c.avx2 || c.avx512; }
bool runs_bf16(const CpuCaps& c) { return c.avx512; }  // oneDNN 2.6: bf16 matmul needs avx512_core
}  // namespace

ResolvedCompute resolve_compute_type(const std::string& requested, const std::string& file_quantization,
                                     const CpuCaps& caps) {
  ResolvedCompute r;
  std::string want = requested;
  if (want.empty() || want == "default") {
    if (file_quantization == "int8") want = "int8";
    else if (file_quantization == "bf16") want = "bf16";
    else want = "fp32";
  }
  if (want == "auto") {
    if (caps.amx || caps.vnni) {
      r.type = ComputeType::I8;
      r.note = std::string("auto: int8 (") + caps.isa + ")";
    } else if (caps.bf16) {
      r.type = ComputeType::BF16;
      r.note = std::string("auto: bf16 (") + caps.isa + ")";
    } else {
      r.type = ComputeType::F32;
      r.note = std::string("auto: fp32 (") + caps.isa + ": no VNNI or native bf16)";
    }
    return r;
  }
  if (want == "fp32" || want == "float32" || want == "f32") {
    r.type = ComputeType::F32;
  } else if (want == "bf16" || want == "bfloat16") {
    if (runs_bf16(caps)) {
      r.type = ComputeType::BF16;
      if (!caps.bf16) r.note = "bf16 emulated on " + caps.isa + " (no native bf16: slower than fp32)";
    } else {
      r.type = ComputeType::F32;
      r.note = "bf16 needs AVX-512 (this CPU: " + caps.isa + "): using fp32";
    }
  } else if (want == "int8") {
    if (runs_int8(caps)) {
      r.type = ComputeType::I8;
      if (!caps.vnni && !caps.amx) r.note = "int8 without VNNI on " + caps.isa + " (slower)";
    } else {
      r.type = ComputeType::F32;
      r.note = "int8 needs AVX2 or better (this CPU: " + caps.isa + "): using fp32";
    }
  } else {
    throw Error("unknown compute type '" + requested + "' (use default, auto, fp32, bf16 or int8)");
  }
  return r;
}

}  // namespace attend

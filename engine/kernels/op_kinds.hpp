// engine/kernels/op_kinds.hpp — the normalisation and activation kinds the kernels implement
// (the architecture spec in engine/arch_spec.hpp selects among them per family).
#pragma once

namespace attend {

enum class NormKind { LayerNorm, RMSNorm };
enum class Activation { Relu, Gelu, GeluTanh, Swish };

}  // namespace attend

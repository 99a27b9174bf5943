// models/torch_checkpoint.hpp — reads PyTorch `pytorch_model.bin` state dicts (the zip + pickle
// format of torch.save) without Python or libtorch. Only a safe subset of the pickle VM is
// implemented and only the globals a state dict needs are recognised; nothing is executed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/host_tensor.hpp"

namespace attend {

// Reads a PyTorch zip checkpoint (torch.save with _use_new_zipfile_serialization, as
// save_pretrained(safe_serialization=False) writes it) holding a state dict (dict or
// OrderedDict of name -> tensor). Contiguous tensors point straight into the memory-mapped
// file (zero copy; keepalive = the mapping); non-contiguous views are materialised into new
// contiguous buffers. Tensors sharing a storage (tied weights) all work. Throws attend::Error
// naming the file (and the tensor key / zip entry / pickle offset) on any problem.
TensorMap read_torch_checkpoint(const std::string& path);

// The same from memory (for fuzzing / tests). `keepalive` owns `data` and becomes the
// keepalive of zero-copy tensors; `label` names the input in error messages.
TensorMap parse_torch_checkpoint(std::shared_ptr<const void> keepalive, const uint8_t* data,
                                 size_t size, const std::string& label);

}  // namespace attend

// tests/conformance/model_conformance.hpp — checks one fixture model folder (see
// ../shared/fixtures/README.md): converts it from model.safetensors and from
// pytorch_model.bin, compares teacher-forced tensors and every generation case.
#pragma once
#include <string>
#include <vector>

namespace attend::conformance {

struct GroupResult {
  std::string group;    // e.g. "safetensors: generation"
  enum Status { Passed, Failed, Skipped } status = Passed;
  std::string message;  // failures / skip reason
  int cases = 0;
};

std::vector<GroupResult> check_model_folder(const std::string& folder);

}  // namespace attend::conformance

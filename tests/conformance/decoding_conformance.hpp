// tests/conformance/decoding_conformance.hpp — checks a model folder's decoding_cases.json
// sample_* and prefix_* cases (fixtures README section 5.2/5.3) against a loaded model.
#pragma once
#include <string>
#include <vector>

#include "runtime/model_impl.hpp"
#include "tests/conformance/model_conformance.hpp"

namespace attend::conformance {

// Groups "<label>: sampling" and "<label>: prefix"; none when the folder has no decoding_cases.json.
std::vector<GroupResult> check_decoding_cases(const Model::Impl& m, const std::string& folder, const std::string& label);

}  // namespace attend::conformance

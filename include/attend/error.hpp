// attend/error.hpp — the one exception type every Attend API call throws.
#pragma once
#include <stdexcept>
#include <string>

namespace attend {

// Every failure reported by the library (bad model file, bad input, bad option) is an
// attend::Error whose what() names the file/field/tensor concerned.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace attend

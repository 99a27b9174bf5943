// attend/error.hpp — the one exception type every Attend API call throws, and its subclass for
// calls stopped by cancellation.
#pragma once
#include <stdexcept>
#include <string>

#include "attend/export.h"

namespace attend {

// Every failure reported by the library (bad model file, bad input, bad option) is an
// attend::Error whose what() names the file/field/tensor concerned.
class ATTEND_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Thrown by translate/generate when the caller cancelled the call (a CancelToken was cancelled
// or a stream callback returned false). It is an attend::Error, so `catch (const Error&)` sees it.
class ATTEND_API Cancelled : public Error {
 public:
  explicit Cancelled(const std::string& message = "cancelled") : Error(message) {}
};

}  // namespace attend

#pragma once
// Errors are values at module boundaries: Result<T> holds a T or an Error.

#include <string>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace causeloop {

// The short list of error codes. Mapped to HTTP statuses in exactly one place
// (http/error_response.cc).
enum class ErrorCode {
  kValidation,       // 400 validation_error
  kUnauthorized,     // 401 unauthorized
  kForbidden,        // 403 forbidden
  kNotFound,         // 404 not_found
  kConflict,         // 409 conflict
  kUnprocessable,    // 422 unprocessable
  kPayloadTooLarge,  // 413 payload_too_large
  kRateLimited,      // 429 rate_limited
  kUnavailable,      // 503 unavailable
  kInternal,         // 500 internal
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Field-level details, rendered as {"field": "message"} in the error envelope.
  std::vector<std::pair<std::string, std::string>> details;

  Error& WithDetail(std::string field, std::string text) & {
    details.emplace_back(std::move(field), std::move(text));
    return *this;
  }
  Error&& WithDetail(std::string field, std::string text) && {
    details.emplace_back(std::move(field), std::move(text));
    return std::move(*this);
  }
};

template <typename T>
using Result = tl::expected<T, Error>;

// Result<void> alias for operations that only succeed or fail.
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message), {}});
}
inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

// A validation error naming the offending field.
inline Error FieldError(std::string field, std::string message) {
  Error e{ErrorCode::kValidation, message, {}};
  e.details.emplace_back(std::move(field), std::move(message));
  return e;
}
inline tl::unexpected<Error> FailField(std::string field, std::string message) {
  return tl::unexpected<Error>(FieldError(std::move(field), std::move(message)));
}

// The wire name of a code ("validation_error", …).
const char* ErrorCodeName(ErrorCode code);

}  // namespace causeloop

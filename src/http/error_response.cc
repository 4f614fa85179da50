#include "core/json_writer.h"
#include "http/types.h"

namespace causeloop::http {

// The single ErrorCode -> HTTP status table (SPEC §4). No default: a new code must be
// mapped here or the build warns (-Wswitch).
int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kValidation:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kUnprocessable:
      return 422;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

Response ErrorResponse(const Error& error, std::string_view request_id) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Field("code", ErrorCodeName(error.code));
  w.Field("message", error.message);
  w.Field("trace_id", request_id);
  w.Key("details").BeginObject();
  for (const auto& [field, text] : error.details) w.Field(field, text);
  w.EndObject();
  w.EndObject().EndObject();
  Response r;
  r.status = HttpStatusFor(error.code);
  r.body = w.Take();
  // Retry-After for 503 is added by the server when the response is written, unless the
  // caller set one, so a caller can still pick its own value.
  return r;
}

}  // namespace causeloop::http

#pragma once
// Parsing request bodies on the hot path with simdjson, with the API's nesting limit.

#include <simdjson.h>

#include <string_view>

#include "core/result.h"

namespace causeloop::ingest {

inline constexpr size_t kMaxJsonDepth = 64;

// Parses `body` with a per-thread parser (valid until the next call on this thread).
// kValidation with a clear message for malformed JSON or nesting deeper than 64.
Result<simdjson::dom::element> ParseJsonBody(std::string_view body);

}  // namespace causeloop::ingest

#pragma once
// RFC 3339 timestamps, always rendered in UTC with millisecond precision.

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace causeloop {

// "2026-11-22T08:12:05.123Z".
std::string FormatRfc3339(SystemTime t);

// Parses RFC 3339 (date 'T' time, optional fraction, 'Z' or ±hh:mm offset; 't'/'z' and a
// space separator are accepted as RFC 3339 allows). Fractions beyond milliseconds are
// truncated. kValidation on anything else.
Result<SystemTime> ParseRfc3339(std::string_view text);

}  // namespace causeloop

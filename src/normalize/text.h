#pragma once
// UTF-8 text helpers used by the normalizers. Inputs are valid UTF-8 (simdjson validates
// every document it parses); the helpers never split a multi-byte sequence.

#include <cstddef>
#include <string>
#include <string_view>

namespace causeloop::normalize {

// ASCII whitespace trimmed from both ends.
std::string_view TrimAscii(std::string_view s);

// ASCII lower-casing; other bytes are kept.
std::string LowerAscii(std::string_view s);

// Runs of whitespace and control characters (ASCII and C0/C1 controls, U+00A0, U+2028,
// U+2029) become one space; the result is trimmed.
std::string CollapseWhitespace(std::string_view s);

// Keeps at most `max_code_points` code points. Sets `*truncated` when something was cut.
std::string TruncateCodePoints(std::string_view s, size_t max_code_points, bool* truncated);

// Keeps at most `max_bytes` bytes, cut back to the last complete UTF-8 sequence.
std::string TruncateBytes(std::string_view s, size_t max_bytes, bool* truncated);

}  // namespace causeloop::normalize

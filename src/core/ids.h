#pragma once
// Sortable unique ids: a type prefix plus a ULID (48-bit millisecond time, 80 random bits,
// Crockford base32, 26 characters), e.g. "iss_01J9Z3…".

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"

namespace causeloop {

// Returns prefix + ULID. `prefix` includes the underscore ("iss_"). Thread-safe.
std::string NewId(std::string_view prefix, SystemTime now, Random& random);

// True when `id` is prefix + 26 Crockford base32 characters.
bool IsWellFormedId(std::string_view id, std::string_view prefix);

}  // namespace causeloop

#pragma once
// API token secrets: "clp_" + 43 base64url characters (256 random bits).

#include <string>
#include <string_view>

#include "core/random.h"

namespace causeloop::auth {

inline constexpr std::string_view kTokenPrefix = "clp_";

// A new random token secret.
std::string GenerateTokenSecret(Random& random);
// The at-rest form: lowercase hex SHA-256 of the secret.
std::string HashTokenSecret(std::string_view secret);
// A short, non-secret display prefix ("clp_AbCdEf").
std::string DisplayPrefix(std::string_view secret);
// Syntactic check only (prefix and length); the store decides whether it is valid.
bool LooksLikeToken(std::string_view secret);

// A "whsec_" + base64(32 random bytes) signing secret (Standard Webhooks style).
std::string GenerateSigningSecret(Random& random);

}  // namespace causeloop::auth

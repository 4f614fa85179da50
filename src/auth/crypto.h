#pragma once
// Hashes, HMAC, constant-time comparison and encodings, on OpenSSL.

#include <array>
#include <string>
#include <string_view>

#include "core/result.h"

namespace causeloop::auth {

using Digest = std::array<unsigned char, 32>;

Digest Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);
Digest HmacSha256(std::string_view key, std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths, never on the contents.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string HexEncode(std::string_view bytes);
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);
// URL-safe alphabet, no padding.
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

inline std::string_view AsChars(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace causeloop::auth

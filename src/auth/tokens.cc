#include "auth/tokens.h"

#include <array>

#include "auth/crypto.h"

namespace causeloop::auth {

std::string GenerateTokenSecret(Random& random) {
  std::array<unsigned char, 32> bytes{};
  random.Fill(bytes);
  return std::string(kTokenPrefix) +
         Base64UrlEncode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

std::string HashTokenSecret(std::string_view secret) { return Sha256Hex(secret); }

std::string DisplayPrefix(std::string_view secret) {
  return std::string(secret.substr(0, kTokenPrefix.size() + 6));
}

bool LooksLikeToken(std::string_view secret) {
  return secret.size() == kTokenPrefix.size() + 43 && secret.substr(0, 4) == kTokenPrefix;
}

std::string GenerateSigningSecret(Random& random) {
  std::array<unsigned char, 32> bytes{};
  random.Fill(bytes);
  return "whsec_" + Base64Encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

}  // namespace causeloop::auth

#include "core/ids.h"

#include <array>

namespace causeloop {
namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

std::string NewId(std::string_view prefix, SystemTime now, Random& random) {
  std::array<unsigned char, 16> bytes{};
  uint64_t ms = static_cast<uint64_t>(ToUnixMillis(now));
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  random.Fill(std::span(bytes).subspan(6));
  // 128 bits -> 26 base32 chars, most significant first (the first char carries 3 bits).
  uint64_t hi = 0, lo = 0;
  for (size_t i = 0; i < 8; ++i) {
    hi = (hi << 8) | bytes[i];
    lo = (lo << 8) | bytes[i + 8];
  }
  std::string out(prefix);
  out.resize(prefix.size() + 26);
  for (size_t i = 26; i-- > 0;) {  // least significant five bits first
    out[prefix.size() + i] = kCrockford[lo & 31U];
    lo = (lo >> 5) | (hi << 59);
    hi >>= 5;
  }
  return out;
}

bool IsWellFormedId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 26 || id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id.substr(prefix.size())) {
    bool ok = (c >= '0' && c <= '9') ||
              (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U');
    if (!ok) return false;
  }
  return true;
}

}  // namespace causeloop

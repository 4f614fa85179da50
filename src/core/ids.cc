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
  // 128 bits -> 26 base32 chars (the first char carries only 3 bits).
  std::string out(prefix);
  out.resize(prefix.size() + 26);
  unsigned __int128 v = 0;
  for (unsigned char b : bytes) v = (v << 8) | b;
  for (int i = 25; i >= 0; --i) {
    out[prefix.size() + i] = kCrockford[static_cast<int>(v & 31)];
    v >>= 5;
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

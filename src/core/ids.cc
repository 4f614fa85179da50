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
  std::string out(prefix);
  out.resize(prefix.size() + 26);
  for (int i = 0; i < 26; ++i) {
    int bit = 128 - 5 * (26 - i);  // position of this char's lowest bit, from the top
    int value = 0;
    for (int b = 0; b < 5; ++b) {
      int pos = bit + b;  // bit index from the most significant end; < 0 is padding
      if (pos < 0) continue;
      int byte = pos / 8;
      int shift = 7 - pos % 8;
      value = (value << 1) | ((bytes[byte] >> shift) & 1);
    }
    out[prefix.size() + i] = kCrockford[value];
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

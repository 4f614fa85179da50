#include "normalize/text.h"

#include <cstdint>

namespace causeloop::normalize {
namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the UTF-8 sequence starting with `lead` (1 for stray bytes, so loops progress).
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Whether the sequence at s[i, i+len) is a space-like character that titles collapse.
bool IsSpaceLike(std::string_view s, size_t i, size_t len) {
  auto c0 = static_cast<unsigned char>(s[i]);
  if (len == 1) return c0 < 0x20 || c0 == 0x7F || c0 == ' ';
  auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (len == 2 && c0 == 0xC2) return c1 <= 0x9F || c1 == 0xA0;  // C1 controls, NBSP
  if (len == 3 && c0 == 0xE2 && c1 == 0x80) {
    auto c2 = static_cast<unsigned char>(s[i + 2]);
    return c2 == 0xA8 || c2 == 0xA9;  // line / paragraph separator
  }
  return false;
}

}  // namespace

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  size_t i = 0;
  while (i < s.size()) {
    size_t len = SequenceLength(static_cast<unsigned char>(s[i]));
    if (i + len > s.size()) len = s.size() - i;
    if (IsSpaceLike(s, i, len)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out.push_back(' ');
      pending_space = false;
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string TruncateCodePoints(std::string_view s, size_t max_code_points, bool* truncated) {
  size_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (count == max_code_points) {
      if (truncated) *truncated = true;
      return std::string(s.substr(0, i));
    }
    size_t len = SequenceLength(static_cast<unsigned char>(s[i]));
    i = i + len > s.size() ? s.size() : i + len;
    ++count;
  }
  return std::string(s);
}

std::string TruncateBytes(std::string_view s, size_t max_bytes, bool* truncated) {
  if (s.size() <= max_bytes) return std::string(s);
  if (truncated) *truncated = true;
  size_t cut = max_bytes;
  // Back up over continuation bytes to the start of the sequence that straddles the cut.
  while (cut > 0 && IsContinuation(static_cast<unsigned char>(s[cut]))) --cut;
  return std::string(s.substr(0, cut));
}

}  // namespace causeloop::normalize

#pragma once
// Tokenizing and masking (internal to the engine; Mask() in engine.h is the public face).
//
// A text is split on ASCII whitespace. A token that is variable as a whole (a URL, an email
// address, a file path, a UUID, an IPv6 address, a quoted value, possibly spanning several
// words) becomes "<*>". Otherwise the token is cut at punctuation (= : , ; ( ) [ ] { } < > |
// / \ " ') and every piece that contains a digit becomes "<*>" (numbers, hex, IPv4, ports,
// durations, timestamps, ids, host and pod names with digits), apart from a short list of
// technical words that carry digits (IPv4, UTF-8, x86_64, …). "user=root" stays as it is;
// "size=1024" becomes "size=<*>"; "10.0.0.1:5432" becomes "<*>:<*>".

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace causeloop::cluster::internal {

inline constexpr std::string_view kWildcard = "<*>";

struct Span {
  uint32_t begin = 0;
  uint32_t size = 0;
};

// The masked tokens of one text, stored back to back in `text` separated by single spaces,
// with each token's span, and the span of the raw text each came from.
struct MaskedText {
  std::string text;
  std::vector<Span> tokens;
  std::vector<Span> raw;  // into the input text
  bool truncated = false;

  [[nodiscard]] std::string_view Token(size_t i) const {
    return {text.data() + tokens[i].begin, tokens[i].size};
  }
  [[nodiscard]] size_t size() const { return tokens.size(); }
  void Clear() {
    text.clear();
    tokens.clear();
    raw.clear();
    truncated = false;
  }
};

// Signals with more tokens than this are clustered on their first kMaxTokens tokens.
inline constexpr size_t kMaxTokens = 96;

void MaskInto(std::string_view input, MaskedText& out, size_t max_tokens = kMaxTokens);

// FNV-1a, 64 bit: stable across processes and builds (persisted fingerprints depend on it).
inline uint64_t Hash(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// The error signature of a signal: the first exception type, the top stack frames (digits
// dropped) and error codes found in its body (and its title, when it has a body). Empty when
// the text carries none. Two keys are derived from it for the second clustering stage:
// `strong_key` (exception + frames; 0 without frames): the same code path, whichever tool
// reported it; `weak_key` (exception or first code; 0 without either).
struct ErrorSignature {
  std::string exception;
  std::string frames;  // '>'-joined, innermost first
  std::string codes;   // ','-joined
  uint64_t strong_key = 0;
  uint64_t weak_key = 0;

  [[nodiscard]] bool empty() const { return exception.empty() && frames.empty() && codes.empty(); }
  [[nodiscard]] std::string Text() const;  // "exception|frames|codes", for explanations
};

ErrorSignature ExtractSignature(std::string_view title, std::string_view body);

}  // namespace causeloop::cluster::internal

#include "net/ssrf.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace causeloop::net {
namespace {

using V6 = std::array<uint8_t, 16>;

// Host byte order.
const char* V4Reason(uint32_t a) {
  auto in = [a](uint32_t net, int bits) {
    uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return (a & mask) == net;
  };
  if (in(0x00000000, 8)) return "\"this network\" (0.0.0.0/8)";
  if (in(0x0A000000, 8)) return "private (10.0.0.0/8)";
  if (in(0x64400000, 10)) return "shared address space (100.64.0.0/10)";
  if (in(0x7F000000, 8)) return "loopback (127.0.0.0/8)";
  if (in(0xA9FE0000, 16)) return "link-local / cloud metadata (169.254.0.0/16)";
  if (in(0xAC100000, 12)) return "private (172.16.0.0/12)";
  if (in(0xC0000000, 24)) return "IETF protocol assignment (192.0.0.0/24)";
  if (in(0xC0000200, 24)) return "documentation (192.0.2.0/24)";
  if (in(0xC0A80000, 16)) return "private (192.168.0.0/16)";
  if (in(0xC6120000, 15)) return "benchmarking (198.18.0.0/15)";
  if (in(0xC6336400, 24)) return "documentation (198.51.100.0/24)";
  if (in(0xCB007100, 24)) return "documentation (203.0.113.0/24)";
  if (in(0xE0000000, 4)) return "multicast (224.0.0.0/4)";
  if (in(0xF0000000, 4)) return "reserved or broadcast (240.0.0.0/4)";
  return nullptr;
}

uint32_t V4At(const V6& a, size_t offset) {
  return (uint32_t{a[offset]} << 24) | (uint32_t{a[offset + 1]} << 16) |
         (uint32_t{a[offset + 2]} << 8) | uint32_t{a[offset + 3]};
}

bool AllZero(const V6& a, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (a[i] != 0) return false;
  }
  return true;
}

const char* V6Reason(const V6& a) {
  if (AllZero(a, 0, 16)) return "unspecified (::)";
  if (AllZero(a, 0, 15) && a[15] == 1) return "loopback (::1)";
  // ::ffff:a.b.c.d (IPv4-mapped) and ::ffff:0:a.b.c.d (IPv4-translated): the socket reaches the
  // embedded IPv4 address, so that is what is judged.
  if (AllZero(a, 0, 10) && a[10] == 0xff && a[11] == 0xff) return V4Reason(V4At(a, 12));
  if (AllZero(a, 0, 8) && a[8] == 0xff && a[9] == 0xff && a[10] == 0 && a[11] == 0) {
    return V4Reason(V4At(a, 12));
  }
  if (AllZero(a, 0, 12)) return "IPv4-compatible (deprecated ::/96)";
  // 64:ff9b::/96, the well-known NAT64 prefix: a translator connects to the embedded address.
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {
    if (AllZero(a, 4, 12)) return V4Reason(V4At(a, 12));
    if (a[4] == 0x00 && a[5] == 0x01) return "local-use NAT64 (64:ff9b:1::/48)";
  }
  if (a[0] == 0x01 && AllZero(a, 1, 8)) return "discard-only (100::/64)";
  // 2002:AABB:CCDD::/48, 6to4: routed to the IPv4 address in bits 16–47.
  if (a[0] == 0x20 && a[1] == 0x02) return V4Reason(V4At(a, 2));
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) {
    return "documentation (2001:db8::/32)";
  }
  static constexpr V6 kAwsMetadata = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                      0,    0,    0,    0,    0, 0, 0x02, 0x54};
  if (a == kAwsMetadata) return "cloud metadata (fd00:ec2::254)";
  if ((a[0] & 0xfe) == 0xfc) return "unique local (fc00::/7)";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local (fe80::/10)";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "site-local (fec0::/10)";
  if (a[0] == 0xff) return "multicast (ff00::/8)";
  return nullptr;
}

bool ParseV4(const std::string& text, uint32_t* out) {
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1) return false;
  *out = ntohl(addr.s_addr);
  return true;
}

bool ParseV6(const std::string& text, V6* out) {
  in6_addr addr{};
  if (inet_pton(AF_INET6, text.c_str(), &addr) != 1) return false;
  std::memcpy(out->data(), &addr, out->size());
  return true;
}

constexpr size_t kMaxUrlLength = 4096;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (Lower(c) >= 'a' && Lower(c) <= 'f'); }

// WHATWG URL "ends in a number": the last label is decimal or 0x-hex, so resolvers and libcurl
// treat the whole host as an IPv4 address in one of inet_aton's spellings.
bool EndsInANumber(std::string_view host) {
  size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  bool all_digits = true;
  for (char c : last) all_digits = all_digits && IsDigit(c);
  if (all_digits) return true;
  if (last.size() >= 2 && last[0] == '0' && Lower(last[1]) == 'x') {
    for (char c : last.substr(2)) {
      if (!IsHexDigit(c)) return false;
    }
    return true;
  }
  return false;
}

tl::unexpected<Error> Refuse(std::string reason) {
  return Fail(ErrorCode::kValidation, "outbound URL: " + std::move(reason));
}

}  // namespace

const char* ForbiddenAddressReason(const sockaddr* address) {
  if (address == nullptr) return "no address";
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    return V4Reason(ntohl(in.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    V6 a{};
    std::memcpy(a.data(), &in6.sin6_addr, a.size());
    return V6Reason(a);
  }
  return "not an internet address";
}

const char* ForbiddenAddressReason(std::string_view ip_literal) {
  if (ip_literal.size() >= 2 && ip_literal.front() == '[' && ip_literal.back() == ']') {
    ip_literal = ip_literal.substr(1, ip_literal.size() - 2);
  }
  if (ip_literal.empty() || ip_literal.size() > 64) return "not an IP address";
  std::string text(ip_literal);
  uint32_t v4 = 0;
  if (ParseV4(text, &v4)) return V4Reason(v4);
  V6 v6{};
  if (ParseV6(text, &v6)) return V6Reason(v6);
  return "not an IP address";
}

bool IsForbiddenAddress(const sockaddr* address) {
  return ForbiddenAddressReason(address) != nullptr;
}

bool IsForbiddenAddress(std::string_view ip_literal) {
  return ForbiddenAddressReason(ip_literal) != nullptr;
}

Status CheckOutboundUrl(std::string_view url, bool allow_private) {
  if (url.size() > kMaxUrlLength) return Refuse("longer than 4096 characters");
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '\\') {
      return Refuse("contains whitespace, a control or non-ASCII character, or a backslash");
    }
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return Refuse("not an absolute URL");
  std::string scheme = ToLower(url.substr(0, sep));
  if (scheme != "https" && !(allow_private && scheme == "http")) {
    return Refuse(allow_private ? "scheme must be https or http" : "scheme must be https");
  }

  std::string_view rest = url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) return Refuse("userinfo is not allowed");
  if (authority.empty()) return Refuse("host is missing");

  std::string_view host;
  std::string_view after_host;
  bool bracketed = false;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Refuse("unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    after_host = authority.substr(close + 1);
    bracketed = true;
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    after_host = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (host.empty()) return Refuse("host is missing");

  if (!after_host.empty()) {
    if (after_host.front() != ':') return Refuse("malformed host and port");
    std::string_view port = after_host.substr(1);
    if (port.empty()) return Refuse("port is empty");
    if (port.size() > 5) return Refuse("port must be 1-65535");
    int value = 0;
    for (char c : port) {
      if (!IsDigit(c)) return Refuse("port must be 1-65535");
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) return Refuse("port must be 1-65535");
  }

  const char* forbidden = nullptr;
  if (bracketed) {
    V6 v6{};
    if (!ParseV6(std::string(host), &v6)) return Refuse("invalid IPv6 literal");
    forbidden = V6Reason(v6);
  } else {
    for (char c : host) {
      bool ok =
          IsDigit(c) || (Lower(c) >= 'a' && Lower(c) <= 'z') || c == '-' || c == '_' || c == '.';
      if (!ok) return Refuse("host contains a character not allowed in a host name");
    }
    std::string name = ToLower(host);
    if (name.size() > 1 && name.back() == '.') name.pop_back();
    if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) {
      return Refuse("host has an empty label");
    }
    if (EndsInANumber(name)) {
      // inet_aton accepts every numeric spelling ("127.1", "0x7f000001", "0177.0.0.1").
      in_addr addr{};
      if (inet_aton(name.c_str(), &addr) == 0) return Refuse("invalid IPv4 address");
      forbidden = V4Reason(ntohl(addr.s_addr));
    } else if (!allow_private && (name == "localhost" || name.ends_with(".localhost"))) {
      return Refuse("host is localhost");
    } else if (!allow_private && name == "metadata.google.internal") {
      return Refuse("host is a cloud metadata service");
    }
  }
  if (forbidden != nullptr && !allow_private) {
    return Refuse(std::string("host is a forbidden address: ") + forbidden);
  }
  return {};
}

}  // namespace causeloop::net

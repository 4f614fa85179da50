#pragma once
// The SSRF guard for outbound requests (SPEC §7.2): which URLs Causeloop may call and which
// addresses it may connect to.
//
// Two layers, both needed:
//  - CheckOutboundUrl is a syntactic check when a URL is accepted (an endpoint is saved) and
//    before a request is queued. It refuses IP literals in forbidden ranges and well-known
//    internal host names, but it cannot know what a host name will resolve to.
//  - IsForbiddenAddress judges the address actually connected to; HttpClient calls it from
//    libcurl's open-socket callback for every address it tries, so a name that resolves (or
//    re-resolves, "DNS rebinding") to a private address is refused at connect time.
//
// Pure, no IO, thread-safe.

#include <sys/socket.h>

#include <string_view>

#include "core/result.h"

namespace causeloop::net {

// Checks that `url` is one Causeloop may send requests to:
//  - absolute, "scheme://authority[/path][?query][#fragment]"; no whitespace, control
//    characters or backslashes anywhere (they are where URL parsers disagree);
//  - scheme "https" (case-insensitive); "http" too when `allow_private` is true (the
//    --allow-private-webhook-targets mode for tests and on-prem receivers without TLS);
//  - no userinfo ("user:pass@host");
//  - a host: a DNS name of letters, digits, '-', '_' and '.', an IPv4 literal, or a bracketed
//    IPv6 literal without a zone id; numeric IPv4 spellings that resolvers and libcurl accept
//    ("127.1", "2130706433", "0x7f.0.0.1", octal) are judged as the address they denote;
//  - an optional port in 1–65535;
//  - unless `allow_private`: an IP literal must not be IsForbiddenAddress, and the names
//    "localhost", "*.localhost" and "metadata.google.internal" (with or without a trailing
//    dot, any case) are refused.
// kValidation with a message naming the reason ("outbound URL: scheme must be https", …).
Status CheckOutboundUrl(std::string_view url, bool allow_private);

// True when an outbound connection to this address must be refused:
//  IPv4: 0/8 "this network", 10/8, 172.16/12, 192.168/16 private, 100.64/10 CGNAT,
//    127/8 loopback, 169.254/16 link-local (cloud metadata), 192.0.0/24 IETF protocol,
//    192.0.2/24, 198.51.100/24, 203.0.113/24 documentation, 198.18/15 benchmarking,
//    224/4 multicast, 240/4 reserved (with 255.255.255.255 broadcast).
//  IPv6: :: and ::1, ::/96 (deprecated IPv4-compatible), 100::/64 discard, fc00::/7 unique
//    local (with fd00:ec2::254, AWS metadata), fe80::/10 link-local, fec0::/10 site-local,
//    ff00::/8 multicast, 2001:db8::/32 documentation, 64:ff9b:1::/48 local-use NAT64;
//    addresses that embed an IPv4 address are judged by it: ::ffff:a.b.c.d (IPv4-mapped),
//    64:ff9b::a.b.c.d (NAT64, RFC 6052) and 2002:AABB:CCDD::/48 (6to4).
//  Any other address family, and nullptr, is forbidden.
bool IsForbiddenAddress(const sockaddr* address);

// The same for a textual IP address: dotted-quad IPv4, or IPv6 with or without brackets. Text
// that is not an IP address is forbidden (fail closed).
bool IsForbiddenAddress(std::string_view ip_literal);

// Why an address is forbidden ("loopback", "private", "cloud metadata", …), or nullptr when it
// is allowed. IsForbiddenAddress(a) == (ForbiddenAddressReason(a) != nullptr).
const char* ForbiddenAddressReason(const sockaddr* address);
const char* ForbiddenAddressReason(std::string_view ip_literal);

}  // namespace causeloop::net

#include "net/ssrf.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <string>

namespace causeloop::net {
namespace {

struct AddressCase {
  const char* ip;
  bool forbidden;
};

// Each range is probed at its first and last address and just outside both ends, so an
// off-by-one prefix length fails.
const AddressCase kV4Cases[] = {
    {"0.0.0.0", true},          {"0.255.255.255", true},    {"1.0.0.0", false},
    {"9.255.255.255", false},   {"10.0.0.0", true},         {"10.255.255.255", true},
    {"11.0.0.0", false},        {"100.63.255.255", false},  {"100.64.0.0", true},
    {"100.127.255.255", true},  {"100.128.0.0", false},     {"126.255.255.255", false},
    {"127.0.0.1", true},        {"127.255.255.255", true},  {"128.0.0.0", false},
    {"169.253.255.255", false}, {"169.254.0.0", true},      {"169.254.169.254", true},
    {"169.254.255.255", true},  {"169.255.0.0", false},     {"172.15.255.255", false},
    {"172.16.0.0", true},       {"172.31.255.255", true},   {"172.32.0.0", false},
    {"191.255.255.255", false}, {"192.0.0.0", true},        {"192.0.0.255", true},
    {"192.0.1.0", false},       {"192.0.2.0", true},        {"192.0.2.255", true},
    {"192.0.3.0", false},       {"192.167.255.255", false}, {"192.168.0.0", true},
    {"192.168.255.255", true},  {"192.169.0.0", false},     {"198.17.255.255", false},
    {"198.18.0.0", true},       {"198.19.255.255", true},   {"198.20.0.0", false},
    {"198.51.99.255", false},   {"198.51.100.0", true},     {"198.51.100.255", true},
    {"198.51.101.0", false},    {"203.0.112.255", false},   {"203.0.113.0", true},
    {"203.0.113.255", true},    {"203.0.114.0", false},     {"223.255.255.255", false},
    {"224.0.0.0", true},        {"239.255.255.255", true},  {"240.0.0.0", true},
    {"255.255.255.254", true},  {"255.255.255.255", true},  {"8.8.8.8", false},
    {"93.184.216.34", false},   {"1.1.1.1", false},
};

const AddressCase kV6Cases[] = {
    {"::", true},
    {"::1", true},
    {"::2", true},  // deprecated IPv4-compatible ::/96
    {"::8.8.8.8", true},
    {"::ffff:127.0.0.1", true},
    {"::ffff:7f00:1", true},
    {"::ffff:10.1.2.3", true},
    {"::ffff:169.254.169.254", true},
    {"::ffff:8.8.8.8", false},
    {"::ffff:0:127.0.0.1", true},  // IPv4-translated
    {"::ffff:0:8.8.8.8", false},
    {"64:ff9b::127.0.0.1", true},
    {"64:ff9b::a9fe:a9fe", true},
    {"64:ff9b::192.168.1.1", true},
    {"64:ff9b::8.8.8.8", false},
    {"64:ff9b:1::1", true},
    {"100::", true},
    {"100::ffff:ffff:ffff:ffff", true},
    {"100:0:0:1::", false},
    {"2002:7f00:1::", true},  // 6to4 of 127.0.0.1
    {"2002:0808:0808::1", false},
    {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"fc00::", true},
    {"fd00:ec2::254", true},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"fe00::", false},
    {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"fe80::", true},
    {"fe80::1", true},
    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"fec0::", true},
    {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"ff00::", true},
    {"ff02::1", true},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:db8::", true},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"2001:db9::", false},
    {"2001:4860:4860::8888", false},
    {"2606:4700:4700::1111", false},
};

TEST(SsrfAddressTest, JudgesEveryIpv4RangeAtItsEdges) {
  for (const AddressCase& c : kV4Cases) {
    EXPECT_EQ(IsForbiddenAddress(std::string_view(c.ip)), c.forbidden) << c.ip;
  }
}

TEST(SsrfAddressTest, JudgesEveryIpv6RangeAtItsEdges) {
  for (const AddressCase& c : kV6Cases) {
    EXPECT_EQ(IsForbiddenAddress(std::string_view(c.ip)), c.forbidden) << c.ip;
    EXPECT_EQ(IsForbiddenAddress(std::string("[").append(c.ip).append("]")), c.forbidden) << c.ip;
  }
}

TEST(SsrfAddressTest, SockaddrFormAgreesWithTextForm) {
  for (const AddressCase& c : kV4Cases) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    ASSERT_EQ(inet_pton(AF_INET, c.ip, &in.sin_addr), 1) << c.ip;
    EXPECT_EQ(IsForbiddenAddress(reinterpret_cast<const sockaddr*>(&in)), c.forbidden) << c.ip;
  }
  for (const AddressCase& c : kV6Cases) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    ASSERT_EQ(inet_pton(AF_INET6, c.ip, &in6.sin6_addr), 1) << c.ip;
    EXPECT_EQ(IsForbiddenAddress(reinterpret_cast<const sockaddr*>(&in6)), c.forbidden) << c.ip;
  }
}

TEST(SsrfAddressTest, OtherFamiliesAndNonAddressesAreForbidden) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_TRUE(IsForbiddenAddress(reinterpret_cast<const sockaddr*>(&un)));
  EXPECT_TRUE(IsForbiddenAddress(static_cast<const sockaddr*>(nullptr)));
  EXPECT_TRUE(IsForbiddenAddress(std::string_view("")));
  EXPECT_TRUE(IsForbiddenAddress(std::string_view("example.com")));
  EXPECT_TRUE(IsForbiddenAddress(std::string_view("fe80::1%eth0")));
  EXPECT_TRUE(IsForbiddenAddress(std::string_view("1.2.3")));
}

TEST(SsrfAddressTest, ReasonsNameTheRange) {
  EXPECT_STREQ(ForbiddenAddressReason(std::string_view("127.0.0.1")), "loopback (127.0.0.0/8)");
  EXPECT_STREQ(ForbiddenAddressReason(std::string_view("fd00:ec2::254")),
               "cloud metadata (fd00:ec2::254)");
  EXPECT_STREQ(ForbiddenAddressReason(std::string_view("::ffff:10.0.0.1")), "private (10.0.0.0/8)");
  EXPECT_EQ(ForbiddenAddressReason(std::string_view("8.8.8.8")), nullptr);
}

struct UrlCase {
  const char* url;
  bool ok_strict;      // allow_private = false
  bool ok_private;     // allow_private = true
  const char* reason;  // substring of the strict error, when refused
};

const UrlCase kUrlCases[] = {
    {"https://hooks.example.com/causeloop", true, true, ""},
    {"https://hooks.example.com", true, true, ""},
    {"https://hooks.example.com:8443/x?y=1#z", true, true, ""},
    {"HTTPS://Hooks.Example.COM/", true, true, ""},
    {"https://8.8.8.8/", true, true, ""},
    {"https://[2001:4860:4860::8888]:443/", true, true, ""},
    {"https://under_score.example.com/", true, true, ""},
    {"https://example.com?x", true, true, ""},
    {"http://hooks.example.com/", false, true, "scheme must be https"},
    {"ftp://hooks.example.com/", false, false, "scheme must be https"},
    {"file:///etc/passwd", false, false, "scheme must be https"},
    {"gopher://example.com/", false, false, "scheme must be https"},
    {"hooks.example.com/path", false, false, "not an absolute URL"},
    {"//hooks.example.com/path", false, false, "not an absolute URL"},
    {"https:/hooks.example.com", false, false, "not an absolute URL"},
    {"", false, false, "not an absolute URL"},
    {"https://", false, false, "host is missing"},
    {"https:///path", false, false, "host is missing"},
    {"https://:443/", false, false, "host is missing"},
    {"https://user:pass@example.com/", false, false, "userinfo"},
    {"https://example.com@127.0.0.1/", false, false, "userinfo"},
    {"https://@example.com/", false, false, "userinfo"},
    {"https://example.com:0/", false, false, "port must be 1-65535"},
    {"https://example.com:65536/", false, false, "port must be 1-65535"},
    {"https://example.com:65535/", true, true, ""},
    {"https://example.com:1/", true, true, ""},
    {"https://example.com:000443/", false, false, "port must be 1-65535"},
    {"https://example.com:/", false, false, "port is empty"},
    {"https://example.com:44a/", false, false, "port must be 1-65535"},
    {"https://example.com:-1/", false, false, "port must be 1-65535"},
    {"https://127.0.0.1/", false, true, "loopback"},
    {"https://127.0.0.1:8443/hook", false, true, "loopback"},
    {"https://10.0.0.5/", false, true, "private"},
    {"https://169.254.169.254/latest/meta-data/", false, true, "link-local"},
    {"https://0.0.0.0/", false, true, "this network"},
    {"https://255.255.255.255/", false, true, "broadcast"},
    {"https://[::1]/", false, true, "loopback"},
    {"https://[::ffff:127.0.0.1]/", false, true, "loopback"},
    {"https://[fd00:ec2::254]/", false, true, "cloud metadata"},
    {"https://[fe80::1]/", false, true, "link-local"},
    {"https://[64:ff9b::169.254.169.254]/", false, true, "link-local"},
    {"https://[fe80::1%25eth0]/", false, false, "invalid IPv6 literal"},
    {"https://[::1/", false, false, "unterminated IPv6 literal"},
    {"https://[::1]x/", false, false, "malformed host and port"},
    {"https://[not-v6]/", false, false, "invalid IPv6 literal"},
    // Numeric spellings libcurl and resolvers turn into IPv4 addresses.
    {"https://2130706433/", false, true, "loopback"},
    {"https://127.1/", false, true, "loopback"},
    {"https://0x7f.0.0.1/", false, true, "loopback"},
    {"https://0x7f000001/", false, true, "loopback"},
    {"https://0177.0.0.1/", false, true, "loopback"},
    {"https://017700000001/", false, true, "loopback"},
    {"https://127.0.0.1./", false, true, "loopback"},
    {"https://1.2.3.4.5/", false, false, "invalid IPv4 address"},
    {"https://999.1.1.1/", false, false, "invalid IPv4 address"},
    {"https://134744072/", true, true, ""},  // 8.8.8.8
    // Names that always mean this machine or a metadata service.
    {"https://localhost/", false, true, "localhost"},
    {"https://LOCALHOST:8080/", false, true, "localhost"},
    {"https://localhost./", false, true, "localhost"},
    {"https://api.localhost/", false, true, "localhost"},
    {"https://metadata.google.internal/computeMetadata/v1/", false, true, "metadata"},
    {"https://METADATA.google.internal./", false, true, "metadata"},
    {"https://notlocalhost.example/", true, true, ""},
    {"https://localhost.example.com/", true, true, ""},
    // Characters where URL parsers disagree.
    {"https://example.com\\@127.0.0.1/", false, false, "backslash"},
    {"https://exa mple.com/", false, false, "whitespace"},
    {"https://example.com/\r\nHost: x", false, false, "control"},
    {"https://exam%70le.com/", false, false, "not allowed in a host name"},
    {"https://ex\xc3\xa4mple.com/", false, false, "non-ASCII"},
    {"https://example..com/", false, false, "empty label"},
    {"https://.example.com/", false, false, "empty label"},
    {"https://./", false, false, "empty label"},
};

TEST(SsrfUrlTest, ChecksEveryUrlInTheTable) {
  for (const UrlCase& c : kUrlCases) {
    Status strict = CheckOutboundUrl(c.url, false);
    EXPECT_EQ(strict.has_value(), c.ok_strict) << c.url;
    if (!strict) {
      EXPECT_EQ(strict.error().code, ErrorCode::kValidation) << c.url;
      EXPECT_NE(strict.error().message.find(c.reason), std::string::npos)
          << c.url << " -> " << strict.error().message;
    }
    Status lax = CheckOutboundUrl(c.url, true);
    EXPECT_EQ(lax.has_value(), c.ok_private)
        << c.url << " (allow_private) -> " << (lax ? "" : lax.error().message);
  }
}

TEST(SsrfUrlTest, RefusesOverlongUrls) {
  std::string url = "https://example.com/" + std::string(5000, 'a');
  Status s = CheckOutboundUrl(url, false);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("4096"), std::string::npos);
}

}  // namespace
}  // namespace causeloop::net

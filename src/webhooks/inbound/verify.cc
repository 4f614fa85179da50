#include "webhooks/inbound/verify.h"

#include <charconv>
#include <cstdint>
#include <optional>

#include "auth/crypto.h"
#include "normalize/text.h"

namespace causeloop::webhooks::inbound {
namespace {

using normalize::TrimAscii;

constexpr size_t kDigestBytes = 32;

tl::unexpected<Error> Unauthorized(std::string reason) {
  return Fail(ErrorCode::kUnauthorized, std::move(reason));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 64 hex characters (either case) as 32 raw bytes; nullopt for anything else.
std::optional<std::string> DecodeHexDigest(std::string_view hex) {
  if (hex.size() != kDigestBytes * 2) return std::nullopt;
  std::string out(kDigestBytes, '\0');
  for (size_t i = 0; i < kDigestBytes; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

// True when `digest` equals one of `expected`. Every candidate is compared, so the time taken
// does not reveal which secret matched.
bool AnyEquals(std::string_view digest, const std::vector<std::string>& expected) {
  bool matched = false;
  for (const auto& e : expected) matched = auth::ConstantTimeEquals(digest, e) || matched;
  return matched;
}

// HMAC-SHA256(secret, body) for every non-empty secret, keyed by the secret string's bytes.
std::vector<std::string> HexSchemeDigests(const std::vector<std::string>& secrets,
                                          std::string_view body) {
  std::vector<std::string> out;
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    out.emplace_back(auth::AsChars(auth::HmacSha256(secret, body)));
  }
  return out;
}

bool HasUsableSecret(const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (!s.empty()) return true;
  }
  return false;
}

// One bare hex digest.
Status CheckHex(std::string_view value, const std::vector<std::string>& expected) {
  auto digest = DecodeHexDigest(TrimAscii(value));
  if (!digest) return Unauthorized("malformed signature (expected 64 hex characters)");
  if (!AnyEquals(*digest, expected)) return Unauthorized("signature does not match");
  return {};
}

// "sha256=<hex>".
Status CheckPrefixedHex(std::string_view value, const std::vector<std::string>& expected) {
  std::string_view v = TrimAscii(value);
  size_t eq = v.find('=');
  std::string algorithm = normalize::LowerAscii(v.substr(0, eq));
  if (eq == std::string_view::npos) {
    return Unauthorized("malformed signature (expected sha256=<hex>)");
  }
  if (algorithm != "sha256") {
    return Unauthorized("unsupported signature algorithm (only sha256 is accepted)");
  }
  return CheckHex(v.substr(eq + 1), expected);
}

// "v1=<hex>[,v1=<hex>…]"; entries of other versions are skipped, as PagerDuty asks.
Status CheckPagerDuty(std::string_view value, const std::vector<std::string>& expected) {
  bool any_v1 = false;
  bool matched = false;
  std::string_view rest = value;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view entry = TrimAscii(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (entry.substr(0, 3) != "v1=") continue;
    auto digest = DecodeHexDigest(TrimAscii(entry.substr(3)));
    if (!digest) continue;
    any_v1 = true;
    matched = AnyEquals(*digest, expected) || matched;
  }
  if (!any_v1) return Unauthorized("malformed signature (expected v1=<hex>[,v1=<hex>…])");
  if (!matched) return Unauthorized("signature does not match");
  return {};
}

// Standard Webhooks (https://www.standardwebhooks.com/): the key is the secret's base64 part.
std::vector<std::string> StandardWebhooksKeys(const std::vector<std::string>& secrets) {
  std::vector<std::string> keys;
  for (const auto& secret : secrets) {
    std::string_view s = secret;
    if (s.substr(0, 6) == "whsec_") s.remove_prefix(6);
    if (s.empty()) continue;
    auto key = auth::Base64Decode(s);
    if (key && !key->empty()) keys.push_back(std::move(*key));
  }
  return keys;
}

std::optional<int64_t> ParseUnixSeconds(std::string_view text) {
  text = TrimAscii(text);
  int64_t value = 0;
  if (text.empty() || text.size() > 12) return std::nullopt;  // 12 digits reach year 33658
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

Status CheckStandardWebhooks(const HeaderLookup& headers, std::string_view signature,
                             std::string_view body, const std::vector<std::string>& secrets,
                             SystemTime now) {
  auto id = headers("webhook-id");
  auto timestamp = headers("webhook-timestamp");
  if (!id || TrimAscii(*id).empty()) return Unauthorized("webhook-id is missing");
  if (!timestamp) return Unauthorized("webhook-timestamp is missing");
  auto seconds = ParseUnixSeconds(*timestamp);
  if (!seconds) return Unauthorized("malformed webhook-timestamp (expected Unix seconds)");
  auto sent = SystemTime(std::chrono::seconds(*seconds));
  if (sent < now - kStandardWebhooksTolerance) {
    return Unauthorized("webhook-timestamp is too old (more than 5 minutes)");
  }
  if (sent > now + kStandardWebhooksTolerance) {
    return Unauthorized("webhook-timestamp is in the future (more than 5 minutes)");
  }

  std::vector<std::string> keys = StandardWebhooksKeys(secrets);
  if (keys.empty()) return Unauthorized("no signing secret usable for Standard Webhooks");
  std::string signed_content;
  signed_content.reserve(id->size() + timestamp->size() + body.size() + 2);
  signed_content.append(*id).append(".").append(*timestamp).append(".").append(body);
  std::vector<std::string> expected;
  expected.reserve(keys.size());
  for (const auto& key : keys) {
    expected.emplace_back(auth::AsChars(auth::HmacSha256(key, signed_content)));
  }

  bool any_v1 = false;
  bool matched = false;
  std::string_view rest = signature;
  while (!rest.empty()) {
    size_t space = rest.find(' ');
    std::string_view entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (entry.substr(0, 3) != "v1,") continue;  // other versions (e.g. v1a) are not ours
    auto digest = auth::Base64Decode(entry.substr(3));
    if (!digest || digest->size() != kDigestBytes) continue;
    any_v1 = true;
    matched = AnyEquals(*digest, expected) || matched;
  }
  if (!any_v1) return Unauthorized("malformed signature (expected v1,<base64> entries)");
  if (!matched) return Unauthorized("signature does not match");
  return {};
}

}  // namespace

const char* SchemeName(Scheme scheme) {
  switch (scheme) {
    case Scheme::kCauseloop:
      return "x-causeloop-signature";
    case Scheme::kHubSignature256:
      return "x-hub-signature-256";
    case Scheme::kHubSignature:
      return "x-hub-signature";
    case Scheme::kPagerDuty:
      return "x-pagerduty-signature";
    case Scheme::kSentry:
      return "sentry-hook-signature";
    case Scheme::kStandardWebhooks:
      return "standard-webhooks";
  }
  return "unknown";
}

Result<Scheme> VerifyConnectorSignature(const HeaderLookup& headers, std::string_view raw_body,
                                        const std::vector<std::string>& secrets, SystemTime now) {
  if (!HasUsableSecret(secrets)) {
    return Unauthorized("no inbound signing secret is configured for this connector");
  }
  // Computed once, shared by every hex scheme: they all sign the body alone.
  std::optional<std::vector<std::string>> hex_digests;
  auto expected = [&]() -> const std::vector<std::string>& {
    if (!hex_digests) hex_digests = HexSchemeDigests(secrets, raw_body);
    return *hex_digests;
  };

  std::optional<Error> first_failure;
  auto attempt = [&](Scheme scheme, const Status& status) {
    if (status) return true;
    if (!first_failure) {
      first_failure = status.error();
      first_failure->message = std::string(SchemeName(scheme)) + ": " + status.error().message;
    }
    return false;
  };

  constexpr Scheme kHexSchemes[] = {Scheme::kCauseloop, Scheme::kHubSignature256,
                                    Scheme::kHubSignature, Scheme::kPagerDuty, Scheme::kSentry};
  for (Scheme scheme : kHexSchemes) {
    auto value = headers(SchemeName(scheme));
    if (!value) continue;
    Status status;
    switch (scheme) {
      case Scheme::kCauseloop:
      case Scheme::kSentry:
        status = CheckHex(*value, expected());
        break;
      case Scheme::kHubSignature256:
      case Scheme::kHubSignature:
        status = CheckPrefixedHex(*value, expected());
        break;
      case Scheme::kPagerDuty:
        status = CheckPagerDuty(*value, expected());
        break;
      case Scheme::kStandardWebhooks:
        break;
    }
    if (attempt(scheme, status)) return scheme;
  }
  if (auto signature = headers("webhook-signature")) {
    Status status = CheckStandardWebhooks(headers, *signature, raw_body, secrets, now);
    if (attempt(Scheme::kStandardWebhooks, status)) return Scheme::kStandardWebhooks;
  }
  if (first_failure) return Fail(std::move(*first_failure));
  return Unauthorized(
      "no signature header (expected x-causeloop-signature, x-hub-signature-256, "
      "x-hub-signature, x-pagerduty-signature, sentry-hook-signature or webhook-signature)");
}

Status VerifyAlertWebhookSignature(const HeaderLookup& headers, std::string_view raw_body,
                                   const std::vector<std::string>& secrets) {
  if (!HasUsableSecret(secrets)) {
    return Unauthorized("no webhook secret is configured for this workspace");
  }
  auto value = headers("x-webhook-signature");
  if (!value) return Unauthorized("x-webhook-signature header is missing");
  std::string_view v = TrimAscii(*value);
  Status status = v.find('=') == std::string_view::npos
                      ? CheckHex(v, HexSchemeDigests(secrets, raw_body))
                      : CheckPrefixedHex(v, HexSchemeDigests(secrets, raw_body));
  if (!status) {
    return Unauthorized("x-webhook-signature: " + status.error().message);
  }
  return {};
}

}  // namespace causeloop::webhooks::inbound

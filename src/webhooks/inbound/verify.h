#pragma once
// Signature verification for the two inbound webhook receivers (SPEC §6). Both fail closed and
// run over the raw request bytes before any JSON parsing.
//
// Pure: no clock (the time is passed in), no IO, no state; every function is thread-safe.
// Every comparison of a signature with an expected digest is constant-time (it depends only on
// the lengths) and compares decoded digest bytes, never text.
//
// Error convention: Error{ErrorCode::kUnauthorized, <reason>} with no details. The reason says
// which check failed ("no signature header", "x-hub-signature-256: signature does not match",
// …) so the receiver can log it and count signature failures; it never contains a secret, the
// body or a signature value, so it may be returned to the sender as is.
//
// Hex digests are accepted in either case (RFC 4648 §8 hex is case-insensitive, and the digest
// bytes compared are the same); Causeloop itself always emits lower case. A hex digest must be
// exactly 64 characters.

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "webhooks/inbound/headers.h"

namespace causeloop::webhooks::inbound {

// The signature schemes of SPEC §6.1, in the order VerifyConnectorSignature tries them.
enum class Scheme {
  kCauseloop,         // x-causeloop-signature: <hex HMAC-SHA256(secret, body)>
  kHubSignature256,   // x-hub-signature-256: sha256=<hex> (GitHub)
  kHubSignature,      // x-hub-signature: sha256=<hex> (Jira; GitHub's legacy sha1= is refused)
  kPagerDuty,         // x-pagerduty-signature: v1=<hex>[,v1=<hex>…] (PagerDuty v3)
  kSentry,            // sentry-hook-signature: <hex> (Sentry)
  kStandardWebhooks,  // webhook-id + webhook-timestamp + webhook-signature: v1,<base64> …
};

// "x-causeloop-signature", "x-hub-signature-256", …, "standard-webhooks".
const char* SchemeName(Scheme scheme);

// Standard Webhooks' tolerance for webhook-timestamp, both into the past and into the future.
// A timestamp exactly this far from `now` is still accepted.
inline constexpr std::chrono::seconds kStandardWebhooksTolerance{300};

// Verifies a delivery to POST /v1/webhooks/inbound/{connector_id} (SPEC §6.1).
//
// `secrets` are the connector's inbound signing secrets ("whsec_…"): the current one and, during
// a rotation's grace period, the previous one; empty strings are skipped. For the hex schemes the
// HMAC key is the secret string's bytes. For Standard Webhooks the key is the base64 decoding of
// the secret after its "whsec_" prefix (the whole secret when it has no prefix); a secret that
// does not decode cannot verify that scheme. Standard Webhooks also requires `webhook-timestamp`
// (integer Unix seconds) within kStandardWebhooksTolerance of `now`.
//
// Every signature header present is tried; the first one that verifies with any secret wins and
// its scheme is returned. Several signatures in one header (PagerDuty's "v1=a,v1=b", Standard
// Webhooks' "v1,a v1,b") pass when any one matches.
//
// kUnauthorized when: no usable secret is configured; no signature header is present; every
// present header is malformed, does not match, or (Standard Webhooks) is missing its id or
// timestamp or is stale/in the future. The reason names the first header that failed.
Result<Scheme> VerifyConnectorSignature(const HeaderLookup& headers, std::string_view raw_body,
                                        const std::vector<std::string>& secrets, SystemTime now);

// Verifies a delivery to POST /v1/webhooks/{workspace_id}/{provider} (SPEC §6.2):
// `X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, or the bare hex digest. The key
// is the secret string's bytes, as with `openssl dgst -sha256 -hmac "$SECRET"`. `secrets` as
// above (current and, during the grace period, previous). kUnauthorized when no usable secret
// is configured, the header is missing or malformed, or it matches no secret.
//
// Whether a provider may skip the signature (an admin's per-provider switch) is the caller's
// decision: this function always requires one.
Status VerifyAlertWebhookSignature(const HeaderLookup& headers, std::string_view raw_body,
                                   const std::vector<std::string>& secrets);

}  // namespace causeloop::webhooks::inbound

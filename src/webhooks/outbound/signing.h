#pragma once
// Signing of outbound webhook deliveries (SPEC §7.2): endpoint signing secrets and the headers
// every delivery carries.
//
// Two schemes at once, so receivers can use whichever their stack supports:
//  - Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature:
//    v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, one space-separated entry per
//    live secret, where key = the base64 decoding of the secret after "whsec_". A stock
//    Standard Webhooks verifier accepts it with either secret alone.
//  - The simple scheme: `x-causeloop-signature: <hex HMAC-SHA256(secret string, body)>` and
//    `X-CauseFlow-Signature: sha256=<same hex>`, keyed with the newest secret's string bytes
//    (as `openssl dgst -sha256 -hmac "$SECRET"` does).
//
// Pure apart from GenerateSigningSecret's Random; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/random.h"
#include "core/result.h"

namespace causeloop::webhooks {

inline constexpr std::string_view kSigningSecretPrefix = "whsec_";

// A new endpoint signing secret: "whsec_" + base64 (standard alphabet, padded) of 32 bytes
// from `random` (production passes SecureRandom).
std::string GenerateSigningSecret(Random& random);

// The HMAC key of a Standard Webhooks secret: the base64 decoding of what follows "whsec_" (of
// the whole text when there is no prefix, as the Standard Webhooks libraries do). kValidation
// when that is not base64 or decodes to nothing.
Result<std::string> DecodeSigningSecret(std::string_view secret);

// "v1," + base64(HMAC-SHA256(DecodeSigningSecret(secret), "{msg_id}.{unix_seconds}.{body}")).
// Returns "" when the secret does not decode (secrets are validated when they are stored, so
// this is a bug, not an input error).
std::string StandardSignature(std::string_view secret, std::string_view msg_id,
                              int64_t unix_seconds, std::string_view body);

// The headers of one delivery attempt, in this order:
//   webhook-id: <event_id>                 (the same on every retry; receivers dedup on it)
//   webhook-timestamp: <unix_seconds>      (of this attempt)
//   webhook-signature: v1,<sig> [v1,<sig>…] (one per live secret, in the order given)
//   x-causeloop-signature: <hex>           (HMAC-SHA256(live_secrets[0] as written, body))
//   X-CauseFlow-Signature: sha256=<hex>    (the same digest)
//   x-causeloop-event: <event_type>
//   user-agent: causeloop/<version>
//   content-type: application/json
// `live_secrets` are the endpoint's secrets, newest first: the current one and, during a
// rotation's grace period, the previous one. Secrets that do not decode, and empty ones, are
// left out of webhook-signature. REQUIRES: live_secrets is not empty (with none, the three
// signature headers are omitted and every receiver will reject the delivery).
std::vector<std::pair<std::string, std::string>> DeliveryHeaders(
    std::string_view event_id, std::string_view event_type, int64_t unix_seconds,
    std::string_view body, const std::vector<std::string>& live_secrets, std::string_view version);

}  // namespace causeloop::webhooks

#include "webhooks/outbound/signing.h"

#include <array>

#include "auth/crypto.h"

namespace causeloop::webhooks {

std::string GenerateSigningSecret(Random& random) {
  std::array<unsigned char, 32> key{};
  random.Fill(key);
  std::string_view bytes(reinterpret_cast<const char*>(key.data()), key.size());
  return std::string(kSigningSecretPrefix) + auth::Base64Encode(bytes);
}

Result<std::string> DecodeSigningSecret(std::string_view secret) {
  if (secret.starts_with(kSigningSecretPrefix)) secret.remove_prefix(kSigningSecretPrefix.size());
  Result<std::string> key = auth::Base64Decode(secret);
  if (!key) return Fail(ErrorCode::kValidation, "signing secret is not base64 after \"whsec_\"");
  if (key->empty()) return Fail(ErrorCode::kValidation, "signing secret is empty");
  return key;
}

std::string StandardSignature(std::string_view secret, std::string_view msg_id,
                              int64_t unix_seconds, std::string_view body) {
  Result<std::string> key = DecodeSigningSecret(secret);
  if (!key) return {};
  std::string signed_content;
  signed_content.reserve(msg_id.size() + body.size() + 24);
  signed_content.append(msg_id).append(".").append(std::to_string(unix_seconds)).append(".");
  signed_content.append(body);
  return std::string("v1,").append(
      auth::Base64Encode(auth::AsChars(auth::HmacSha256(*key, signed_content))));
}

std::vector<std::pair<std::string, std::string>> DeliveryHeaders(
    std::string_view event_id, std::string_view event_type, int64_t unix_seconds,
    std::string_view body, const std::vector<std::string>& live_secrets, std::string_view version) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("webhook-id", std::string(event_id));
  headers.emplace_back("webhook-timestamp", std::to_string(unix_seconds));
  if (!live_secrets.empty()) {
    std::string signatures;
    for (const std::string& secret : live_secrets) {
      if (secret.empty()) continue;
      std::string signature = StandardSignature(secret, event_id, unix_seconds, body);
      if (signature.empty()) continue;
      if (!signatures.empty()) signatures.push_back(' ');
      signatures.append(signature);
    }
    headers.emplace_back("webhook-signature", std::move(signatures));
    std::string hex = auth::HmacSha256Hex(live_secrets.front(), body);
    headers.emplace_back("x-causeloop-signature", hex);
    headers.emplace_back("X-CauseFlow-Signature", "sha256=" + hex);
  }
  headers.emplace_back("x-causeloop-event", std::string(event_type));
  headers.emplace_back("user-agent", std::string("causeloop/").append(version));
  headers.emplace_back("content-type", "application/json");
  return headers;
}

}  // namespace causeloop::webhooks

#include "model/webhook.h"

namespace causeloop::model {

std::optional<SystemTime> PreviousSecretExpiry(const std::vector<WebhookSecret>& secrets,
                                               SystemTime now) {
  if (secrets.size() > 1 && secrets[1].expires_at && SecretIsLive(secrets[1].expires_at, now)) {
    return secrets[1].expires_at;
  }
  return std::nullopt;
}

const char* DeliveryStatusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "pending";
}

std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view name) {
  if (name == "pending") return DeliveryStatus::kPending;
  if (name == "delivered") return DeliveryStatus::kDelivered;
  if (name == "failed") return DeliveryStatus::kFailed;
  return std::nullopt;
}

}  // namespace causeloop::model

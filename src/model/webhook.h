#pragma once
// Outbound webhook endpoints, their deliveries and delivery attempts (SPEC §7.2).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace causeloop::model {

// A signing secret as stored: sealed with the server's secret key, never in the clear.
struct WebhookSecret {
  std::string sealed;
  std::optional<SystemTime> expires_at;  // set on the previous secret during a rotation
};

// Whether a secret (outbound or inbound) still signs and verifies at `now`: the current one
// has no expiry, a previous one lives until the end of its grace period.
inline bool SecretIsLive(const std::optional<SystemTime>& expires_at, SystemTime now) {
  return !expires_at || *expires_at > now;
}
// When the previous secret (secrets are newest first) stops verifying, while it still does;
// nullopt without a rotation in progress.
std::optional<SystemTime> PreviousSecretExpiry(const std::vector<WebhookSecret>& secrets,
                                               SystemTime now);

struct WebhookEndpoint {
  std::string id;  // whe_…
  std::string workspace_id;
  std::string url;
  std::string description;
  std::vector<std::string> event_types;    // empty: every type
  std::vector<std::string> connector_ids;  // empty: every source
  bool enabled = true;
  std::string disabled_reason;         // "gone" (410), "failing" (5 days), "manual"
  std::vector<WebhookSecret> secrets;  // newest first
  std::optional<SystemTime> failing_since;
  SystemTime created_at{};
  SystemTime updated_at{};
};

enum class DeliveryStatus { kPending, kDelivered, kFailed };
const char* DeliveryStatusName(DeliveryStatus status);
std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view name);

struct WebhookAttempt {
  int number = 0;  // 1-based over the delivery's life (manual redeliveries continue it)
  SystemTime at{};
  int status_code = 0;  // 0: no HTTP response
  long long latency_ms = 0;
  std::string error;
  std::string response_excerpt;
};

struct WebhookDelivery {
  std::string id;  // whd_…
  std::string workspace_id;
  std::string endpoint_id;
  std::string event_id;
  long long event_sequence = 0;
  std::string event_type;
  std::string payload;    // the event JSON as sent
  std::string order_key;  // deliveries with one key go out one at a time, in sequence order
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;        // attempts made in all
  int cycle_attempts = 0;  // attempts since the schedule last restarted (redeliver, recover)
  SystemTime next_attempt_at{};
  SystemTime created_at{};
  SystemTime updated_at{};
  std::vector<WebhookAttempt> attempt_log;  // filled by reads that ask for it
};

}  // namespace causeloop::model

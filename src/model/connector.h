#pragma once
// Connectors (SPEC §8.2), minimal for now: identity, type, status and inbound webhook delivery
// (SPEC §6.1); the alert-webhook settings of a workspace (SPEC §6.2); inbound receiver
// statistics for the health view.
//
// The resource is shaped so polling, OAuth and schedules fit later: credentials are one sealed
// JSON object, config and schedule are JSON objects, and `status` already takes the values
// those features will set.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "model/webhook.h"

namespace causeloop::model {

struct Connector {
  std::string id;  // con_…
  std::string workspace_id;
  std::string type;  // a connector type: jira, pagerduty, github, sentry, alertmanager, …
  std::string display_name;
  // inbound_only (no credentials), pending (credentials not tested yet), connected, error,
  // paused, needs_reauth.
  std::string status = "inbound_only";
  std::string config_json = "{}";    // non-secret settings, a JSON object
  std::string schedule_json = "{}";  // {"interval_minutes": 30} or {"cron": "…"}
  int backfill_days = 90;
  std::string credentials_sealed;  // a sealed JSON object; empty when none. Never returned.
  bool inbound_enabled = false;
  // Inbound signing secrets, sealed, newest first; the previous one carries its expiry during
  // a rotation's grace period.
  std::vector<WebhookSecret> inbound_secrets;
  SystemTime created_at{};
  SystemTime updated_at{};
};

// SPEC §6.2: the workspace's alert-webhook secret and per-provider signature requirement.
struct AlertWebhookSettings {
  std::string workspace_id;
  std::vector<WebhookSecret> secrets;  // sealed, newest first; empty until first rotation
  // provider -> require_signature; a provider that is absent requires it.
  std::map<std::string, bool> require_signature;
  std::optional<SystemTime> updated_at;
};

// One receiver's recent history: "connector:<con_id>" for SPEC §6.1, "alert:<provider>" for
// SPEC §6.2.
struct ReceiverStats {
  std::string workspace_id;
  std::string receiver;
  std::optional<SystemTime> last_delivery_at;  // last delivery that passed verification
  std::optional<SystemTime> last_failure_at;   // last signature failure
  std::string last_failure_reason;             // why it failed (never the secret or body)
  long long deliveries_24h = 0;
  long long signature_failures_24h = 0;
};

// The receiver names ReceiverStats and replay memory are kept under.
inline std::string ConnectorReceiver(std::string_view connector_id) {
  return "connector:" + std::string(connector_id);
}
inline std::string AlertReceiver(std::string_view provider) {
  return "alert:" + std::string(provider);
}

}  // namespace causeloop::model

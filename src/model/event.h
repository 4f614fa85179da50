#pragma once
// The event envelope (SPEC §7.1). `data_json` is the serialized `data` object.

#include <array>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace causeloop::model {

struct Event {
  std::string id;  // evt_…
  std::string type;
  SystemTime timestamp{};
  std::string workspace_id;
  long long sequence = 0;  // per workspace, gap-free, assigned by the store at commit
  std::string data_json = "{}";
};

// The event catalog (SPEC §7.1), in catalog order: the one list every part of the service
// (webhook filters, the live stream's ?types=) checks names against.
inline constexpr std::array<std::string_view, 15> kEventCatalog = {
    "issue.created",
    "issue.updated",
    "issue.resolved",
    "pattern.detected",
    "pattern.updated",
    "pattern.reopened",
    "prediction.alert.fired",
    "recommendation.created",
    "recommendation.updated",
    "sync.succeeded",
    "sync.failed",
    "connector.connected",
    "connector.disconnected",
    "connector.health_changed",
    "webhook.endpoint_disabled",
};

// A catalog type, or "ping" (sent by POST /v1/webhooks/{id}/test, never logged).
bool IsEventType(std::string_view type);

// The event as one JSON object (the wire form used by the API, webhooks and the stream).
std::string EncodeEvent(const Event& event);

}  // namespace causeloop::model

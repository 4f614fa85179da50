#pragma once
// The event envelope (SPEC §7.1). `data_json` is the serialized `data` object.

#include <string>
#include <string_view>
#include <vector>

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

// The event catalog (SPEC §7.1) plus "ping" (outbound webhook tests).
const std::vector<std::string_view>& EventTypes();
bool IsEventType(std::string_view type);

// The event as one JSON object (the wire form used by the API, webhooks and the stream).
std::string EncodeEvent(const Event& event);

}  // namespace causeloop::model

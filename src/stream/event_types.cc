#include "stream/event_types.h"

#include <array>
#include <string>

namespace causeloop::stream {

namespace {

constexpr std::array<std::string_view, 15> kCatalog = {
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
static_assert(kCatalog.size() <= 32, "TypeFilter keeps the set in a 32-bit mask");

}  // namespace

std::span<const std::string_view> EventCatalog() { return kCatalog; }

int EventTypeIndex(std::string_view type) {
  for (size_t i = 0; i < kCatalog.size(); ++i) {
    if (kCatalog[i] == type) return static_cast<int>(i);
  }
  return -1;
}

Result<TypeFilter> TypeFilter::Parse(std::string_view comma_separated) {
  TypeFilter filter;
  filter.all_ = false;
  size_t start = 0;
  while (start <= comma_separated.size()) {
    size_t comma = comma_separated.find(',', start);
    if (comma == std::string_view::npos) comma = comma_separated.size();
    std::string_view item = comma_separated.substr(start, comma - start);
    start = comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    const int index = EventTypeIndex(item);
    if (index < 0) {
      return FailField("types", "unknown event type '" + std::string(item.substr(0, 64)) +
                                    "' (see the event catalog, SPEC 7.1)");
    }
    filter.mask_ |= 1u << index;
  }
  if (filter.mask_ == 0) return FailField("types", "types must name at least one event type");
  return filter;
}

}  // namespace causeloop::stream

#include "stream/event_types.h"

#include <string>

#include "model/event.h"

namespace causeloop::stream {

static_assert(model::kEventCatalog.size() <= 32, "TypeFilter keeps the set in a 32-bit mask");

std::span<const std::string_view> EventCatalog() { return model::kEventCatalog; }

int EventTypeIndex(std::string_view type) {
  const auto& catalog = model::kEventCatalog;
  for (size_t i = 0; i < catalog.size(); ++i) {
    if (catalog[i] == type) return static_cast<int>(i);
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

#pragma once
// The event catalog (SPEC §7.1) and a filter over it, for `?types=` on the live stream.

#include <cstdint>
#include <span>
#include <string_view>

#include "core/result.h"

namespace causeloop::stream {

// Every event type of SPEC §7.1, in catalog order.
std::span<const std::string_view> EventCatalog();

// The type's index in EventCatalog(), or -1 when it is not in the catalog.
int EventTypeIndex(std::string_view type);

// A set of catalog types; the default matches every event (including any type not in the
// catalog). Cheap to copy; Matches() is a bit test.
class TypeFilter {
 public:
  TypeFilter() = default;

  // "a,b" -> a filter matching exactly those types. Empty items are skipped. kValidation
  // (detail "types") for a name not in the catalog or when no name is given.
  static Result<TypeFilter> Parse(std::string_view comma_separated);

  [[nodiscard]] bool all() const { return all_; }
  [[nodiscard]] bool Matches(int type_index) const {
    return all_ || (type_index >= 0 && (mask_ >> type_index & 1u) != 0);
  }
  [[nodiscard]] bool Matches(std::string_view type) const {
    return all_ || Matches(EventTypeIndex(type));
  }

 private:
  bool all_ = true;
  uint32_t mask_ = 0;
};

}  // namespace causeloop::stream

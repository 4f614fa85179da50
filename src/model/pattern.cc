#include "model/pattern.h"

namespace causeloop::model {

const char* PatternStatusName(PatternStatus s) {
  switch (s) {
    case PatternStatus::kEmerging:
      return "emerging";
    case PatternStatus::kActive:
      return "active";
    case PatternStatus::kWatching:
      return "watching";
    case PatternStatus::kResolved:
      return "resolved";
  }
  return "emerging";
}

std::optional<PatternStatus> ParsePatternStatus(std::string_view s) {
  if (s == "emerging") return PatternStatus::kEmerging;
  if (s == "active") return PatternStatus::kActive;
  if (s == "watching") return PatternStatus::kWatching;
  if (s == "resolved") return PatternStatus::kResolved;
  return std::nullopt;
}

PatternStatus StatusForCount(PatternStatus current, long long issue_count) {
  if (current == PatternStatus::kWatching || current == PatternStatus::kResolved) return current;
  return issue_count < 3 ? PatternStatus::kEmerging : PatternStatus::kActive;
}

}  // namespace causeloop::model

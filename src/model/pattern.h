#pragma once
// A pattern: one recurring failure, the issues that share its root cause (SPEC §10).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace causeloop::model {

// emerging = fewer than 3 issues; active otherwise; watching = a fix is being proven;
// resolved = the proof window passed. Emerging/active follow the issue count; watching and
// resolved are set explicitly (PATCH, and later the recommendation loop).
enum class PatternStatus { kEmerging, kActive, kWatching, kResolved };

const char* PatternStatusName(PatternStatus s);
std::optional<PatternStatus> ParsePatternStatus(std::string_view s);
// The status a pattern with `issue_count` issues has, given its current status.
PatternStatus StatusForCount(PatternStatus current, long long issue_count);

struct Pattern {
  std::string id;  // pat_…
  std::string workspace_id;
  std::string title;
  bool title_overridden = false;  // set by PATCH: later issues do not retitle it
  std::string template_text;      // the engine's template, "<*>" for variable parts
  std::string fingerprint;        // 16 hex digits: the founding issue's masked-form hash
  PatternStatus status = PatternStatus::kEmerging;
  long long issue_count = 0;
  double risk_score = 0;
  std::string merged_into;       // pat_… when merged into another pattern; else empty
  long long engine_cluster = 0;  // the engine's cluster id; 0 for a manual pattern
  SystemTime first_seen_at{};
  SystemTime last_seen_at{};
  SystemTime created_at{};
  SystemTime updated_at{};
};

// Detail fields computed from the pattern's issues (GET /v1/patterns/{id}).
struct PatternDetail {
  std::vector<std::string> services;
  std::vector<std::string> sources;
  // Issues first seen per UTC day, oldest first, over the last `histogram_days` days.
  std::vector<std::pair<std::string, long long>> occurrences;  // ("2026-11-22", n)
};

}  // namespace causeloop::model

#pragma once
// The canonical issue (SPEC §5.1) and the normalized record that ingest writes.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace causeloop::model {

enum class Severity { kP1 = 1, kP2 = 2, kP3 = 3, kP4 = 4 };
enum class IssueStatus { kOpen, kInProgress, kResolved, kClosed };

const char* SeverityName(Severity s);  // "p1"…"p4"
const char* IssueStatusName(IssueStatus s);
std::optional<IssueStatus> ParseIssueStatus(std::string_view s);     // canonical names only
std::optional<Severity> ParseCanonicalSeverity(std::string_view s);  // "p1"…"p4" only

// The known sources (SPEC §5.1). Anything else is coerced to "custom_api".
bool IsKnownSource(std::string_view source);

struct Resolution {
  std::string summary;
  std::string fix;
  std::string fix_url;
  std::string resolved_by;
  std::string source_field;  // where the source recorded it, e.g. "close_notes"
  [[nodiscard]] bool empty() const {
    return summary.empty() && fix.empty() && fix_url.empty() && resolved_by.empty();
  }
};

// A validated, normalized signal: what every door into the pipeline produces.
struct IssueRecord {
  std::string source = "custom_api";
  std::string source_raw;  // the original source value when it was coerced; else empty
  std::string external_id;
  bool external_id_derived = false;  // true when derived from a content hash
  std::string title;
  bool title_truncated = false;
  std::string body;
  bool body_truncated = false;
  std::optional<Severity> severity;   // absent -> p3 on create, unchanged on update
  std::optional<IssueStatus> status;  // absent -> open on create, unchanged on update
  std::string service;
  std::string environment;
  std::string team;
  std::map<std::string, std::string> labels;
  std::string metadata_json;  // a JSON object as given (minified), or empty
  std::string external_url;
  std::string connector_id;
  std::optional<SystemTime> source_created_at;
  std::optional<SystemTime> source_updated_at;
  std::optional<Resolution> resolution;
  // Only update an existing issue: when (source, external_id) is unknown nothing is written and
  // the outcome has an empty issue_id (a "resolved" webhook for an alert never seen).
  bool update_only = false;
};

struct Issue {
  std::string id;
  std::string workspace_id;
  std::string source;
  std::string source_raw;
  std::string external_id;
  std::string title;
  bool title_truncated = false;
  std::string body;
  bool body_truncated = false;
  Severity severity = Severity::kP3;
  IssueStatus status = IssueStatus::kOpen;
  std::string service;
  std::string environment;
  std::string team;
  std::string assignee;
  std::map<std::string, std::string> labels;
  std::string metadata_json = "{}";
  std::string external_url;
  std::string connector_id;
  std::string pattern_id;  // empty until clustering assigns one
  long long occurrences = 1;
  double risk_score = 0;
  std::optional<SystemTime> source_created_at;
  std::optional<SystemTime> source_updated_at;
  SystemTime first_seen_at{};
  SystemTime last_seen_at{};
  std::optional<SystemTime> resolved_at;
  SystemTime created_at{};
  SystemTime updated_at{};
  std::optional<Resolution> resolution;
};

}  // namespace causeloop::model

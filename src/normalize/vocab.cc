#include "normalize/vocab.h"

#include <string>

#include "normalize/text.h"

namespace causeloop::normalize {
namespace {

using model::IssueStatus;
using model::Severity;

struct SeverityWord {
  std::string_view word;
  Severity severity;
};
struct StatusWord {
  std::string_view word;
  IssueStatus status;
};
struct SourceSeverityWord {
  std::string_view source;
  std::string_view word;
  Severity severity;
};
struct SourceStatusWord {
  std::string_view source;
  std::string_view word;
  IssueStatus status;
};

// Generic severity words, lower-case. "sevN"/"sev-N"/"sev N"/"sN" and bare digits are handled
// in code so the table stays readable. Five-level scales fold their last level into p4.
constexpr SeverityWord kSeverityWords[] = {
    {"p0", Severity::kP1},        {"p1", Severity::kP1},
    {"p2", Severity::kP2},        {"p3", Severity::kP3},
    {"p4", Severity::kP4},        {"p5", Severity::kP4},
    {"critical", Severity::kP1},  {"crit", Severity::kP1},
    {"blocker", Severity::kP1},   {"fatal", Severity::kP1},
    {"emergency", Severity::kP1}, {"emerg", Severity::kP1},
    {"urgent", Severity::kP1},    {"highest", Severity::kP1},
    {"disaster", Severity::kP1},  {"page", Severity::kP1},
    {"high", Severity::kP2},      {"major", Severity::kP2},
    {"error", Severity::kP2},     {"err", Severity::kP2},
    {"severe", Severity::kP2},    {"alert", Severity::kP2},
    {"medium", Severity::kP3},    {"moderate", Severity::kP3},
    {"normal", Severity::kP3},    {"warning", Severity::kP3},
    {"warn", Severity::kP3},      {"average", Severity::kP3},
    {"low", Severity::kP4},       {"minor", Severity::kP4},
    {"lowest", Severity::kP4},    {"trivial", Severity::kP4},
    {"info", Severity::kP4},      {"informational", Severity::kP4},
    {"notice", Severity::kP4},    {"debug", Severity::kP4},
    {"planning", Severity::kP4},  {"none", Severity::kP4},
};

// Status synonyms, lower-case with spaces and hyphens already turned into '_':
//   open        <- open, new, triggered, firing, active, unresolved, reopened, todo, to_do,
//                  backlog, problem, alerting, pending
//   in_progress <- in_progress, acknowledged, ack, acked, investigating, identified,
//                  mitigating, working, on_hold, assigned, started, suppressed
//   resolved    <- resolved, done, fixed, completed, complete, ok, recovered, mitigated,
//                  solved, success
//   closed      <- closed, cancelled, canceled, wont_fix, won't_fix, wontfix, duplicate,
//                  not_planned, ignored, archived, rejected, invalid
constexpr StatusWord kStatusWords[] = {
    {"open", IssueStatus::kOpen},
    {"new", IssueStatus::kOpen},
    {"triggered", IssueStatus::kOpen},
    {"firing", IssueStatus::kOpen},
    {"active", IssueStatus::kOpen},
    {"unresolved", IssueStatus::kOpen},
    {"reopened", IssueStatus::kOpen},
    {"todo", IssueStatus::kOpen},
    {"to_do", IssueStatus::kOpen},
    {"backlog", IssueStatus::kOpen},
    {"problem", IssueStatus::kOpen},
    {"alerting", IssueStatus::kOpen},
    {"pending", IssueStatus::kOpen},
    {"in_progress", IssueStatus::kInProgress},
    {"acknowledged", IssueStatus::kInProgress},
    {"ack", IssueStatus::kInProgress},
    {"acked", IssueStatus::kInProgress},
    {"investigating", IssueStatus::kInProgress},
    {"identified", IssueStatus::kInProgress},
    {"mitigating", IssueStatus::kInProgress},
    {"working", IssueStatus::kInProgress},
    {"on_hold", IssueStatus::kInProgress},
    {"assigned", IssueStatus::kInProgress},
    {"started", IssueStatus::kInProgress},
    {"suppressed", IssueStatus::kInProgress},
    {"resolved", IssueStatus::kResolved},
    {"done", IssueStatus::kResolved},
    {"fixed", IssueStatus::kResolved},
    {"completed", IssueStatus::kResolved},
    {"complete", IssueStatus::kResolved},
    {"ok", IssueStatus::kResolved},
    {"recovered", IssueStatus::kResolved},
    {"mitigated", IssueStatus::kResolved},
    {"solved", IssueStatus::kResolved},
    {"success", IssueStatus::kResolved},
    {"closed", IssueStatus::kClosed},
    {"cancelled", IssueStatus::kClosed},
    {"canceled", IssueStatus::kClosed},
    {"wont_fix", IssueStatus::kClosed},
    {"won't_fix", IssueStatus::kClosed},
    {"wontfix", IssueStatus::kClosed},
    {"duplicate", IssueStatus::kClosed},
    {"not_planned", IssueStatus::kClosed},
    {"ignored", IssueStatus::kClosed},
    {"archived", IssueStatus::kClosed},
    {"rejected", IssueStatus::kClosed},
    {"invalid", IssueStatus::kClosed},
};

// Each source's native severity values (SPEC §9), lower-case.
constexpr SourceSeverityWord kSourceSeverityWords[] = {
    // Jira priority names (Cloud defaults; "Lowest" folds into p4).
    {"jira", "highest", Severity::kP1},
    {"jira", "high", Severity::kP2},
    {"jira", "medium", Severity::kP3},
    {"jira", "low", Severity::kP4},
    {"jira", "lowest", Severity::kP4},
    // Jira Server's classic scheme.
    {"jira", "blocker", Severity::kP1},
    {"jira", "critical", Severity::kP1},
    {"jira", "major", Severity::kP2},
    {"jira", "minor", Severity::kP4},
    {"jira", "trivial", Severity::kP4},
    // PagerDuty priority.summary, then urgency as a fallback (prefixed "urgency:"). Urgency
    // says whether to page now, not how bad it is: high is p2 unless a priority says p1.
    {"pagerduty", "p1", Severity::kP1},
    {"pagerduty", "p2", Severity::kP2},
    {"pagerduty", "p3", Severity::kP3},
    {"pagerduty", "p4", Severity::kP4},
    {"pagerduty", "p5", Severity::kP4},
    {"pagerduty", "urgency:high", Severity::kP2},
    {"pagerduty", "urgency:low", Severity::kP4},
    // ServiceNow priority 1 Critical, 2 High, 3 Moderate, 4 Low, 5 Planning.
    {"servicenow", "1", Severity::kP1},
    {"servicenow", "2", Severity::kP2},
    {"servicenow", "3", Severity::kP3},
    {"servicenow", "4", Severity::kP4},
    {"servicenow", "5", Severity::kP4},
    // Datadog alert_type (v1) / status (v2); monitor priorities 1..5 go through the generic
    // table.
    {"datadog", "failure", Severity::kP1},
    {"datadog", "error", Severity::kP2},
    {"datadog", "warning", Severity::kP3},
    {"datadog", "info", Severity::kP4},
    {"datadog", "success", Severity::kP4},
    {"datadog", "user_update", Severity::kP4},
    {"datadog", "recommendation", Severity::kP4},
    {"datadog", "snapshot", Severity::kP4},
    // Sentry level.
    {"sentry", "fatal", Severity::kP1},
    {"sentry", "error", Severity::kP2},
    {"sentry", "warning", Severity::kP3},
    {"sentry", "info", Severity::kP4},
    {"sentry", "debug", Severity::kP4},
    {"sentry", "sample", Severity::kP4},
    // Alertmanager `severity` label: the common Prometheus conventions.
    {"alertmanager", "critical", Severity::kP1},
    {"alertmanager", "page", Severity::kP1},
    {"alertmanager", "emergency", Severity::kP1},
    {"alertmanager", "error", Severity::kP2},
    {"alertmanager", "high", Severity::kP2},
    {"alertmanager", "major", Severity::kP2},
    {"alertmanager", "warning", Severity::kP3},
    {"alertmanager", "warn", Severity::kP3},
    {"alertmanager", "medium", Severity::kP3},
    {"alertmanager", "info", Severity::kP4},
    {"alertmanager", "low", Severity::kP4},
    {"alertmanager", "minor", Severity::kP4},
    {"alertmanager", "none", Severity::kP4},
};

// Each source's native status values, lower-case.
constexpr SourceStatusWord kSourceStatusWords[] = {
    // Jira status category keys.
    {"jira", "new", IssueStatus::kOpen},
    {"jira", "undefined", IssueStatus::kOpen},
    {"jira", "indeterminate", IssueStatus::kInProgress},
    {"jira", "done", IssueStatus::kResolved},
    {"pagerduty", "triggered", IssueStatus::kOpen},
    {"pagerduty", "acknowledged", IssueStatus::kInProgress},
    {"pagerduty", "resolved", IssueStatus::kResolved},
    // GitHub state, and state_reason for closed issues (prefixed "closed:").
    {"github", "open", IssueStatus::kOpen},
    {"github", "closed", IssueStatus::kResolved},
    {"github", "closed:completed", IssueStatus::kResolved},
    {"github", "closed:not_planned", IssueStatus::kClosed},
    {"github", "closed:duplicate", IssueStatus::kClosed},
    // ServiceNow incident state: 1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed,
    // 8 Canceled (4 and 5 exist on older instances as "Awaiting …").
    {"servicenow", "1", IssueStatus::kOpen},
    {"servicenow", "2", IssueStatus::kInProgress},
    {"servicenow", "3", IssueStatus::kInProgress},
    {"servicenow", "4", IssueStatus::kInProgress},
    {"servicenow", "5", IssueStatus::kInProgress},
    {"servicenow", "6", IssueStatus::kResolved},
    {"servicenow", "7", IssueStatus::kClosed},
    {"servicenow", "8", IssueStatus::kClosed},
    // Datadog: a recovery ("success") resolves; every other alert type is an open signal.
    {"datadog", "error", IssueStatus::kOpen},
    {"datadog", "failure", IssueStatus::kOpen},
    {"datadog", "warning", IssueStatus::kOpen},
    {"datadog", "info", IssueStatus::kOpen},
    {"datadog", "success", IssueStatus::kResolved},
    {"sentry", "unresolved", IssueStatus::kOpen},
    {"sentry", "resolved", IssueStatus::kResolved},
    {"sentry", "ignored", IssueStatus::kClosed},
    {"sentry", "muted", IssueStatus::kClosed},
    {"sentry", "archived", IssueStatus::kClosed},
    // Alertmanager webhook status, and API v2 status.state.
    {"alertmanager", "firing", IssueStatus::kOpen},
    {"alertmanager", "resolved", IssueStatus::kResolved},
    {"alertmanager", "active", IssueStatus::kOpen},
    {"alertmanager", "unprocessed", IssueStatus::kOpen},
    {"alertmanager", "suppressed", IssueStatus::kInProgress},
};

std::string Key(std::string_view word) { return LowerAscii(TrimAscii(word)); }

// "sev1", "sev-1", "sev 1", "sev_1", "s1", "severity1", "1"…"5" → 1…5 (0 counts as 1).
std::optional<int> SeverityNumber(std::string_view key) {
  for (std::string_view prefix : {"severity", "sev", "s"}) {
    if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix) {
      std::string_view rest = key.substr(prefix.size());
      if (rest.front() == '-' || rest.front() == ' ' || rest.front() == '_') rest.remove_prefix(1);
      if (rest.size() == 1 && rest[0] >= '0' && rest[0] <= '5') return rest[0] - '0';
      return std::nullopt;
    }
  }
  if (key.size() == 1 && key[0] >= '1' && key[0] <= '5') return key[0] - '0';
  return std::nullopt;
}

}  // namespace

std::optional<model::Severity> LookupSeverity(std::string_view word) {
  std::string key = Key(word);
  for (const auto& row : kSeverityWords) {
    if (row.word == key) return row.severity;
  }
  if (auto n = SeverityNumber(key)) {
    int level = *n == 0 ? 1 : (*n > 4 ? 4 : *n);
    return static_cast<Severity>(level);
  }
  return std::nullopt;
}

std::optional<model::IssueStatus> LookupStatus(std::string_view word) {
  std::string key = Key(word);
  for (char& c : key) {
    if (c == ' ' || c == '-') c = '_';
  }
  for (const auto& row : kStatusWords) {
    if (row.word == key) return row.status;
  }
  return std::nullopt;
}

std::optional<model::Severity> LookupSourceSeverity(std::string_view source,
                                                    std::string_view word) {
  std::string key = Key(word);
  for (const auto& row : kSourceSeverityWords) {
    if (row.source == source && row.word == key) return row.severity;
  }
  return std::nullopt;
}

std::optional<model::IssueStatus> LookupSourceStatus(std::string_view source,
                                                     std::string_view word) {
  std::string key = Key(word);
  for (const auto& row : kSourceStatusWords) {
    if (row.source == source && row.word == key) return row.status;
  }
  return std::nullopt;
}

}  // namespace causeloop::normalize

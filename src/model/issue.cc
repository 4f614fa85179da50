#include "model/issue.h"

#include <array>

namespace causeloop::model {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kP1:
      return "p1";
    case Severity::kP2:
      return "p2";
    case Severity::kP3:
      return "p3";
    case Severity::kP4:
      return "p4";
  }
  return "p3";
}

const char* IssueStatusName(IssueStatus s) {
  switch (s) {
    case IssueStatus::kOpen:
      return "open";
    case IssueStatus::kInProgress:
      return "in_progress";
    case IssueStatus::kResolved:
      return "resolved";
    case IssueStatus::kClosed:
      return "closed";
  }
  return "open";
}

std::optional<IssueStatus> ParseIssueStatus(std::string_view s) {
  if (s == "open") return IssueStatus::kOpen;
  if (s == "in_progress") return IssueStatus::kInProgress;
  if (s == "resolved") return IssueStatus::kResolved;
  if (s == "closed") return IssueStatus::kClosed;
  return std::nullopt;
}

std::optional<Severity> ParseCanonicalSeverity(std::string_view s) {
  if (s == "p1") return Severity::kP1;
  if (s == "p2") return Severity::kP2;
  if (s == "p3") return Severity::kP3;
  if (s == "p4") return Severity::kP4;
  return std::nullopt;
}

bool IsKnownSource(std::string_view source) {
  static constexpr std::array<std::string_view, 12> kSources = {
      "jira",   "pagerduty", "github",       "servicenow", "datadog",    "sentry",
      "gitlab", "opsgenie",  "alertmanager", "grafana",    "cloudwatch", "custom_api"};
  for (auto k : kSources) {
    if (k == source) return true;
  }
  return false;
}

}  // namespace causeloop::model

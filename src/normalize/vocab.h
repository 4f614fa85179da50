#pragma once
// The vocabularies, as data: generic severity and status words, and each source's native
// values (SPEC §9). Lookups are case-insensitive and ignore surrounding whitespace.

#include <optional>
#include <string_view>

#include "model/issue.h"

namespace causeloop::normalize {

// Any generic severity word ("critical", "P2", "sev-1", "3", …); nullopt when unknown.
std::optional<model::Severity> LookupSeverity(std::string_view word);

// A canonical status or a common synonym ("acknowledged", "firing", "done", …).
std::optional<model::IssueStatus> LookupStatus(std::string_view word);

// A source's own vocabulary, e.g. ("jira", "Highest") or ("servicenow", "6"). Only the
// source's table is consulted: callers fall back to the generic tables themselves.
std::optional<model::Severity> LookupSourceSeverity(std::string_view source, std::string_view word);
std::optional<model::IssueStatus> LookupSourceStatus(std::string_view source,
                                                     std::string_view word);

}  // namespace causeloop::normalize

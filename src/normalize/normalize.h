#pragma once
// Normalization: one signal, in the canonical ingest shape (SPEC §5.1) or in a source's native
// shape (SPEC §9), becomes a validated model::IssueRecord.
//
// Pure: data in, data out. No IO, no clock, no state; every function is thread-safe.
// Elements passed in must stay alive (their simdjson parser untouched) for the duration of the
// call only: the returned record owns copies of everything it keeps.
//
// Error convention for every Result here: Error{ErrorCode::kValidation, <reason>,
// details = {{<field>, <reason>}}}, where <field> is the JSON field name ("title", "labels",
// "fields.summary" for a nested native field) or "" when the record itself is wrong (not an
// object).

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "model/issue.h"

namespace causeloop::normalize {

// Limits applied to every record (SPEC §5.1).
inline constexpr size_t kMaxTitleCodePoints = 300;
inline constexpr size_t kMaxBodyBytes = size_t{64} * 1024;

// Decodes one canonical ingest record (SPEC §5.1 fields, §5.2 rejection rules).
//
// Accepted fields (unknown ones are ignored; a null value counts as absent):
//   source, external_id, title, body (alias "description"), severity, status, service,
//   environment, team, labels (alias "tags": an object, or an array of "key:value" strings),
//   metadata (object), external_url (http/https), source_created_at (aliases "created_at",
//   "timestamp"), source_updated_at (alias "updated_at"), resolution {summary, fix, fix_url,
//   resolved_by, source_field}. connector_id is ignored: the server sets it.
// Rejects: not an object (field ""); a known field of the wrong JSON type; a severity in no
// vocabulary (see ParseSeverity); a status that is neither canonical nor a known synonym; a
// timestamp that is not RFC 3339; an external_url that is not http(s); neither a non-empty
// title nor a non-empty external_id.
// Normalizes: source (trimmed, lower-cased, unknown -> "custom_api" with source_raw), title
// (whitespace collapsed, trimmed, falls back to external_id, ≤ 300 code points), body
// (≤ 64 KiB at a UTF-8 boundary), external_id (derived from a content hash when absent).
Result<model::IssueRecord> DecodeRecord(simdjson::dom::element record);

// Sources with a native shape supported by POST /v1/ingest/{source}/issues: jira, pagerduty,
// github, servicenow, datadog, sentry, alertmanager.
bool IsNativeSource(std::string_view source);

// Maps one record in `source`'s native shape to the canonical record (SPEC §9). The external_id
// is the provider's stable id (Jira key, PagerDuty id, GitHub "owner/repo#number", ServiceNow
// sys_id, Datadog event id, Sentry issue id, Alertmanager fingerprint). kValidation (field "")
// for a source that IsNativeSource() rejects.
Result<model::IssueRecord> NormalizeNative(std::string_view source, simdjson::dom::element payload);

// Severity from any accepted vocabulary, case-insensitive: p0..p5/P1..P5, critical/high/medium/
// low/info (and synonyms such as blocker, major, minor, warning, error, fatal, highest, lowest),
// numeric 1..5 as a JSON number or a string, "sev1".."sev5"/"sev-1"/"s1". 5 and "info" map to
// p4. nullopt when the value is in no vocabulary or is neither a string nor a number.
std::optional<model::Severity> ParseSeverity(simdjson::dom::element value);
// The same vocabulary over a string.
std::optional<model::Severity> ParseSeverityText(std::string_view text);

// Status from the canonical names or a common synonym (see vocab.cc), case-insensitive.
std::optional<model::IssueStatus> ParseStatusText(std::string_view text);

// JSON form of a record with a stable key order; every field is present (null when unset),
// labels sorted by key, metadata embedded as JSON. Used by golden tests and the import tool.
std::string EncodeRecord(const model::IssueRecord& record);

// Re-indents compact JSON (such as EncodeRecord's output) with two spaces per level, one
// member per line, leaving string contents untouched; for golden files people review.
std::string PrettyJson(std::string_view json);

}  // namespace causeloop::normalize

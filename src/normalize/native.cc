// Dispatch of POST /v1/ingest/{source}/issues payloads to the per-source mappers.

#include "normalize/internal.h"
#include "normalize/normalize.h"
#include "normalize/vocab.h"

namespace causeloop::normalize {
namespace {

struct NativeMapper {
  std::string_view source;
  Result<model::IssueRecord> (*map)(simdjson::dom::element);
};

constexpr NativeMapper kMappers[] = {
    {"jira", internal::NativeJira},
    {"pagerduty", internal::NativePagerDuty},
    {"github", internal::NativeGitHub},
    {"servicenow", internal::NativeServiceNow},
    {"datadog", internal::NativeDatadog},
    {"sentry", internal::NativeSentry},
    {"alertmanager", internal::NativeAlertmanager},
};

}  // namespace

namespace internal {

std::optional<model::Severity> SeverityFor(std::string_view source, std::string_view word) {
  if (auto s = LookupSourceSeverity(source, word)) return s;
  return LookupSeverity(word);
}

std::optional<model::IssueStatus> StatusFor(std::string_view source, std::string_view word) {
  if (auto s = LookupSourceStatus(source, word)) return s;
  return LookupStatus(word);
}

}  // namespace internal

bool IsNativeSource(std::string_view source) {
  for (const auto& m : kMappers) {
    if (m.source == source) return true;
  }
  return false;
}

Result<model::IssueRecord> NormalizeNative(std::string_view source,
                                           simdjson::dom::element payload) {
  for (const auto& m : kMappers) {
    if (m.source != source) continue;
    auto record = m.map(payload);
    if (!record) return record;
    record->source = std::string(source);
    record->connector_id.clear();
    return internal::Finalize(std::move(*record));
  }
  return Fail(internal::FieldError(
      "", "source \"" + std::string(source) + "\" has no native shape; use the canonical one"));
}

}  // namespace causeloop::normalize

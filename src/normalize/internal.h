#pragma once
// Shared machinery of the normalizers: typed field access over simdjson DOM objects with
// field-named errors, the final normalization step every record goes through, and the
// per-source native mappers. Not part of the module's public API.

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "model/issue.h"

namespace causeloop::normalize::internal {

// Evaluates `expr` (a Result<T>); on error returns it from the enclosing function, else
// declares `var` holding the value. (`var` names a declaration: it cannot be parenthesized.)
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CAUSELOOP_TRY_ASSIGN(var, expr)                                      \
  auto var##_result = (expr);                                                \
  if (!var##_result) return tl::unexpected(std::move(var##_result.error())); \
  auto var = std::move(*var##_result)
// NOLINTEND(bugprone-macro-parentheses)

// A JSON object and the dotted path it was reached by, so errors can name the field.
class ObjectView {
 public:
  // kValidation with field "" unless `e` is an object.
  static Result<ObjectView> Root(simdjson::dom::element e);
  ObjectView(simdjson::dom::object obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  // The field's value; nullopt when absent or JSON null.
  [[nodiscard]] std::optional<simdjson::dom::element> Get(std::string_view key) const;
  [[nodiscard]] bool Has(std::string_view key) const { return Get(key).has_value(); }

  // Typed access: nullopt when absent/null, a field-named kValidation for another JSON type.
  [[nodiscard]] Result<std::optional<std::string_view>> String(std::string_view key) const;
  [[nodiscard]] Result<std::optional<ObjectView>> Object(std::string_view key) const;
  [[nodiscard]] Result<std::optional<simdjson::dom::array>> Array(std::string_view key) const;
  // A string, or an integer rendered in decimal (ids that some APIs send as numbers).
  [[nodiscard]] Result<std::optional<std::string>> Id(std::string_view key) const;

  // Lenient access for optional, nested detail: nullopt when absent or of another type.
  [[nodiscard]] std::optional<std::string_view> StringOr(std::string_view key) const;
  [[nodiscard]] std::optional<ObjectView> ObjectOr(std::string_view key) const;
  // A string, or the "display_value"/"value"/"name"/"summary" member of an object field.
  [[nodiscard]] std::optional<std::string_view> Display(std::string_view key) const;

  // "parent.key" (or "key" at the root).
  [[nodiscard]] std::string PathOf(std::string_view key) const;
  [[nodiscard]] simdjson::dom::object raw() const { return obj_; }

 private:
  simdjson::dom::object obj_;
  std::string path_;
};

// A field-named validation error for `path`.
Error FieldError(std::string path, std::string message);

// Parses an RFC 3339 timestamp string, naming `field` on failure.
Result<SystemTime> ParseTimestamp(std::string_view text, const std::string& field);

// The last normalization step shared by the canonical decoder and every native mapper:
// source coercion, title cleanup/fallback/truncation, body truncation, derived external_id,
// and the "title or external_id" rule. `record.source` holds the raw source value on input.
Result<model::IssueRecord> Finalize(model::IssueRecord record);

// "h_" + 32 hex chars of SHA-256 over a canonical serialization of the record's content.
std::string DerivedExternalId(const model::IssueRecord& record);

// "https://host[:port]" of an http(s) URL; empty if `url` is not one.
std::string_view UrlOrigin(std::string_view url);
bool IsHttpUrl(std::string_view url);

// A source's own vocabulary first (vocab.h), then the generic one.
std::optional<model::Severity> SeverityFor(std::string_view source, std::string_view word);
std::optional<model::IssueStatus> StatusFor(std::string_view source, std::string_view word);

// The per-source mappers (native_<source>.cc). Each returns a record for Finalize().
Result<model::IssueRecord> NativeJira(simdjson::dom::element payload);
Result<model::IssueRecord> NativePagerDuty(simdjson::dom::element payload);
Result<model::IssueRecord> NativeGitHub(simdjson::dom::element payload);
Result<model::IssueRecord> NativeServiceNow(simdjson::dom::element payload);
Result<model::IssueRecord> NativeDatadog(simdjson::dom::element payload);
Result<model::IssueRecord> NativeSentry(simdjson::dom::element payload);
Result<model::IssueRecord> NativeAlertmanager(simdjson::dom::element payload);

// Exposed for tests: Jira's "2024-01-15T10:30:00.000+0000" (offset without a colon).
Result<SystemTime> ParseJiraTimestamp(std::string_view text, const std::string& field);
// Exposed for tests: plain text of an Atlassian Document Format node (or a plain string).
std::string AdfToText(simdjson::dom::element node);

}  // namespace causeloop::normalize::internal

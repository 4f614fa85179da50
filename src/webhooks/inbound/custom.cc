// The custom alert body of SPEC §6.2: {"title", "description", "sourceAlertId", "severity",
// "service", "environment", "tags", "metadata"}.

#include "normalize/normalize.h"
#include "normalize/text.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound::internal {
namespace {

using normalize::TrimAscii;

Result<std::string> RequiredText(const ObjectView& root, std::string_view key) {
  CAUSELOOP_TRY_ASSIGN(value, root.String(key));
  if (!value || TrimAscii(*value).empty()) {
    return Fail(FieldError(std::string(key), std::string(key) + " is required"));
  }
  return std::string(*value);
}

}  // namespace

Result<Records> ParseCustom(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  model::IssueRecord r;
  CAUSELOOP_TRY_ASSIGN(title, RequiredText(root, "title"));
  CAUSELOOP_TRY_ASSIGN(description, RequiredText(root, "description"));
  r.title = std::move(title);
  r.body = std::move(description);

  CAUSELOOP_TRY_ASSIGN(source_alert_id, root.Id("sourceAlertId"));
  if (source_alert_id) r.external_id = *source_alert_id;
  if (auto severity = root.Get("severity")) {
    r.severity = normalize::ParseSeverity(*severity);
    if (!r.severity) {
      return Fail(
          FieldError("severity", "severity must be one of critical, high, medium, low, info"));
    }
  }
  for (auto [key, field] :
       {std::pair{"service", &r.service}, std::pair{"environment", &r.environment}}) {
    CAUSELOOP_TRY_ASSIGN(value, root.String(key));
    if (value) *field = std::string(*value);
  }
  CAUSELOOP_TRY_ASSIGN(tags, root.Object("tags"));
  if (tags) {
    for (auto field : tags->raw()) {
      std::string_view value;
      if (field.value.get_string().get(value) != simdjson::SUCCESS) {
        return Fail(FieldError("tags", "tag \"" + std::string(field.key) + "\" must be a string"));
      }
      r.labels[std::string(field.key)] = std::string(value);
    }
  }
  CAUSELOOP_TRY_ASSIGN(metadata, root.Object("metadata"));
  if (metadata) r.metadata_json = simdjson::minify(metadata->raw());
  r.status = model::IssueStatus::kOpen;

  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(r), "custom_api", Action::kUpsert));
  return Records{std::move(out)};
}

}  // namespace causeloop::webhooks::inbound::internal

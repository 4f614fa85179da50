// One Alertmanager alert: an element of the webhook (version 4) "alerts" array, or an alert
// from GET /api/v2/alerts (status is then {"state", "silencedBy", "inhibitedBy"}).

#include "auth/crypto.h"
#include "core/json_writer.h"
#include "normalize/internal.h"
#include "normalize/text.h"

namespace causeloop::normalize::internal {
namespace {

// Alertmanager writes "0001-01-01T00:00:00Z" for "not ended yet".
bool IsZeroTime(std::string_view s) { return s.substr(0, 4) == "0001"; }

Result<std::optional<SystemTime>> ReadTime(const ObjectView& alert, std::string_view key) {
  CAUSELOOP_TRY_ASSIGN(text, alert.String(key));
  if (!text || TrimAscii(*text).empty() || IsZeroTime(TrimAscii(*text))) {
    return std::optional<SystemTime>();
  }
  CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(*text, std::string(key)));
  return std::optional<SystemTime>(t);
}

}  // namespace

Result<model::IssueRecord> NativeAlertmanager(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(alert, ObjectView::Root(payload));
  CAUSELOOP_TRY_ASSIGN(labels, alert.Object("labels"));
  if (!labels) {
    if (alert.Has("alerts")) {
      return Fail(FieldError("alerts",
                             "this is a whole webhook notification; send each element of "
                             "alerts[] as its own record"));
    }
    return Fail(FieldError("labels", "an Alertmanager alert needs its labels"));
  }

  model::IssueRecord r;
  for (auto field : labels->raw()) {
    std::string_view v;
    if (field.value.get_string().get(v) != simdjson::SUCCESS) {
      return Fail(
          FieldError("labels", "label \"" + std::string(field.key) + "\" must be a string"));
    }
    r.labels[std::string(field.key)] = std::string(v);
  }
  auto label = [&r](std::string_view key) -> std::string {
    auto it = r.labels.find(std::string(key));
    return it == r.labels.end() ? std::string() : it->second;
  };

  CAUSELOOP_TRY_ASSIGN(fingerprint, alert.String("fingerprint"));
  if (fingerprint && !TrimAscii(*fingerprint).empty()) {
    r.external_id = std::string(*fingerprint);
  } else if (!r.labels.empty()) {
    // Alertmanager's own fingerprint is a hash of the label set; do the same when it is absent.
    JsonWriter w;
    w.BeginArray();
    for (const auto& [k, v] : r.labels) w.BeginArray().String(k).String(v).EndArray();
    w.EndArray();
    r.external_id = "h_" + auth::Sha256Hex(w.str()).substr(0, 32);
    r.external_id_derived = true;
  } else {
    return Fail(FieldError("fingerprint", "an Alertmanager alert needs a fingerprint or labels"));
  }

  CAUSELOOP_TRY_ASSIGN(annotations, alert.Object("annotations"));
  std::string runbook;
  if (annotations) {
    r.title = std::string(annotations->StringOr("summary").value_or(""));
    r.body = std::string(annotations->StringOr("description")
                             .value_or(annotations->StringOr("message").value_or("")));
    runbook = std::string(annotations->StringOr("runbook_url").value_or(""));
  }
  if (TrimAscii(r.title).empty()) r.title = label("alertname");

  std::string severity = label("severity");
  if (severity.empty()) severity = label("priority");
  if (!severity.empty()) r.severity = SeverityFor("alertmanager", severity);

  std::string state;
  if (auto status = alert.Get("status")) {
    std::string_view s;
    simdjson::dom::object obj;
    if (status->get_string().get(s) == simdjson::SUCCESS) {
      state = std::string(s);
    } else if (status->get_object().get(obj) == simdjson::SUCCESS) {
      state = std::string(ObjectView(obj, "status").StringOr("state").value_or(""));
    } else {
      return Fail(FieldError("status", "status must be a string or an object"));
    }
  }
  if (!state.empty()) r.status = StatusFor("alertmanager", state);

  r.service = label("service");
  if (r.service.empty()) r.service = label("job");
  r.environment = label("environment");
  if (r.environment.empty()) r.environment = label("env");
  r.team = label("team");

  CAUSELOOP_TRY_ASSIGN(starts, ReadTime(alert, "startsAt"));
  r.source_created_at = starts;
  CAUSELOOP_TRY_ASSIGN(updated, ReadTime(alert, "updatedAt"));
  CAUSELOOP_TRY_ASSIGN(ends, ReadTime(alert, "endsAt"));
  // A resolved alert's endsAt is when it stopped firing; a firing one's is only a lease.
  r.source_updated_at =
      updated ? updated : (r.status == model::IssueStatus::kResolved ? ends : std::nullopt);

  CAUSELOOP_TRY_ASSIGN(generator, alert.String("generatorURL"));
  if (generator) r.external_url = std::string(*generator);

  JsonWriter meta;
  meta.BeginObject();
  if (!label("alertname").empty()) meta.Field("alertname", label("alertname"));
  if (fingerprint) meta.Field("fingerprint", *fingerprint);
  if (!state.empty()) meta.Field("status", state);
  if (!runbook.empty()) meta.Field("runbook_url", runbook);
  meta.EndObject();
  r.metadata_json = meta.Take();
  return r;
}

}  // namespace causeloop::normalize::internal

// Alertmanager webhook_config notifications (version "4") and Grafana's webhook contact point,
// which sends the same shape (version "1") with a few extra fields per alert.

#include <algorithm>

#include "auth/crypto.h"
#include "core/json_writer.h"
#include "normalize/text.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound::internal {
namespace {

using normalize::LowerAscii;

// Grafana's per-alert extras, with Alertmanager's own fields, as the record's metadata.
std::string GrafanaMetadata(const ObjectView& alert, std::string_view status,
                            std::optional<int64_t> org_id) {
  JsonWriter meta;
  meta.BeginObject();
  if (auto labels = alert.ObjectOr("labels")) {
    if (auto name = labels->StringOr("alertname")) meta.Field("alertname", *name);
  }
  if (auto fingerprint = alert.StringOr("fingerprint")) meta.Field("fingerprint", *fingerprint);
  if (!status.empty()) meta.Field("status", status);
  if (auto annotations = alert.ObjectOr("annotations")) {
    if (auto runbook = annotations->StringOr("runbook_url"); runbook && !runbook->empty()) {
      meta.Field("runbook_url", *runbook);
    }
  }
  for (auto [key, name] :
       {std::pair{"dashboardURL", "dashboard_url"}, std::pair{"panelURL", "panel_url"},
        std::pair{"silenceURL", "silence_url"}, std::pair{"valueString", "value_string"}}) {
    if (auto value = alert.StringOr(key); value && !value->empty()) meta.Field(name, *value);
  }
  if (org_id) meta.Key("org_id").Int(*org_id);
  meta.EndObject();
  return meta.Take();
}

Result<Records> ParseAlertGroup(simdjson::dom::element payload, std::string_view source,
                                std::string_view version) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  CAUSELOOP_TRY_ASSIGN(got_version, root.String("version"));
  if (got_version && *got_version != version) {
    return Fail(FieldError("version", "unsupported webhook version \"" + std::string(*got_version) +
                                          "\" (expected \"" + std::string(version) + "\")"));
  }
  CAUSELOOP_TRY_ASSIGN(alerts, root.Array("alerts"));
  if (!alerts) return Fail(FieldError("alerts", "a notification needs its alerts"));
  std::string group_status = LowerAscii(root.StringOr("status").value_or(""));
  std::optional<int64_t> org_id;
  if (auto org = root.Get("orgId"); org && org->is_int64())
    org_id = org->get_int64().value_unsafe();

  Records out;
  size_t index = 0;
  for (simdjson::dom::element element : *alerts) {
    std::string path = "alerts[" + std::to_string(index++) + "]";
    auto record = normalize::internal::NativeAlertmanager(element);
    if (!record) return Fail(Under(std::move(record.error()), path));
    CAUSELOOP_TRY_ASSIGN(alert, ObjectView::Root(element));
    std::string status = LowerAscii(alert.StringOr("status").value_or(group_status));
    Action action = Action::kIgnore;
    if (status == "firing") action = Action::kUpsert;
    if (status == "resolved") action = Action::kResolve;
    if (!record->status) record->status = normalize::internal::StatusFor("alertmanager", status);
    if (source == "grafana") record->metadata_json = GrafanaMetadata(alert, status, org_id);
    auto finished = Finish(std::move(*record), source, action);
    if (!finished) return Fail(Under(std::move(finished.error()), path));
    out.push_back(std::move(*finished));
  }
  return out;
}

}  // namespace

Result<Records> ParseAlertmanager(simdjson::dom::element payload) {
  return ParseAlertGroup(payload, "alertmanager", "4");
}

Result<Records> ParseGrafana(simdjson::dom::element payload) {
  return ParseAlertGroup(payload, "grafana", "1");
}

std::optional<std::string> AlertGroupDeliveryId(simdjson::dom::element payload) {
  simdjson::dom::object obj;
  if (payload.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
  ObjectView root(obj, "");
  simdjson::dom::array arr;
  auto list = root.Get("alerts");
  if (!list || list->get_array().get(arr) != simdjson::SUCCESS) return std::nullopt;

  // One entry per alert; sorted so the order Alertmanager lists them in does not matter.
  std::vector<std::string> entries;
  for (simdjson::dom::element element : arr) {
    simdjson::dom::object alert_obj;
    if (element.get_object().get(alert_obj) != simdjson::SUCCESS) continue;
    ObjectView alert(alert_obj, "");
    JsonWriter w;
    w.BeginArray();
    for (std::string_view key : {"fingerprint", "status", "startsAt", "endsAt"}) {
      w.String(alert.StringOr(key).value_or(""));
    }
    w.EndArray();
    entries.push_back(w.Take());
  }
  std::sort(entries.begin(), entries.end());
  JsonWriter w;
  w.BeginArray();
  w.String(root.StringOr("groupKey").value_or(""));
  w.String(root.StringOr("status").value_or(""));
  if (auto truncated = root.Get("truncatedAlerts"); truncated && truncated->is_int64()) {
    w.Int(truncated->get_int64().value_unsafe());
  } else {
    w.Int(0);
  }
  for (const auto& e : entries) w.Raw(e);
  w.EndArray();
  return "h_" + auth::Sha256Hex(w.str()).substr(0, 32);
}

}  // namespace causeloop::webhooks::inbound::internal

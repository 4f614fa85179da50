// PagerDuty REST v2 incident (GET /incidents/{id} "incident", or one of GET /incidents).

#include "core/json_writer.h"
#include "normalize/internal.h"
#include "normalize/text.h"
#include "normalize/vocab.h"

namespace causeloop::normalize::internal {

Result<model::IssueRecord> NativePagerDuty(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(outer, ObjectView::Root(payload));
  // GET /incidents/{id} wraps the incident as {"incident": {...}}.
  ObjectView root = outer;
  if (!outer.Has("id")) {
    if (auto inner = outer.ObjectOr("incident")) root = *inner;
  }
  CAUSELOOP_TRY_ASSIGN(id, root.String("id"));
  if (!id || TrimAscii(*id).empty()) {
    return Fail(FieldError("id", "a PagerDuty incident needs an id"));
  }
  model::IssueRecord r;
  r.external_id = std::string(*id);

  CAUSELOOP_TRY_ASSIGN(title, root.String("title"));
  CAUSELOOP_TRY_ASSIGN(summary, root.String("summary"));
  CAUSELOOP_TRY_ASSIGN(description, root.String("description"));
  r.title = std::string(title ? *title : summary.value_or(""));
  // The incident body's details are the real description; "description" usually repeats the
  // summary, so it only becomes the body when it says something new.
  if (auto body = root.ObjectOr("body")) {
    if (auto details = body->Get("details")) {
      std::string_view text;
      r.body = details->get_string().get(text) == simdjson::SUCCESS ? std::string(text)
                                                                    : simdjson::minify(*details);
    }
  }
  if (r.body.empty() && description && *description != r.title &&
      *description != summary.value_or("")) {
    r.body = std::string(*description);
  }

  CAUSELOOP_TRY_ASSIGN(status, root.String("status"));
  if (status) r.status = StatusFor("pagerduty", *status);

  CAUSELOOP_TRY_ASSIGN(urgency, root.String("urgency"));
  std::string priority_name;
  if (auto priority = root.ObjectOr("priority")) {
    priority_name = std::string(priority->StringOr("summary").value_or(""));
  }
  if (!priority_name.empty()) r.severity = LookupSourceSeverity("pagerduty", priority_name);
  if (!r.severity && urgency) {
    r.severity = LookupSourceSeverity("pagerduty", "urgency:" + LowerAscii(*urgency));
  }
  if (urgency) r.labels["urgency"] = std::string(*urgency);

  if (auto service = root.Display("service")) r.service = std::string(*service);
  if (auto teams = root.Get("teams")) {
    simdjson::dom::array arr;
    simdjson::dom::object first;
    if (teams->get_array().get(arr) == simdjson::SUCCESS && arr.size() > 0 &&
        arr.at(0).get_object().get(first) == simdjson::SUCCESS) {
      r.team = std::string(ObjectView(first, "").StringOr("summary").value_or(""));
    }
  }
  std::string escalation_policy;
  if (auto policy = root.Display("escalation_policy")) escalation_policy = std::string(*policy);

  CAUSELOOP_TRY_ASSIGN(created, root.String("created_at"));
  if (created) {
    CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(*created, "created_at"));
    r.source_created_at = t;
  }
  CAUSELOOP_TRY_ASSIGN(updated, root.String("updated_at"));
  CAUSELOOP_TRY_ASSIGN(changed, root.String("last_status_change_at"));
  if (updated || changed) {
    CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(updated ? *updated : *changed,
                                           updated ? "updated_at" : "last_status_change_at"));
    r.source_updated_at = t;
  }

  CAUSELOOP_TRY_ASSIGN(html_url, root.String("html_url"));
  if (html_url) r.external_url = std::string(*html_url);

  // Resolve notes live under /incidents/{id}/notes (the connector adds them); the incident
  // itself says who resolved it, and why when it was merged into another incident.
  if (r.status == model::IssueStatus::kResolved) {
    model::Resolution res;
    res.source_field = "last_status_change_by";
    if (auto by = root.Display("last_status_change_by")) res.resolved_by = std::string(*by);
    if (auto reason = root.ObjectOr("resolve_reason")) {
      res.source_field = "resolve_reason";
      if (reason->StringOr("type").value_or("") == "merge_resolve_reason") {
        auto into = reason->Display("incident");
        res.summary = "Merged into " + std::string(into.value_or("another incident"));
      }
    }
    if (!res.empty()) r.resolution = std::move(res);
  }

  JsonWriter meta;
  meta.BeginObject();
  meta.Field("id", *id);
  // REST calls it incident_number; Webhooks v3 incident data calls it number.
  if (auto number =
          root.Has("incident_number") ? root.Get("incident_number") : root.Get("number")) {
    int64_t n = 0;
    if (number->get_int64().get(n) == simdjson::SUCCESS) meta.Key("incident_number").Int(n);
  }
  if (auto key = root.StringOr("incident_key")) meta.Field("incident_key", *key);
  if (urgency) meta.Field("urgency", *urgency);
  if (!priority_name.empty()) meta.Field("priority", priority_name);
  if (!escalation_policy.empty()) meta.Field("escalation_policy", escalation_policy);
  meta.EndObject();
  r.metadata_json = meta.Take();
  return r;
}

}  // namespace causeloop::normalize::internal

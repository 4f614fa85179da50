// ServiceNow Table API incident row (GET /api/now/table/incident/{sys_id} "result", or one
// row of the list). Fields are strings, or {display_value, value, link} objects for
// references and with sysparm_display_value=all.

#include "core/json_writer.h"
#include "normalize/internal.h"
#include "normalize/text.h"
#include "normalize/vocab.h"

namespace causeloop::normalize::internal {
namespace {

// The stored value of a choice field ("1"), also from {"value": "1", "display_value": …}
// or a display-only "1 - Critical": its leading digits.
std::string ChoiceCode(const ObjectView& row, std::string_view key) {
  std::optional<std::string_view> raw = row.StringOr(key);
  if (!raw) {
    if (auto obj = row.ObjectOr(key)) {
      raw = obj->StringOr("value");
      if (!raw || raw->empty()) raw = obj->StringOr("display_value");
    }
  }
  std::string_view s = TrimAscii(raw.value_or(""));
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  return std::string(s.substr(0, n));
}

// ServiceNow's "2024-01-15 10:30:00" (UTC through the Table API) or an RFC 3339 string.
Result<std::optional<SystemTime>> ReadTime(const ObjectView& row, std::string_view key) {
  std::optional<std::string_view> raw = row.StringOr(key);
  if (!raw) {
    if (auto obj = row.ObjectOr(key)) raw = obj->StringOr("value");
  }
  if (!raw && row.Has(key)) {
    return Fail(FieldError(std::string(key), std::string(key) + " must be a date-time string"));
  }
  std::string_view s = TrimAscii(raw.value_or(""));
  if (s.empty()) return std::optional<SystemTime>();
  std::string text(s);
  if (text.size() == 19) text.append("Z");
  CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(text, std::string(key)));
  return std::optional<SystemTime>(t);
}

// The instance's origin, taken from any reference link in the row.
std::string_view InstanceOrigin(const ObjectView& row) {
  for (auto field : row.raw()) {
    simdjson::dom::object obj;
    if (field.value.get_object().get(obj) != simdjson::SUCCESS) continue;
    if (auto link = ObjectView(obj, "").StringOr("link")) {
      if (auto origin = UrlOrigin(*link); !origin.empty()) return origin;
    }
  }
  return {};
}

}  // namespace

Result<model::IssueRecord> NativeServiceNow(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  ObjectView row = root;
  if (!root.Has("sys_id")) {
    if (auto result = root.ObjectOr("result")) row = *result;
  }
  auto sys_id = row.Display("sys_id");
  if (!sys_id || TrimAscii(*sys_id).empty()) {
    return Fail(FieldError("sys_id", "a ServiceNow incident needs a sys_id"));
  }
  model::IssueRecord r;
  r.external_id = std::string(*sys_id);

  if (row.Has("short_description") && !row.Display("short_description")) {
    return Fail(FieldError("short_description", "short_description must be a string"));
  }
  r.title = std::string(row.Display("short_description").value_or(""));
  r.body = std::string(row.Display("description").value_or(""));

  std::string priority = ChoiceCode(row, "priority");
  if (!priority.empty()) r.severity = LookupSourceSeverity("servicenow", priority);
  std::string state = ChoiceCode(row, "state");
  if (state.empty()) state = ChoiceCode(row, "incident_state");
  if (!state.empty()) r.status = LookupSourceStatus("servicenow", state);

  if (auto ci = row.Display("cmdb_ci"); ci && !ci->empty()) {
    r.service = std::string(*ci);
  } else if (auto bs = row.Display("business_service"); bs && !bs->empty()) {
    r.service = std::string(*bs);
  }
  if (auto group = row.Display("assignment_group")) r.team = std::string(*group);
  for (std::string_view key : {"category", "subcategory"}) {
    if (auto v = row.Display(key); v && !v->empty()) r.labels[std::string(key)] = std::string(*v);
  }

  CAUSELOOP_TRY_ASSIGN(created, ReadTime(row, "sys_created_on"));
  if (!created) {
    CAUSELOOP_TRY_ASSIGN(opened, ReadTime(row, "opened_at"));
    created = opened;
  }
  r.source_created_at = created;
  CAUSELOOP_TRY_ASSIGN(updated, ReadTime(row, "sys_updated_on"));
  r.source_updated_at = updated;

  model::Resolution res;
  res.summary = std::string(row.Display("close_code").value_or(""));
  res.fix = std::string(row.Display("close_notes").value_or(""));
  if (!res.summary.empty() || !res.fix.empty()) {
    res.resolved_by = std::string(row.Display("resolved_by").value_or(""));
    res.source_field = "close_notes";
    r.resolution = std::move(res);
  }

  if (std::string_view origin = InstanceOrigin(row); !origin.empty()) {
    r.external_url =
        std::string(origin) + "/nav_to.do?uri=incident.do%3Fsys_id%3D" + std::string(*sys_id);
  }

  JsonWriter meta;
  meta.BeginObject();
  meta.Field("sys_id", *sys_id);
  if (auto number = row.Display("number")) meta.Field("number", *number);
  if (!priority.empty()) meta.Field("priority", priority);
  if (!state.empty()) meta.Field("state", state);
  for (std::string_view key : {"impact", "urgency"}) {
    std::string code = ChoiceCode(row, key);
    if (!code.empty()) meta.Field(key, code);
  }
  meta.EndObject();
  r.metadata_json = meta.Take();
  return r;
}

}  // namespace causeloop::normalize::internal

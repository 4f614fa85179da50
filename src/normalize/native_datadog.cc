// Datadog events: an Events API v2 event ({"id", "type": "event", "attributes": {message,
// tags, timestamp, attributes: {title, status, priority, service, monitor, …}}}) or a v1 event
// ({"id", "title", "text", "alert_type", "priority", "tags", "date_happened", "url"}).

#include "core/json_writer.h"
#include "normalize/internal.h"
#include "normalize/normalize.h"
#include "normalize/text.h"
#include "normalize/vocab.h"

namespace causeloop::normalize::internal {
namespace {

std::optional<SystemTime> FromEpoch(simdjson::dom::element e, bool millis) {
  int64_t v = 0;
  double d = 0;
  if (e.get_int64().get(v) != simdjson::SUCCESS) {
    if (e.get_double().get(d) != simdjson::SUCCESS || d < -1e15 || d > 1e15) return std::nullopt;
    v = static_cast<int64_t>(d);
  }
  // Before 1970 or after 9999 is not a real event time (and could overflow the conversion).
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  int64_t seconds = millis ? v / 1000 : v;
  if (v < 0 || seconds > kMaxSeconds) return std::nullopt;
  return SystemTime(Millis(millis ? v : v * 1000));
}

// A monitor-style priority: 1..5 as a number, or "1".."5"/"P1".."P5" as a string. The
// event priority words "normal"/"low" are not severities and yield nullopt.
std::optional<model::Severity> MonitorPriority(simdjson::dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    std::string key = LowerAscii(TrimAscii(s));
    if (key.size() == 2 && key[0] == 'p') key.erase(0, 1);
    if (key.size() != 1 || key[0] < '1' || key[0] > '5') return std::nullopt;
    return LookupSeverity(key);
  }
  return ParseSeverity(e);
}

}  // namespace

Result<model::IssueRecord> NativeDatadog(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(outer, ObjectView::Root(payload));
  // GET /api/v2/events/{id} wraps the event as {"data": {...}}; v1 as {"event": {...}}.
  ObjectView root = outer;
  if (!outer.Has("id")) {
    if (auto inner = outer.ObjectOr("data")) {
      root = *inner;
    } else if (auto v1 = outer.ObjectOr("event")) {
      root = *v1;
    }
  }
  CAUSELOOP_TRY_ASSIGN(attributes, root.Object("attributes"));
  const bool v2 = attributes.has_value();

  std::optional<std::string> id;
  if (auto id_str = root.StringOr("id_str")) id = std::string(*id_str);
  if (!id) {
    CAUSELOOP_TRY_ASSIGN(raw_id, root.Id("id"));
    id = raw_id;
  }
  if (!id || id->empty()) return Fail(FieldError("id", "a Datadog event needs an id"));

  model::IssueRecord r;
  r.external_id = *id;
  // v2 keeps the event's own fields one level down, in attributes.attributes.
  ObjectView top = v2 ? *attributes : root;
  std::optional<ObjectView> inner = v2 ? attributes->ObjectOr("attributes") : std::nullopt;
  const ObjectView& detail = inner ? *inner : top;

  CAUSELOOP_TRY_ASSIGN(title, detail.String("title"));
  if (!title) {
    CAUSELOOP_TRY_ASSIGN(top_title, top.String("title"));
    title = top_title;
  }
  if (title) r.title = std::string(*title);
  CAUSELOOP_TRY_ASSIGN(message, top.String(v2 ? "message" : "text"));
  if (message) r.body = std::string(*message);

  CAUSELOOP_TRY_ASSIGN(tags, top.Array("tags"));
  if (tags) {
    for (simdjson::dom::element tag : *tags) {
      std::string_view t;
      if (tag.get_string().get(t) != simdjson::SUCCESS) {
        return Fail(FieldError(top.PathOf("tags"), "tags must be strings"));
      }
      size_t colon = t.find(':');
      std::string key(colon == std::string_view::npos ? t : t.substr(0, colon));
      std::string value(colon == std::string_view::npos ? "" : t.substr(colon + 1));
      if (key.empty()) continue;
      if (key == "service" && r.service.empty()) r.service = value;
      if ((key == "env" || key == "environment") && r.environment.empty()) r.environment = value;
      if (key == "team" && r.team.empty()) r.team = value;
      r.labels[key] = value;
    }
  }
  if (auto service = detail.StringOr("service"); service && !service->empty()) {
    r.service = std::string(*service);
  }

  // Severity: a monitor priority (1..5) when given, else the alert type / status.
  std::string alert_type(detail.StringOr(v2 ? "status" : "alert_type").value_or(""));
  if (alert_type.empty()) alert_type = std::string(top.StringOr("alert_type").value_or(""));
  auto priority = detail.Get("priority");
  if (auto monitor = detail.ObjectOr("monitor"); monitor && !priority) {
    priority = monitor->Get("priority");
  }
  if (priority) r.severity = MonitorPriority(*priority);
  if (!r.severity && !alert_type.empty()) {
    r.severity = LookupSourceSeverity("datadog", alert_type);
  }
  if (!r.severity && priority) {
    std::string_view p;
    if (priority->get_string().get(p) == simdjson::SUCCESS && LowerAscii(p) == "low") {
      r.severity = model::Severity::kP4;
    }
  }
  if (!alert_type.empty()) {
    r.status = LookupSourceStatus("datadog", alert_type);
    r.labels["alert_type"] = alert_type;
  }

  if (v2) {
    CAUSELOOP_TRY_ASSIGN(timestamp, top.String("timestamp"));
    if (timestamp) {
      CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(*timestamp, "attributes.timestamp"));
      r.source_created_at = t;
    } else if (auto ms = detail.Get("timestamp")) {
      r.source_created_at = FromEpoch(*ms, true);
    }
  } else if (auto happened = root.Get("date_happened")) {
    r.source_created_at = FromEpoch(*happened, false);
    if (!r.source_created_at) {
      return Fail(FieldError("date_happened", "date_happened must be POSIX seconds"));
    }
  }
  if (auto url = top.StringOr("url")) r.external_url = std::string(*url);

  JsonWriter meta;
  meta.BeginObject();
  meta.Field("id", *id);
  meta.Field("api", v2 ? "v2" : "v1");
  if (auto monitor_id = detail.Get("monitor_id")) {
    int64_t n = 0;
    if (monitor_id->get_int64().get(n) == simdjson::SUCCESS) meta.Key("monitor_id").Int(n);
  }
  if (auto key = detail.StringOr("aggregation_key")) meta.Field("aggregation_key", *key);
  if (auto host = detail.StringOr(v2 ? "hostname" : "host")) meta.Field("host", *host);
  if (!alert_type.empty()) meta.Field("alert_type", alert_type);
  meta.EndObject();
  r.metadata_json = meta.Take();
  return r;
}

}  // namespace causeloop::normalize::internal

#include "store/sqlite/webhooks.h"

#include <simdjson.h>

#include "core/json_writer.h"
#include "core/time.h"
#include "store/sqlite/json_columns.h"

namespace causeloop::store::sqlite {
namespace {

constexpr const char* kEndpointColumns =
    "id, workspace_id, url, description, event_types, connector_ids, enabled, disabled_reason, "
    "secrets, failing_since, created_at, updated_at";
constexpr const char* kDeliveryColumns =
    "id, workspace_id, endpoint_id, event_id, event_sequence, event_type, payload, order_key, "
    "status, attempts, cycle_attempts, next_attempt_at, created_at, updated_at";

Error StepError(Conn& c, int rc, std::string_view what) { return SqliteError(c.raw(), rc, what); }

std::string EncodeStrings(const std::vector<std::string>& v) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
  return w.Take();
}

std::vector<std::string> DecodeStrings(const std::string& json) {
  std::vector<std::string> out;
  simdjson::dom::array a;
  if (JsonColumnParser().parse(json).get(a) != simdjson::SUCCESS) return out;
  for (auto e : a) {
    std::string_view v;
    if (e.get(v) == simdjson::SUCCESS) out.emplace_back(v);
  }
  return out;
}

model::WebhookEndpoint ReadEndpoint(const Stmt& s) {
  model::WebhookEndpoint e;
  e.id = s.Text(0);
  e.workspace_id = s.Text(1);
  e.url = s.Text(2);
  e.description = s.Text(3);
  e.event_types = DecodeStrings(s.Text(4));
  e.connector_ids = DecodeStrings(s.Text(5));
  e.enabled = s.Int(6) != 0;
  e.disabled_reason = s.Text(7);
  e.secrets = DecodeSecrets(s.Text(8));
  if (auto f = s.OptInt(9)) e.failing_since = FromUnixMillis(*f);
  e.created_at = FromUnixMillis(s.Int(10));
  e.updated_at = FromUnixMillis(s.Int(11));
  return e;
}

model::WebhookDelivery ReadDelivery(const Stmt& s) {
  model::WebhookDelivery d;
  d.id = s.Text(0);
  d.workspace_id = s.Text(1);
  d.endpoint_id = s.Text(2);
  d.event_id = s.Text(3);
  d.event_sequence = s.Int(4);
  d.event_type = s.Text(5);
  d.payload = s.Text(6);
  d.order_key = s.Text(7);
  d.status = model::ParseDeliveryStatus(s.Text(8)).value_or(model::DeliveryStatus::kPending);
  d.attempts = static_cast<int>(s.Int(9));
  d.cycle_attempts = static_cast<int>(s.Int(10));
  d.next_attempt_at = FromUnixMillis(s.Int(11));
  d.created_at = FromUnixMillis(s.Int(12));
  d.updated_at = FromUnixMillis(s.Int(13));
  return d;
}

Status LoadAttempts(Conn& c, model::WebhookDelivery& d) {
  auto s = c.Prepare(
      "SELECT number, at, status_code, latency_ms, error, response_excerpt FROM "
      "webhook_attempts WHERE delivery_id=? ORDER BY number");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, d.id);
  int rc = 0;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    model::WebhookAttempt a;
    a.number = static_cast<int>((*s)->Int(0));
    a.at = FromUnixMillis((*s)->Int(1));
    a.status_code = static_cast<int>((*s)->Int(2));
    a.latency_ms = (*s)->Int(3);
    a.error = (*s)->Text(4);
    a.response_excerpt = (*s)->Text(5);
    d.attempt_log.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "select attempts"));
  return {};
}

}  // namespace

Status InsertEndpoint(Conn& c, const model::WebhookEndpoint& e) {
  auto s = c.Prepare(std::string("INSERT INTO webhook_endpoints(") + kEndpointColumns +
                     ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, e.id).Bind(2, e.workspace_id).Bind(3, e.url).Bind(4, e.description);
  (*s)->Bind(5, EncodeStrings(e.event_types)).Bind(6, EncodeStrings(e.connector_ids));
  (*s)->Bind(7, e.enabled).Bind(8, e.disabled_reason).Bind(9, EncodeSecrets(e.secrets));
  if (e.failing_since) {
    (*s)->Bind(10, ToUnixMillis(*e.failing_since));
  } else {
    (*s)->BindNull(10);
  }
  (*s)->Bind(11, ToUnixMillis(e.created_at)).Bind(12, ToUnixMillis(e.updated_at));
  return StepDone(c, **s, "insert webhook endpoint");
}

Status UpdateEndpoint(Conn& c, const model::WebhookEndpoint& e) {
  auto s = c.Prepare(
      "UPDATE webhook_endpoints SET url=?, description=?, event_types=?, connector_ids=?, "
      "enabled=?, disabled_reason=?, secrets=?, failing_since=?, updated_at=? "
      "WHERE workspace_id=? AND id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, e.url).Bind(2, e.description).Bind(3, EncodeStrings(e.event_types));
  (*s)->Bind(4, EncodeStrings(e.connector_ids)).Bind(5, e.enabled).Bind(6, e.disabled_reason);
  (*s)->Bind(7, EncodeSecrets(e.secrets));
  if (e.failing_since) {
    (*s)->Bind(8, ToUnixMillis(*e.failing_since));
  } else {
    (*s)->BindNull(8);
  }
  (*s)->Bind(9, ToUnixMillis(e.updated_at)).Bind(10, e.workspace_id).Bind(11, e.id);
  if (auto d = StepDone(c, **s, "update webhook endpoint"); !d) return d;
  if (sqlite3_changes(c.raw()) == 0) return Fail(ErrorCode::kNotFound, "no such webhook");
  return {};
}

Result<bool> DeleteEndpoint(Conn& c, const std::string& ws, const std::string& id) {
  auto s = c.Prepare("DELETE FROM webhook_endpoints WHERE workspace_id=? AND id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, id);
  if (auto d = StepDone(c, **s, "delete webhook endpoint"); !d) return Fail(d.error());
  if (sqlite3_changes(c.raw()) == 0) return false;
  auto a = c.Prepare(
      "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries "
      "WHERE workspace_id=? AND endpoint_id=?)");
  if (!a) return Fail(a.error());
  (*a)->Bind(1, ws).Bind(2, id);
  if (auto d = StepDone(c, **a, "delete webhook attempts"); !d) return Fail(d.error());
  auto del = c.Prepare("DELETE FROM webhook_deliveries WHERE workspace_id=? AND endpoint_id=?");
  if (!del) return Fail(del.error());
  (*del)->Bind(1, ws).Bind(2, id);
  if (auto d = StepDone(c, **del, "delete webhook deliveries"); !d) return Fail(d.error());
  return true;
}

Result<std::optional<model::WebhookEndpoint>> SelectEndpoint(Conn& c, const std::string& ws,
                                                             const std::string& id) {
  auto s = c.Prepare(std::string("SELECT ") + kEndpointColumns +
                     " FROM webhook_endpoints WHERE workspace_id=? AND id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, id);
  int rc = (*s)->Step();
  if (rc == SQLITE_DONE) return std::optional<model::WebhookEndpoint>{};
  if (rc != SQLITE_ROW) return Fail(StepError(c, rc, "select webhook endpoint"));
  model::WebhookEndpoint e = ReadEndpoint(**s);
  (*s)->Reset();
  return std::optional<model::WebhookEndpoint>{std::move(e)};
}

Result<std::vector<model::WebhookEndpoint>> SelectEndpoints(Conn& c, const std::string& ws) {
  auto s = c.Prepare(ws.empty() ? std::string("SELECT ") + kEndpointColumns +
                                      " FROM webhook_endpoints ORDER BY created_at, id"
                                : std::string("SELECT ") + kEndpointColumns +
                                      " FROM webhook_endpoints WHERE workspace_id=? "
                                      "ORDER BY created_at, id");
  if (!s) return Fail(s.error());
  if (!ws.empty()) (*s)->Bind(1, ws);
  std::vector<model::WebhookEndpoint> out;
  int rc = 0;
  while ((rc = (*s)->Step()) == SQLITE_ROW) out.push_back(ReadEndpoint(**s));
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "select webhook endpoints"));
  return out;
}

Status EnsureCursor(Conn& c, const std::string& ws, long long sequence) {
  auto s =
      c.Prepare("INSERT OR IGNORE INTO webhook_dispatch(workspace_id, last_sequence) VALUES(?,?)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, sequence);
  return StepDone(c, **s, "insert dispatch cursor");
}

Status SetCursor(Conn& c, const std::string& ws, long long sequence) {
  auto s = c.Prepare(
      "INSERT INTO webhook_dispatch(workspace_id, last_sequence) VALUES(?1,?2) "
      "ON CONFLICT(workspace_id) DO UPDATE SET last_sequence=MAX(last_sequence, ?2)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, sequence);
  return StepDone(c, **s, "set dispatch cursor");
}

Result<std::vector<std::pair<std::string, long long>>> SelectCursors(Conn& c) {
  auto s = c.Prepare("SELECT workspace_id, last_sequence FROM webhook_dispatch");
  if (!s) return Fail(s.error());
  std::vector<std::pair<std::string, long long>> out;
  int rc = 0;
  while ((rc = (*s)->Step()) == SQLITE_ROW) out.emplace_back((*s)->Text(0), (*s)->Int(1));
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "select dispatch cursors"));
  return out;
}

Result<size_t> InsertDeliveries(Conn& c, const std::vector<model::WebhookDelivery>& deliveries) {
  auto s = c.Prepare(std::string("INSERT OR IGNORE INTO webhook_deliveries(") + kDeliveryColumns +
                     ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s) return Fail(s.error());
  size_t inserted = 0;
  for (const auto& d : deliveries) {
    (*s)->Reset();
    (*s)->Bind(1, d.id).Bind(2, d.workspace_id).Bind(3, d.endpoint_id).Bind(4, d.event_id);
    (*s)->Bind(5, d.event_sequence).Bind(6, d.event_type).Bind(7, d.payload).Bind(8, d.order_key);
    (*s)->Bind(9, model::DeliveryStatusName(d.status)).Bind(10, d.attempts);
    (*s)->Bind(11, d.cycle_attempts).Bind(12, ToUnixMillis(d.next_attempt_at));
    (*s)->Bind(13, ToUnixMillis(d.created_at)).Bind(14, ToUnixMillis(d.updated_at));
    if (auto r = StepDone(c, **s, "insert delivery"); !r) return Fail(r.error());
    inserted += static_cast<size_t>(sqlite3_changes(c.raw()));
  }
  return inserted;
}

Result<std::vector<std::pair<long long, model::WebhookDelivery>>> SelectPending(Conn& c,
                                                                                long long after,
                                                                                int limit) {
  auto s = c.Prepare(std::string("SELECT rowid, ") + kDeliveryColumns +
                     " FROM webhook_deliveries WHERE status='pending' AND rowid>? "
                     "ORDER BY rowid LIMIT ?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, after).Bind(2, limit);
  std::vector<std::pair<long long, model::WebhookDelivery>> out;
  int rc = 0;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    long long rowid = (*s)->Int(0);
    // Columns shifted by one: read through a view of the row.
    model::WebhookDelivery d;
    d.id = (*s)->Text(1);
    d.workspace_id = (*s)->Text(2);
    d.endpoint_id = (*s)->Text(3);
    d.event_id = (*s)->Text(4);
    d.event_sequence = (*s)->Int(5);
    d.event_type = (*s)->Text(6);
    d.payload = (*s)->Text(7);
    d.order_key = (*s)->Text(8);
    d.status = model::DeliveryStatus::kPending;
    d.attempts = static_cast<int>((*s)->Int(10));
    d.cycle_attempts = static_cast<int>((*s)->Int(11));
    d.next_attempt_at = FromUnixMillis((*s)->Int(12));
    d.created_at = FromUnixMillis((*s)->Int(13));
    d.updated_at = FromUnixMillis((*s)->Int(14));
    out.emplace_back(rowid, std::move(d));
  }
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "select pending deliveries"));
  return out;
}

Result<std::optional<model::WebhookDelivery>> SelectDelivery(Conn& c, const std::string& ws,
                                                             const std::string& endpoint_id,
                                                             const std::string& id,
                                                             bool with_attempts) {
  auto s = c.Prepare(std::string("SELECT ") + kDeliveryColumns +
                     " FROM webhook_deliveries WHERE workspace_id=? AND endpoint_id=? AND id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, endpoint_id).Bind(3, id);
  int rc = (*s)->Step();
  if (rc == SQLITE_DONE) return std::optional<model::WebhookDelivery>{};
  if (rc != SQLITE_ROW) return Fail(StepError(c, rc, "select delivery"));
  model::WebhookDelivery d = ReadDelivery(**s);
  (*s)->Reset();
  if (with_attempts) {
    if (auto a = LoadAttempts(c, d); !a) return Fail(a.error());
  }
  return std::optional<model::WebhookDelivery>{std::move(d)};
}

Result<std::vector<model::WebhookDelivery>> SelectDeliveries(Conn& c, const std::string& ws,
                                                             const std::string& endpoint_id,
                                                             const std::string& before, int limit) {
  auto s = c.Prepare(
      std::string("SELECT ") + kDeliveryColumns +
      " FROM webhook_deliveries WHERE workspace_id=?1 AND endpoint_id=?2 AND (?3='' OR rowid < "
      "(SELECT rowid FROM webhook_deliveries WHERE id=?3)) ORDER BY rowid DESC LIMIT ?4");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, endpoint_id).Bind(3, before).Bind(4, limit);
  std::vector<model::WebhookDelivery> out;
  int rc = 0;
  while ((rc = (*s)->Step()) == SQLITE_ROW) out.push_back(ReadDelivery(**s));
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "select deliveries"));
  for (auto& d : out) {
    if (auto a = LoadAttempts(c, d); !a) return Fail(a.error());
  }
  return out;
}

Status InsertAttempt(Conn& c, const std::string& delivery_id, const model::WebhookAttempt& a) {
  auto s = c.Prepare(
      "INSERT OR REPLACE INTO webhook_attempts(delivery_id, number, at, status_code, latency_ms, "
      "error, response_excerpt) VALUES(?,?,?,?,?,?,?)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, delivery_id).Bind(2, a.number).Bind(3, ToUnixMillis(a.at));
  (*s)->Bind(4, a.status_code).Bind(5, a.latency_ms).Bind(6, a.error).Bind(7, a.response_excerpt);
  return StepDone(c, **s, "insert attempt");
}

Status UpdateDeliveryState(Conn& c, const model::WebhookDelivery& d) {
  auto s = c.Prepare(
      "UPDATE webhook_deliveries SET status=?, attempts=?, cycle_attempts=?, next_attempt_at=?, "
      "updated_at=? WHERE id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, model::DeliveryStatusName(d.status)).Bind(2, d.attempts);
  (*s)->Bind(3, d.cycle_attempts).Bind(4, ToUnixMillis(d.next_attempt_at));
  (*s)->Bind(5, ToUnixMillis(d.updated_at)).Bind(6, d.id);
  return StepDone(c, **s, "update delivery");
}

Result<std::vector<model::WebhookDelivery>> SelectFailedSince(Conn& c, const std::string& ws,
                                                              const std::string& endpoint_id,
                                                              SystemTime since) {
  auto s = c.Prepare(std::string("SELECT ") + kDeliveryColumns +
                     " FROM webhook_deliveries WHERE workspace_id=? AND endpoint_id=? AND "
                     "status='failed' AND created_at>=? ORDER BY rowid");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, endpoint_id).Bind(3, ToUnixMillis(since));
  std::vector<model::WebhookDelivery> out;
  int rc = 0;
  while ((rc = (*s)->Step()) == SQLITE_ROW) out.push_back(ReadDelivery(**s));
  if (rc != SQLITE_DONE) return Fail(StepError(c, rc, "select failed deliveries"));
  return out;
}

std::string EndpointEventData(const model::WebhookEndpoint& e) {
  JsonWriter w;
  w.BeginObject().Key("endpoint").BeginObject();
  w.Field("id", e.id).Field("url", e.url).Field("description", e.description);
  w.Field("enabled", e.enabled).Field("disabled_reason", e.disabled_reason);
  w.Key("failing_since");
  if (e.failing_since) {
    w.String(FormatRfc3339(*e.failing_since));
  } else {
    w.Null();
  }
  w.EndObject().EndObject();
  return w.Take();
}

}  // namespace causeloop::store::sqlite

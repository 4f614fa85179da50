#include "store/sqlite/connectors.h"

#include <chrono>
#include <functional>
#include <string_view>

#include "core/json_writer.h"
#include "store/sqlite/json_columns.h"

namespace causeloop::store::sqlite {
namespace {

constexpr const char* kConnectorColumns =
    "id, workspace_id, type, display_name, status, config, schedule, backfill_days, "
    "credentials, inbound_enabled, inbound_secrets, created_at, updated_at";

// Buckets kept per receiver: the 24 a read sums and a day more, so a read for a `now` somewhat
// behind the newest delivery still finds its whole window.
constexpr auto kBucketRetention = std::chrono::hours(48);

long long HourOf(SystemTime t) {
  return ToUnixMillis(
      std::chrono::time_point_cast<Millis>(std::chrono::floor<std::chrono::hours>(t)));
}

std::string EncodeRequireSignature(const std::map<std::string, bool>& m) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [provider, required] : m) w.Field(provider, required);
  w.EndObject();
  return w.Take();
}

std::map<std::string, bool> DecodeRequireSignature(const std::string& json) {
  std::map<std::string, bool> out;
  simdjson::dom::object obj;
  if (JsonColumnParser().parse(json).get(obj) != simdjson::SUCCESS) return out;
  for (auto field : obj) {
    bool v = true;
    if (field.value.get(v) == simdjson::SUCCESS) out.emplace(std::string(field.key), v);
  }
  return out;
}

model::Connector ReadConnector(const Stmt& s) {
  model::Connector con;
  con.id = s.Text(0);
  con.workspace_id = s.Text(1);
  con.type = s.Text(2);
  con.display_name = s.Text(3);
  con.status = s.Text(4);
  con.config_json = s.Text(5);
  con.schedule_json = s.Text(6);
  con.backfill_days = static_cast<int>(s.Int(7));
  con.credentials_sealed = s.Text(8);
  con.inbound_enabled = s.Int(9) != 0;
  con.inbound_secrets = DecodeSecrets(s.Text(10));
  con.created_at = FromUnixMillis(s.Int(11));
  con.updated_at = FromUnixMillis(s.Int(12));
  return con;
}

// Runs a one-row SELECT of kConnectorColumns whose parameters `bind` sets.
Result<std::optional<model::Connector>> SelectOne(Conn& c, const std::string& sql,
                                                  const std::function<void(Stmt&)>& bind) {
  auto s = c.Prepare(sql);
  if (!s) return Fail(s.error());
  bind(**s);
  int rc = (*s)->Step();
  if (rc == SQLITE_DONE) return std::optional<model::Connector>{};
  if (rc != SQLITE_ROW) return Fail(SqliteError(c.raw(), rc, "select connector"));
  model::Connector con = ReadConnector(**s);
  (*s)->Reset();
  return std::optional<model::Connector>{std::move(con)};
}

// Deletes every row of `table` for the receiver.
Status DeleteReceiverRows(Conn& c, const char* table, const std::string& ws,
                          const std::string& receiver) {
  auto s = c.Prepare(std::string("DELETE FROM ") + table + " WHERE workspace_id=? AND receiver=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, receiver);
  return StepDone(c, **s, table);
}

Status BumpBucket(Conn& c, const std::string& ws, const std::string& receiver, SystemTime at,
                  bool signature_ok) {
  auto s = c.Prepare(
      "INSERT INTO receiver_stats(workspace_id, receiver, hour, deliveries, signature_failures) "
      "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(workspace_id, receiver, hour) DO UPDATE SET "
      "deliveries=deliveries+?4, signature_failures=signature_failures+?5");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, receiver).Bind(3, HourOf(at));
  (*s)->Bind(4, signature_ok ? 1 : 0).Bind(5, signature_ok ? 0 : 1);
  return StepDone(c, **s, "count receiver delivery");
}

// Deliveries may be recorded out of order (group commit does not order concurrent requests):
// the latest time wins, and a failure's reason moves only with its time.
Status UpdateLast(Conn& c, const std::string& ws, const std::string& receiver, SystemTime at,
                  bool signature_ok, const std::string& reason) {
  static const std::string kOk =
      "INSERT INTO receiver_last(workspace_id, receiver, last_delivery_at) VALUES(?1,?2,?3) "
      "ON CONFLICT(workspace_id, receiver) DO UPDATE SET "
      "last_delivery_at=MAX(COALESCE(last_delivery_at, ?3), ?3)";
  static const std::string kFailed =
      "INSERT INTO receiver_last(workspace_id, receiver, last_failure_at, last_failure_reason) "
      "VALUES(?1,?2,?3,?4) ON CONFLICT(workspace_id, receiver) DO UPDATE SET "
      "last_failure_reason=CASE WHEN last_failure_at IS NULL OR last_failure_at<=?3 THEN ?4 "
      "ELSE last_failure_reason END, last_failure_at=MAX(COALESCE(last_failure_at, ?3), ?3)";
  auto s = c.Prepare(signature_ok ? kOk : kFailed);
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, receiver).Bind(3, ToUnixMillis(at));
  if (!signature_ok) (*s)->Bind(4, reason);
  return StepDone(c, **s, "update receiver last");
}

// Keyed on the receiver so the delete walks the primary key, not the whole table; a receiver
// that falls silent keeps at most two days of buckets until its connector is deleted.
Status PruneBuckets(Conn& c, const std::string& ws, const std::string& receiver, SystemTime at) {
  auto s = c.Prepare("DELETE FROM receiver_stats WHERE workspace_id=? AND receiver=? AND hour<?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, receiver).Bind(3, HourOf(at - kBucketRetention));
  return StepDone(c, **s, "prune receiver stats");
}

Status ReadBuckets(Conn& c, model::ReceiverStats& out, SystemTime now) {
  auto s = c.Prepare(
      "SELECT COALESCE(SUM(deliveries), 0), COALESCE(SUM(signature_failures), 0) FROM "
      "receiver_stats WHERE workspace_id=? AND receiver=? AND hour>=? AND hour<=?");
  if (!s) return Fail(s.error());
  long long hour = HourOf(now);
  (*s)->Bind(1, out.workspace_id).Bind(2, out.receiver);
  (*s)->Bind(3, hour - Millis(std::chrono::hours(23)).count()).Bind(4, hour);
  int rc = (*s)->Step();
  if (rc != SQLITE_ROW) return Fail(SqliteError(c.raw(), rc, "select receiver stats"));
  out.deliveries_24h = (*s)->Int(0);
  out.signature_failures_24h = (*s)->Int(1);
  (*s)->Reset();
  return {};
}

Status ReadLast(Conn& c, model::ReceiverStats& out) {
  auto s = c.Prepare(
      "SELECT last_delivery_at, last_failure_at, last_failure_reason FROM receiver_last WHERE "
      "workspace_id=? AND receiver=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, out.workspace_id).Bind(2, out.receiver);
  int rc = (*s)->Step();
  if (rc == SQLITE_DONE) return {};
  if (rc != SQLITE_ROW) return Fail(SqliteError(c.raw(), rc, "select receiver last"));
  if (auto t = (*s)->OptInt(0)) out.last_delivery_at = FromUnixMillis(*t);
  if (auto t = (*s)->OptInt(1)) out.last_failure_at = FromUnixMillis(*t);
  out.last_failure_reason = (*s)->Text(2);
  (*s)->Reset();
  return {};
}

}  // namespace

Status InsertConnector(Conn& c, const model::Connector& con) {
  auto s = c.Prepare(std::string("INSERT INTO connectors(") + kConnectorColumns +
                     ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s) return Fail(s.error());
  Stmt& st = **s;
  st.Bind(1, con.id).Bind(2, con.workspace_id).Bind(3, con.type).Bind(4, con.display_name);
  st.Bind(5, con.status).Bind(6, con.config_json).Bind(7, con.schedule_json);
  st.Bind(8, con.backfill_days).Bind(9, con.credentials_sealed).Bind(10, con.inbound_enabled);
  st.Bind(11, EncodeSecrets(con.inbound_secrets)).Bind(12, ToUnixMillis(con.created_at));
  st.Bind(13, ToUnixMillis(con.updated_at));
  return StepDone(c, st, "insert connector");
}

Status UpdateConnector(Conn& c, const model::Connector& con) {
  auto s = c.Prepare(
      "UPDATE connectors SET display_name=?, status=?, config=?, schedule=?, backfill_days=?, "
      "credentials=?, inbound_enabled=?, inbound_secrets=?, updated_at=? "
      "WHERE workspace_id=? AND id=?");
  if (!s) return Fail(s.error());
  Stmt& st = **s;
  st.Bind(1, con.display_name).Bind(2, con.status).Bind(3, con.config_json);
  st.Bind(4, con.schedule_json).Bind(5, con.backfill_days).Bind(6, con.credentials_sealed);
  st.Bind(7, con.inbound_enabled).Bind(8, EncodeSecrets(con.inbound_secrets));
  st.Bind(9, ToUnixMillis(con.updated_at)).Bind(10, con.workspace_id).Bind(11, con.id);
  if (auto d = StepDone(c, st, "update connector"); !d) return d;
  if (sqlite3_changes(c.raw()) == 0) return Fail(ErrorCode::kNotFound, "no such connector");
  return {};
}

Result<bool> DeleteConnector(Conn& c, const std::string& ws, const std::string& id) {
  auto s = c.Prepare("DELETE FROM connectors WHERE workspace_id=? AND id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, id);
  if (auto d = StepDone(c, **s, "delete connector"); !d) return Fail(d.error());
  if (sqlite3_changes(c.raw()) == 0) return false;
  const std::string receiver = model::ConnectorReceiver(id);
  for (const char* table : {"receiver_stats", "receiver_last", "inbound_deliveries"}) {
    if (auto d = DeleteReceiverRows(c, table, ws, receiver); !d) return Fail(d.error());
  }
  return true;
}

Result<std::optional<model::Connector>> SelectConnector(Conn& c, const std::string& ws,
                                                        const std::string& id) {
  static const std::string kSql =
      std::string("SELECT ") + kConnectorColumns + " FROM connectors WHERE workspace_id=? AND id=?";
  return SelectOne(c, kSql, [&](Stmt& s) { s.Bind(1, ws).Bind(2, id); });
}

Result<std::optional<model::Connector>> SelectConnectorAnyWorkspace(Conn& c,
                                                                    const std::string& id) {
  static const std::string kSql =
      std::string("SELECT ") + kConnectorColumns + " FROM connectors WHERE id=?";
  return SelectOne(c, kSql, [&](Stmt& s) { s.Bind(1, id); });
}

Result<std::vector<model::Connector>> SelectConnectors(Conn& c, const std::string& ws) {
  auto s = c.Prepare(std::string("SELECT ") + kConnectorColumns +
                     " FROM connectors WHERE workspace_id=? ORDER BY created_at, id");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws);
  std::vector<model::Connector> out;
  int rc = 0;
  while ((rc = (*s)->Step()) == SQLITE_ROW) out.push_back(ReadConnector(**s));
  if (rc != SQLITE_DONE) return Fail(SqliteError(c.raw(), rc, "select connectors"));
  return out;
}

Result<model::AlertWebhookSettings> SelectAlertSettings(Conn& c, const std::string& ws) {
  auto s = c.Prepare(
      "SELECT secrets, require_signature, updated_at FROM alert_webhook_settings "
      "WHERE workspace_id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws);
  model::AlertWebhookSettings out;
  out.workspace_id = ws;
  int rc = (*s)->Step();
  if (rc == SQLITE_DONE) return out;
  if (rc != SQLITE_ROW) return Fail(SqliteError(c.raw(), rc, "select alert webhook settings"));
  out.secrets = DecodeSecrets((*s)->Text(0));
  out.require_signature = DecodeRequireSignature((*s)->Text(1));
  out.updated_at = FromUnixMillis((*s)->Int(2));
  (*s)->Reset();
  return out;
}

Status UpsertAlertSettings(Conn& c, const model::AlertWebhookSettings& a) {
  auto s = c.Prepare(
      "INSERT INTO alert_webhook_settings(workspace_id, secrets, require_signature, updated_at) "
      "VALUES(?,?,?,?) ON CONFLICT(workspace_id) DO UPDATE SET secrets=excluded.secrets, "
      "require_signature=excluded.require_signature, updated_at=excluded.updated_at");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, a.workspace_id).Bind(2, EncodeSecrets(a.secrets));
  (*s)->Bind(3, EncodeRequireSignature(a.require_signature));
  (*s)->Bind(4, ToUnixMillis(a.updated_at.value_or(SystemTime{})));
  return StepDone(c, **s, "save alert webhook settings");
}

// One statement checks and remembers, so two requests with one id in a group transaction
// cannot both pass.
Result<bool> RememberDelivery(Conn& c, const std::string& ws, const std::string& receiver,
                              const std::string& delivery_id, SystemTime now) {
  auto s = c.Prepare(
      "INSERT OR IGNORE INTO inbound_deliveries(workspace_id, receiver, delivery_id, "
      "received_at) VALUES(?,?,?,?)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ws).Bind(2, receiver).Bind(3, delivery_id).Bind(4, ToUnixMillis(now));
  if (auto d = StepDone(c, **s, "remember delivery"); !d) return Fail(d.error());
  return sqlite3_changes(c.raw()) > 0;
}

Status ForgetDeliveries(Conn& c, SystemTime before, int limit) {
  auto s = c.Prepare(
      "DELETE FROM inbound_deliveries WHERE rowid IN (SELECT rowid FROM inbound_deliveries "
      "WHERE received_at<? LIMIT ?)");
  if (!s) return Fail(s.error());
  (*s)->Bind(1, ToUnixMillis(before)).Bind(2, limit);
  return StepDone(c, **s, "forget deliveries");
}

Status CountReceiverDelivery(Conn& c, const std::string& ws, const std::string& receiver,
                             SystemTime at, bool signature_ok, const std::string& reason) {
  if (auto s = BumpBucket(c, ws, receiver, at, signature_ok); !s) return s;
  if (auto s = UpdateLast(c, ws, receiver, at, signature_ok, reason); !s) return s;
  return PruneBuckets(c, ws, receiver, at);
}

Result<model::ReceiverStats> SelectReceiverStats(Conn& c, const std::string& ws,
                                                 const std::string& receiver, SystemTime now) {
  model::ReceiverStats out;
  out.workspace_id = ws;
  out.receiver = receiver;
  if (auto s = ReadBuckets(c, out, now); !s) return Fail(s.error());
  if (auto s = ReadLast(c, out); !s) return Fail(s.error());
  return out;
}

}  // namespace causeloop::store::sqlite

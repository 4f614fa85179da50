#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iterator>
#include <limits>
#include <mutex>
#include <set>
#include <span>
#include <stop_token>
#include <thread>
#include <unordered_map>

#include "core/ids.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "core/time.h"
#include "store/sqlite/connectors.h"
#include "store/sqlite/keyset.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/patterns.h"
#include "store/sqlite/search_index.h"
#include "store/sqlite/seen_log.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/wal_vfs.h"
#include "store/sqlite/webhooks.h"

namespace causeloop::store {
namespace {

using model::Issue;
using model::IssueRecord;
using sqlite::Conn;
using sqlite::Stmt;

// ---------------------------------------------------------------------------------------
// Row mapping

constexpr const char* kIssueColumns =
    "id, workspace_id, source, source_raw, external_id, title, title_truncated, body, "
    "body_truncated, severity, status, service, environment, team, assignee, labels, metadata, "
    "external_url, connector_id, pattern_id, occurrences, risk_score, source_created_at, "
    "source_updated_at, first_seen_at, last_seen_at, resolved_at, created_at, updated_at, "
    "resolution, rowid";
constexpr int kIssueColumnCount = 31;

std::string EncodeLabels(const std::map<std::string, std::string>& labels) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [k, v] : labels) w.Field(k, v);
  w.EndObject();
  return w.Take();
}

// One parser per thread: constructing a parser allocates its buffers, far more than a
// small column costs to parse.
simdjson::dom::parser& ColumnParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::map<std::string, std::string> DecodeLabels(const std::string& json) {
  std::map<std::string, std::string> out;
  if (json.empty() || json == "{}") return out;
  simdjson::dom::parser& parser = ColumnParser();
  simdjson::dom::object obj;
  if (parser.parse(json).get(obj) != simdjson::SUCCESS) return out;
  for (auto field : obj) {
    std::string_view v;
    if (field.value.get(v) == simdjson::SUCCESS)
      out.emplace(std::string(field.key), std::string(v));
  }
  return out;
}

std::string EncodeResolution(const model::Resolution& r) {
  JsonWriter w;
  w.BeginObject();
  w.Field("summary", r.summary).Field("fix", r.fix).Field("fix_url", r.fix_url);
  w.Field("resolved_by", r.resolved_by).Field("source_field", r.source_field);
  w.EndObject();
  return w.Take();
}

std::optional<model::Resolution> DecodeResolution(const std::string& json) {
  if (json.empty()) return std::nullopt;
  simdjson::dom::parser& parser = ColumnParser();
  simdjson::dom::object obj;
  if (parser.parse(json).get(obj) != simdjson::SUCCESS) return std::nullopt;
  model::Resolution r;
  auto get = [&](const char* key, std::string& out) {
    std::string_view v;
    if (obj[key].get(v) == simdjson::SUCCESS) out = std::string(v);
  };
  get("summary", r.summary);
  get("fix", r.fix);
  get("fix_url", r.fix_url);
  get("resolved_by", r.resolved_by);
  get("source_field", r.source_field);
  return r;
}

std::optional<SystemTime> OptTime(const Stmt& s, int col) {
  if (s.IsNull(col)) return std::nullopt;
  return FromUnixMillis(s.Int(col));
}

// Reads an issue from a row selected with kIssueColumns starting at column 0.
Issue ReadIssue(const Stmt& s, long long* rowid = nullptr) {
  Issue i;
  i.id = s.Text(0);
  i.workspace_id = s.Text(1);
  i.source = s.Text(2);
  i.source_raw = s.Text(3);
  i.external_id = s.Text(4);
  i.title = s.Text(5);
  i.title_truncated = s.Int(6) != 0;
  i.body = s.Text(7);
  i.body_truncated = s.Int(8) != 0;
  i.severity = static_cast<model::Severity>(std::clamp<long long>(s.Int(9), 1, 4));
  i.status = model::ParseIssueStatus(s.Text(10)).value_or(model::IssueStatus::kOpen);
  i.service = s.Text(11);
  i.environment = s.Text(12);
  i.team = s.Text(13);
  i.assignee = s.Text(14);
  i.labels = DecodeLabels(s.Text(15));
  i.metadata_json = s.IsNull(16) ? "{}" : s.Text(16);
  i.external_url = s.Text(17);
  i.connector_id = s.Text(18);
  i.pattern_id = s.Text(19);
  i.occurrences = s.Int(20);
  i.risk_score = s.Double(21);
  i.source_created_at = OptTime(s, 22);
  i.source_updated_at = OptTime(s, 23);
  i.first_seen_at = FromUnixMillis(s.Int(24));
  i.last_seen_at = FromUnixMillis(s.Int(25));
  i.resolved_at = OptTime(s, 26);
  i.created_at = FromUnixMillis(s.Int(27));
  i.updated_at = FromUnixMillis(s.Int(28));
  i.resolution = DecodeResolution(s.Text(29));
  if (rowid) *rowid = s.Int(30);
  return i;
}

// Binds every issue column in kIssueColumns order (without rowid) starting at parameter 1.
// The issue's strings are bound by reference: `i` must outlive the statement's Step.
void BindIssue(Stmt& s, const Issue& i) {
  s.BindRef(1, i.id).BindRef(2, i.workspace_id).BindRef(3, i.source);
  s.BindOptRef(4, i.source_raw).BindRef(5, i.external_id).BindRef(6, i.title);
  s.Bind(7, i.title_truncated).BindRef(8, i.body);
  s.Bind(9, i.body_truncated).Bind(10, static_cast<long long>(i.severity));
  s.BindRef(11, model::IssueStatusName(i.status)).BindOptRef(12, i.service);
  s.BindOptRef(13, i.environment).BindOptRef(14, i.team).BindOptRef(15, i.assignee);
  s.Bind(16, EncodeLabels(i.labels));
  s.BindRef(17, i.metadata_json.empty() ? std::string_view("{}") : i.metadata_json);
  s.BindOptRef(18, i.external_url).BindOptRef(19, i.connector_id).BindOptRef(20, i.pattern_id);
  s.Bind(21, i.occurrences).Bind(22, i.risk_score);
  auto opt_time = [&](int idx, const std::optional<SystemTime>& t) {
    if (t) {
      s.Bind(idx, ToUnixMillis(*t));
    } else {
      s.BindNull(idx);
    }
  };
  opt_time(23, i.source_created_at);
  opt_time(24, i.source_updated_at);
  s.Bind(25, ToUnixMillis(i.first_seen_at)).Bind(26, ToUnixMillis(i.last_seen_at));
  opt_time(27, i.resolved_at);
  s.Bind(28, ToUnixMillis(i.created_at)).Bind(29, ToUnixMillis(i.updated_at));
  if (i.resolution) {
    s.Bind(30, EncodeResolution(*i.resolution));
  } else {
    s.BindNull(30);
  }
}

// The compact issue summary carried by issue.* events.
std::string IssueEventData(const Issue& i, bool deduplicated) {
  JsonWriter w;
  w.BeginObject();
  w.Key("issue").BeginObject();
  w.Field("id", i.id).Field("source", i.source).Field("external_id", i.external_id);
  w.Field("title", i.title).Field("severity", model::SeverityName(i.severity));
  w.Field("status", model::IssueStatusName(i.status));
  w.FieldOrNull("service", i.service).FieldOrNull("pattern_id", i.pattern_id);
  w.Field("occurrences", i.occurrences);
  w.Field("last_seen_at", FormatRfc3339(i.last_seen_at));
  w.EndObject();
  w.Field("deduplicated", deduplicated);
  w.EndObject();
  return w.Take();
}

// Applies an ingested record to an existing issue: the re-occurrence plus every field the
// record carries. Returns true when the status moved to resolved.
bool MergeRecord(Issue& i, const IssueRecord& r, SystemTime now) {
  model::IssueStatus before = i.status;
  i.occurrences += 1;
  // Never back: a clock stepped back does not make an issue look older, and an entry of the
  // last-seen order, once replaced, never becomes the issue's again (seen_log.h).
  i.last_seen_at = std::max(i.last_seen_at, now);
  i.updated_at = now;
  if (!r.title.empty()) {
    i.title = r.title;
    i.title_truncated = r.title_truncated;
  }
  if (!r.body.empty()) {
    i.body = r.body;
    i.body_truncated = r.body_truncated;
  }
  if (r.severity) i.severity = *r.severity;
  if (r.status) i.status = *r.status;
  if (!r.service.empty()) i.service = r.service;
  if (!r.environment.empty()) i.environment = r.environment;
  if (!r.team.empty()) i.team = r.team;
  if (!r.labels.empty()) i.labels = r.labels;
  if (!r.metadata_json.empty()) i.metadata_json = r.metadata_json;
  if (!r.external_url.empty()) i.external_url = r.external_url;
  if (!r.connector_id.empty()) i.connector_id = r.connector_id;
  if (r.source_created_at) i.source_created_at = r.source_created_at;
  if (r.source_updated_at) i.source_updated_at = r.source_updated_at;
  if (r.resolution && !r.resolution->empty()) i.resolution = r.resolution;
  bool resolved_now =
      (i.status == model::IssueStatus::kResolved || i.status == model::IssueStatus::kClosed) &&
      before != model::IssueStatus::kResolved && before != model::IssueStatus::kClosed;
  if (resolved_now) i.resolved_at = now;
  if (i.status == model::IssueStatus::kOpen || i.status == model::IssueStatus::kInProgress) {
    i.resolved_at.reset();
  }
  return resolved_now;
}

Issue NewIssue(const std::string& ws, const IssueRecord& r, std::string id, SystemTime now) {
  Issue i;
  i.id = std::move(id);
  i.workspace_id = ws;
  i.source = r.source;
  i.source_raw = r.source_raw;
  i.external_id = r.external_id;
  i.title = r.title.empty() ? r.external_id : r.title;
  i.title_truncated = r.title_truncated;
  i.body = r.body;
  i.body_truncated = r.body_truncated;
  i.severity = r.severity.value_or(model::Severity::kP3);
  i.status = r.status.value_or(model::IssueStatus::kOpen);
  i.service = r.service;
  i.environment = r.environment;
  i.team = r.team;
  i.labels = r.labels;
  i.metadata_json = r.metadata_json.empty() ? "{}" : r.metadata_json;
  i.external_url = r.external_url;
  i.connector_id = r.connector_id;
  i.source_created_at = r.source_created_at;
  i.source_updated_at = r.source_updated_at;
  i.first_seen_at = i.last_seen_at = i.created_at = i.updated_at = now;
  if (r.resolution && !r.resolution->empty()) i.resolution = r.resolution;
  if (i.status == model::IssueStatus::kResolved || i.status == model::IssueStatus::kClosed) {
    i.resolved_at = now;
  }
  return i;
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out.push_back(',');
    out += s;
  }
  return out;
}

std::vector<std::string> SplitScopes(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

constexpr const char* kTokenColumns =
    "id, workspace_id, name, scopes, hash, prefix, expires_at, last_used_at, revoked_at, "
    "previous_hash, previous_expires_at, created_at";

model::ApiToken ReadToken(const Stmt& s) {
  model::ApiToken t;
  t.id = s.Text(0);
  t.workspace_id = s.Text(1);
  t.name = s.Text(2);
  t.scopes = SplitScopes(s.Text(3));
  t.hash_hex = s.Text(4);
  t.prefix = s.Text(5);
  t.expires_at = OptTime(s, 6);
  t.last_used_at = OptTime(s, 7);
  t.revoked_at = OptTime(s, 8);
  t.previous_hash_hex = s.Text(9);
  t.previous_expires_at = OptTime(s, 10);
  t.created_at = FromUnixMillis(s.Int(11));
  return t;
}

// Turns free text into an FTS5 query of quoted terms (all must match), so user input can
// never be FTS syntax.
std::string FtsQuery(const std::string& q) {
  std::string out;
  std::string term;
  auto flush = [&] {
    if (term.empty()) return;
    if (!out.empty()) out.push_back(' ');
    out += '"' + term + '"';
    term.clear();
  };
  for (char c : q) {
    if (std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80 ||
        c == '_') {
      term.push_back(c);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

// ---------------------------------------------------------------------------------------
// The store

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, StoreOptions options, const Clock& clock, Random& random)
      : path_(std::move(path)),
        options_(options),
        clock_(clock),
        random_(random),
        seen_log_(options.seen_round_keys) {}

  ~SqliteStore() override { Close(); }

  Status Init() {
    auto conn = Conn::Open(path_, options_.busy_timeout, sqlite::ConnVfs::kWalBatching);
    if (!conn) return Fail(conn.error());
    writer_conn_ = std::move(*conn);
    if (auto s = Migrate(); !s) return s;
    if (auto s = CountNewMembers(); !s) return s;
    if (auto s = OpenSearchIndex(); !s) return s;
    // Stale last-seen entries a process left when it died (seen_log.h). Only by the process
    // that keeps the search index, the first on this database: one that opens beside a
    // running server (`causeloop import`) would count that server's stale entries, not yet
    // deleted, and hold the writer lock for the whole scan.
    if (search_->keeping()) {
      if (auto repaired = sqlite::SeenLog::Repair(*writer_conn_); !repaired) {
        return Fail(repaired.error());
      } else if (*repaired) {
        log::Info("repaired the last-seen order of issues", {});
      }
    }
    RecountPatterns();
    for (int i = 0; i < options_.read_connections; ++i) {
      auto rc = Conn::Open(path_, options_.busy_timeout);
      if (!rc) return Fail(rc.error());
      if (auto s = sqlite::SearchIndexer::Attach(**rc, path_); !s) return s;
      readers_.push_back(std::move(*rc));
    }
    // Checkpoints run on their own connection and thread, so copying WAL pages back into
    // the database (and its fsync) never stalls the writer. Registering the WAL hook also
    // turns SQLite's automatic (in-writer) checkpoint off.
    // Its database writes start going to disk as they are made (writeback_vfs.h), so the
    // fsync at the end of a pass does not hold up the WAL fsyncs that answer requests.
    auto cc = Conn::Open(path_, options_.busy_timeout, sqlite::ConnVfs::kEarlyWriteback);
    if (!cc) return Fail(cc.error());
    checkpoint_conn_ = std::move(*cc);
    sqlite3_wal_hook(writer_conn_->raw(), &SqliteStore::OnWalCommit, this);
    // Opened now, not on the first answer (when a full file table would leave no choice but
    // to stop): the completion thread fsyncs the WAL through it (SyncWal).
    if (auto s = OpenWalForSync(); !s) return s;
    checkpointer_ = std::jthread([this](const std::stop_token& st) { CheckpointLoop(st); });
    completer_ = std::jthread([this](const std::stop_token& st) { CompletionLoop(st); });
    search_->Start();
    writer_ = std::jthread([this](const std::stop_token& st) { WriterLoop(st); });
    return {};
  }

  bool Ready() override {
    auto r = WithReader<bool>([](Conn& c) -> Result<bool> {
      auto s = c.Prepare("SELECT MAX(version) FROM schema_migrations");
      if (!s) return Fail(s.error());
      if ((*s)->Step() != SQLITE_ROW) return false;
      return (*s)->Int(0) == sqlite::Migrations().back().version;
    });
    return r && *r && !closed_.load();
  }

  void Close() override {
    {
      std::lock_guard lock(mu_);
      if (closed_.exchange(true)) return;
    }
    cv_.notify_all();
    if (writer_.joinable()) {
      writer_.request_stop();
      cv_.notify_all();
      writer_.join();
    }
    // The writer has drained the queue; now let every callback run.
    if (completer_.joinable()) {
      completer_.request_stop();
      completer_.join();
    }
    if (checkpointer_.joinable()) {
      checkpointer_.request_stop();
      checkpoint_cv_.notify_all();
      checkpointer_.join();
    }
    if (search_) search_->Stop();
    if (wal_fd_ >= 0) {
      ::close(wal_fd_);
      wal_fd_ = -1;
    }
  }

  StoreStats Stats() const override {
    StoreStats s;
    s.write_queue_depth = static_cast<long long>(queued_records_.load());
    s.transactions = transactions_.load();
    s.records_committed = records_committed_.load();
    s.wal_restarts = wal_restarts_.load();
    s.durable_transactions = durable_transactions_.load();
    return s;
  }

  // --- Tenancy -----------------------------------------------------------------------

  Result<bool> HasOrganizations() override {
    return WithReader<bool>([](Conn& c) -> Result<bool> {
      auto s = c.Prepare("SELECT EXISTS(SELECT 1 FROM organizations)");
      if (!s) return Fail(s.error());
      (*s)->Step();
      return (*s)->Int(0) != 0;
    });
  }

  Status CreateOrganization(const model::Organization& org, const model::Workspace& ws) override {
    return WriteSync<bool>(
               1,
               [&](Conn& c) -> Result<bool> {
                 auto s =
                     c.Prepare("INSERT INTO organizations(id, name, created_at) VALUES(?,?,?)");
                 if (!s) return Fail(s.error());
                 (*s)->Bind(1, org.id).Bind(2, org.name).Bind(3, ToUnixMillis(org.created_at));
                 if (int rc = (*s)->Step(); rc != SQLITE_DONE)
                   return Fail(sqlite::SqliteError(c.raw(), rc, "insert org"));
                 auto w = c.Prepare(
                     "INSERT INTO workspaces(id, organization_id, name, created_at) "
                     "VALUES(?,?,?,?)");
                 if (!w) return Fail(w.error());
                 (*w)->Bind(1, ws.id).Bind(2, ws.organization_id).Bind(3, ws.name);
                 (*w)->Bind(4, ToUnixMillis(ws.created_at));
                 if (int rc = (*w)->Step(); rc != SQLITE_DONE)
                   return Fail(sqlite::SqliteError(c.raw(), rc, "insert workspace"));
                 return true;
               })
        .map([](bool) {});
  }

  Result<model::Workspace> GetWorkspace(const std::string& id) override {
    return WithReader<model::Workspace>([&](Conn& c) -> Result<model::Workspace> {
      auto s = c.Prepare("SELECT id, organization_id, name, created_at FROM workspaces WHERE id=?");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, id);
      if ((*s)->Step() != SQLITE_ROW) return Fail(ErrorCode::kNotFound, "workspace not found");
      return model::Workspace{(*s)->Text(0), (*s)->Text(1), (*s)->Text(2),
                              FromUnixMillis((*s)->Int(3))};
    });
  }

  Status InsertToken(const model::ApiToken& t) override {
    return WriteSync<bool>(1,
                           [&](Conn& c) -> Result<bool> {
                             auto s =
                                 c.Prepare(std::string("INSERT INTO api_tokens(") + kTokenColumns +
                                           ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
                             if (!s) return Fail(s.error());
                             Stmt& st = **s;
                             st.Bind(1, t.id)
                                 .Bind(2, t.workspace_id)
                                 .Bind(3, t.name)
                                 .Bind(4, JoinScopes(t.scopes));
                             st.Bind(5, t.hash_hex).Bind(6, t.prefix);
                             BindTime(st, 7, t.expires_at);
                             BindTime(st, 8, t.last_used_at);
                             BindTime(st, 9, t.revoked_at);
                             st.BindOptText(10, t.previous_hash_hex);
                             BindTime(st, 11, t.previous_expires_at);
                             st.Bind(12, ToUnixMillis(t.created_at));
                             if (int rc = st.Step(); rc != SQLITE_DONE)
                               return Fail(sqlite::SqliteError(c.raw(), rc, "insert token"));
                             return true;
                           })
        .map([](bool) {});
  }

  Result<std::optional<model::ApiToken>> FindTokenByHash(const std::string& hash) override {
    using R = std::optional<model::ApiToken>;
    return WithReader<R>([&](Conn& c) -> Result<R> {
      static const std::string kSql =
          std::string("SELECT ") + kTokenColumns +
          " FROM api_tokens WHERE hash=? UNION ALL SELECT " + kTokenColumns +
          " FROM api_tokens WHERE previous_hash=? AND previous_expires_at > ?";
      auto s = c.Prepare(kSql);
      if (!s) return Fail(s.error());
      (*s)->Bind(1, hash).Bind(2, hash).Bind(3, ToUnixMillis(clock_.Now()));
      if ((*s)->Step() != SQLITE_ROW) return R{};
      return R{ReadToken(**s)};
    });
  }

  Result<std::vector<model::ApiToken>> ListTokens(const std::string& ws) override {
    using R = std::vector<model::ApiToken>;
    return WithReader<R>([&](Conn& c) -> Result<R> {
      auto s = c.Prepare(std::string("SELECT ") + kTokenColumns +
                         " FROM api_tokens WHERE workspace_id=? ORDER BY created_at, id");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, ws);
      R out;
      while ((*s)->Step() == SQLITE_ROW) out.push_back(ReadToken(**s));
      return out;
    });
  }

  Result<model::ApiToken> GetToken(const std::string& ws, const std::string& id) override {
    return WithReader<model::ApiToken>(
        [&](Conn& c) -> Result<model::ApiToken> { return ReadTokenById(c, ws, id); });
  }

  Result<model::ApiToken> RotateToken(const std::string& ws, const std::string& id,
                                      const std::string& new_hash, const std::string& new_prefix,
                                      std::optional<SystemTime> previous_expires_at) override {
    return WriteSync<model::ApiToken>(1, [&](Conn& c) -> Result<model::ApiToken> {
      auto current = ReadTokenById(c, ws, id);
      if (!current) return current;
      if (current->revoked_at) return Fail(ErrorCode::kConflict, "token is revoked");
      auto s = c.Prepare(
          "UPDATE api_tokens SET hash=?, prefix=?, previous_hash=?, previous_expires_at=? "
          "WHERE id=? AND workspace_id=?");
      if (!s) return Fail(s.error());
      Stmt& st = **s;
      st.Bind(1, new_hash).Bind(2, new_prefix);
      if (previous_expires_at) {
        st.Bind(3, current->hash_hex).Bind(4, ToUnixMillis(*previous_expires_at));
      } else {
        st.BindNull(3).BindNull(4);
      }
      st.Bind(5, id).Bind(6, ws);
      if (int rc = st.Step(); rc != SQLITE_DONE)
        return Fail(sqlite::SqliteError(c.raw(), rc, "rotate"));
      return ReadTokenById(c, ws, id);
    });
  }

  Status RevokeToken(const std::string& ws, const std::string& id, SystemTime at) override {
    return WriteSync<bool>(1,
                           [&](Conn& c) -> Result<bool> {
                             auto current = ReadTokenById(c, ws, id);
                             if (!current) return Fail(current.error());
                             auto s = c.Prepare(
                                 "UPDATE api_tokens SET revoked_at=COALESCE(revoked_at, ?), "
                                 "previous_hash=NULL, "
                                 "previous_expires_at=NULL WHERE id=? AND workspace_id=?");
                             if (!s) return Fail(s.error());
                             (*s)->Bind(1, ToUnixMillis(at)).Bind(2, id).Bind(3, ws);
                             if (int rc = (*s)->Step(); rc != SQLITE_DONE)
                               return Fail(sqlite::SqliteError(c.raw(), rc, "revoke"));
                             return true;
                           })
        .map([](bool) {});
  }

  void TouchTokens(const std::map<std::string, SystemTime>& last_used) override {
    if (last_used.empty()) return;
    auto copy = std::make_shared<std::map<std::string, SystemTime>>(last_used);
    Submit<bool>(
        0,
        [copy](Conn& c) -> Result<bool> {
          auto s = c.Prepare(
              "UPDATE api_tokens SET last_used_at=MAX(COALESCE(last_used_at,0),?) WHERE id=?");
          if (!s) return Fail(s.error());
          for (const auto& [id, at] : *copy) {
            (*s)->Reset().Bind(1, ToUnixMillis(at)).Bind(2, id);
            (*s)->Step();
          }
          return true;
        },
        [](const Result<bool>&) {});
  }

  // --- Ingest ------------------------------------------------------------------------

  void Ingest(const std::string& ws, std::vector<IssueRecord> records, IngestJob job,
              Callback<std::vector<UpsertOutcome>> done) override {
    size_t weight = std::max<size_t>(records.size(), 1);
    auto recs = std::make_shared<std::vector<IssueRecord>>(std::move(records));
    auto shared_job = std::make_shared<IngestJob>(std::move(job));
    // The engine's state-free work (masking, signatures) runs here, on the caller's thread,
    // so the single writer only matches. Wasted for records that turn out to be known.
    auto prepared = std::make_shared<std::vector<std::shared_ptr<const PatternAssigner::Prepared>>>(
        recs->size());
    if (assigner_ != nullptr) {
      for (size_t i = 0; i < recs->size(); ++i) {
        if (!(*recs)[i].update_only) (*prepared)[i] = assigner_->Prepare((*recs)[i]);
      }
    }
    Submit<std::vector<UpsertOutcome>>(
        weight,
        [this, ws, recs, shared_job, prepared](Conn& c) -> Result<std::vector<UpsertOutcome>> {
          if (!shared_job->delivery_id.empty()) {
            if (auto s = RememberDelivery(c, ws, *shared_job); !s) return Fail(s.error());
          }
          std::vector<UpsertOutcome> out;
          out.reserve(recs->size());
          for (size_t i = 0; i < recs->size(); ++i) {
            auto o = Upsert(c, ws, (*recs)[i], (*prepared)[i].get());
            if (!o) return Fail(o.error());
            out.push_back(std::move(*o));
          }
          IngestJob& j = *shared_job;
          j.workspace_id = ws;
          j.completed_at = clock_.Now();
          auto s = c.Prepare(
              "INSERT INTO ingest_jobs(id, workspace_id, status, accepted, rejected, created_at, "
              "completed_at) VALUES(?,?,?,?,?,?,?)");
          if (!s) return Fail(s.error());
          (*s)->Bind(1, j.id).Bind(2, ws).Bind(3, j.status).Bind(4, j.accepted);
          (*s)->Bind(5, j.rejected).Bind(6, ToUnixMillis(j.created_at));
          (*s)->Bind(7, ToUnixMillis(j.completed_at));
          if (int rc = (*s)->Step(); rc != SQLITE_DONE)
            return Fail(sqlite::SqliteError(c.raw(), rc, "insert job"));
          if (auto f = ForgetJobs(c, j.completed_at - kJobMemory); !f) return Fail(f.error());
          return out;
        },
        std::move(done));
  }

  Result<IngestJob> GetIngestJob(const std::string& ws, const std::string& id) override {
    return WithReader<IngestJob>([&](Conn& c) -> Result<IngestJob> {
      auto s = c.Prepare(
          "SELECT id, workspace_id, status, accepted, rejected, created_at, completed_at FROM "
          "ingest_jobs WHERE id=? AND workspace_id=?");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, id).Bind(2, ws);
      if ((*s)->Step() != SQLITE_ROW) return Fail(ErrorCode::kNotFound, "ingest job not found");
      Stmt& st = **s;
      return IngestJob{st.Text(0),
                       st.Text(1),
                       st.Text(2),
                       st.Int(3),
                       st.Int(4),
                       FromUnixMillis(st.Int(5)),
                       FromUnixMillis(st.Int(6))};
    });
  }

  // --- Issues ------------------------------------------------------------------------

  void CreateIssue(const std::string& ws, IssueRecord record, Callback<Issue> done) override {
    auto rec = std::make_shared<IssueRecord>(std::move(record));
    Submit<Issue>(
        1,
        [this, ws, rec](Conn& c) -> Result<Issue> {
          long long rowid = 0;
          auto existing = FindByKey(c, ws, rec->source, rec->external_id, &rowid);
          if (!existing) return Fail(existing.error());
          if (*existing) {
            Error e{ErrorCode::kConflict, "an issue with this source and external_id exists", {}};
            e.details.emplace_back("issue_id", (*existing)->id);
            return Fail(std::move(e));
          }
          SystemTime now = clock_.Now();
          Issue issue = NewIssue(ws, *rec, NewId("iss_", now, random_), now);
          if (auto s = AssignPattern(ws, *rec, issue); !s) return Fail(s.error());
          if (auto s = InsertIssue(c, issue); !s) return Fail(s.error());
          if (auto s = AppendEvent(c, ws, "issue.created", IssueEventData(issue, false), now); !s)
            return Fail(s.error());
          return issue;
        },
        std::move(done));
  }

  Result<Issue> GetIssue(const std::string& ws, const std::string& id) override {
    return WithReader<Issue>([&](Conn& c) -> Result<Issue> { return ReadIssueById(c, ws, id); });
  }

  Result<IssuePage> ListIssues(const std::string& ws, const IssueQuery& q) override {
    return WithReader<IssuePage>([&](Conn& c) -> Result<IssuePage> { return List(c, ws, q); });
  }

  void PatchIssue(const std::string& ws, const std::string& id, IssuePatch patch,
                  Callback<Issue> done) override {
    auto p = std::make_shared<IssuePatch>(std::move(patch));
    Submit<Issue>(
        1, [this, ws, id, p](Conn& c) -> Result<Issue> { return ApplyPatch(c, ws, id, *p); },
        std::move(done));
  }

  void ResolveIssue(const std::string& ws, const std::string& id, model::Resolution resolution,
                    Callback<Issue> done) override {
    auto res = std::make_shared<model::Resolution>(std::move(resolution));
    Submit<Issue>(
        1,
        [this, ws, id, res](Conn& c) -> Result<Issue> {
          long long rowid = 0;
          auto issue = ReadIssueById(c, ws, id, &rowid);
          if (!issue) return issue;
          Issue before = *issue;
          SystemTime now = clock_.Now();
          issue->status = model::IssueStatus::kResolved;
          issue->resolved_at = now;
          issue->updated_at = now;
          if (res->source_field.empty()) res->source_field = "api";
          issue->resolution = *res;
          if (auto s = UpdateIssue(c, *issue, rowid, before); !s) return Fail(s.error());
          if (auto s = AppendEvent(c, ws, "issue.resolved", IssueEventData(*issue, false), now); !s)
            return Fail(s.error());
          return issue;
        },
        std::move(done));
  }

  void BulkUpdateIssues(const std::string& ws, std::vector<std::string> ids, IssuePatch patch,
                        Callback<BulkOutcome> done) override {
    auto p = std::make_shared<IssuePatch>(std::move(patch));
    auto id_list = std::make_shared<std::vector<std::string>>(std::move(ids));
    Submit<BulkOutcome>(
        std::max<size_t>(id_list->size(), 1),
        [this, ws, id_list, p](Conn& c) -> Result<BulkOutcome> {
          BulkOutcome out;
          for (const auto& id : *id_list) {
            auto r = ApplyPatch(c, ws, id, *p);
            if (r) {
              out.updated.push_back(id);
            } else if (r.error().code == ErrorCode::kNotFound) {
              out.not_found.push_back(id);
            } else {
              return Fail(r.error());
            }
          }
          return out;
        },
        std::move(done));
  }

  // --- Patterns ----------------------------------------------------------------------

  void SetPatternAssigner(PatternAssigner* assigner) override { assigner_ = assigner; }

  // --- Outbound webhooks --------------------------------------------------------------

  void CreateWebhookEndpoint(model::WebhookEndpoint endpoint,
                             Callback<model::WebhookEndpoint> done) override {
    auto e = std::make_shared<model::WebhookEndpoint>(std::move(endpoint));
    Submit<model::WebhookEndpoint>(
        1,
        [this, e](Conn& c) -> Result<model::WebhookEndpoint> {
          if (auto s = sqlite::InsertEndpoint(c, *e); !s) return Fail(s.error());
          auto last = MaxSequence(c, e->workspace_id);
          if (!last) return Fail(last.error());
          if (auto s = sqlite::EnsureCursor(c, e->workspace_id, *last); !s) return Fail(s.error());
          return *e;
        },
        std::move(done));
  }

  void UpdateWebhookEndpoint(model::WebhookEndpoint endpoint,
                             Callback<model::WebhookEndpoint> done) override {
    auto e = std::make_shared<model::WebhookEndpoint>(std::move(endpoint));
    Submit<model::WebhookEndpoint>(
        1,
        [e](Conn& c) -> Result<model::WebhookEndpoint> {
          if (auto s = sqlite::UpdateEndpoint(c, *e); !s) return Fail(s.error());
          return *e;
        },
        std::move(done));
  }

  void DeleteWebhookEndpoint(const std::string& ws, const std::string& id,
                             Callback<bool> done) override {
    Submit<bool>(
        1,
        [ws, id](Conn& c) -> Result<bool> {
          auto deleted = sqlite::DeleteEndpoint(c, ws, id);
          if (!deleted) return deleted;
          if (!*deleted) return Fail(ErrorCode::kNotFound, "no such webhook");
          return true;
        },
        std::move(done));
  }

  Result<std::optional<model::WebhookEndpoint>> GetWebhookEndpoint(const std::string& ws,
                                                                   const std::string& id) override {
    using R = std::optional<model::WebhookEndpoint>;
    return WithReader<R>([&](Conn& c) -> Result<R> { return sqlite::SelectEndpoint(c, ws, id); });
  }

  Result<std::vector<model::WebhookEndpoint>> ListWebhookEndpoints(const std::string& ws) override {
    using R = std::vector<model::WebhookEndpoint>;
    return WithReader<R>([&](Conn& c) -> Result<R> { return sqlite::SelectEndpoints(c, ws); });
  }

  void AddDeliveries(const std::string& ws, std::vector<model::WebhookDelivery> deliveries,
                     long long cursor, Callback<size_t> done) override {
    auto d = std::make_shared<std::vector<model::WebhookDelivery>>(std::move(deliveries));
    Submit<size_t>(
        std::max<size_t>(1, d->size()),
        [ws, d, cursor](Conn& c) -> Result<size_t> {
          auto n = sqlite::InsertDeliveries(c, *d);
          if (!n) return n;
          if (cursor >= 0) {
            if (auto s = sqlite::SetCursor(c, ws, cursor); !s) return Fail(s.error());
          }
          return n;
        },
        std::move(done));
  }

  Result<std::vector<std::pair<std::string, long long>>> ListDispatchCursors() override {
    using R = std::vector<std::pair<std::string, long long>>;
    return WithReader<R>([&](Conn& c) -> Result<R> { return sqlite::SelectCursors(c); });
  }

  Result<std::vector<std::pair<long long, model::WebhookDelivery>>> ListPendingDeliveries(
      long long after_rowid, int limit) override {
    using R = std::vector<std::pair<long long, model::WebhookDelivery>>;
    return WithReader<R>(
        [&](Conn& c) -> Result<R> { return sqlite::SelectPending(c, after_rowid, limit); });
  }

  void RecordAttempt(AttemptRecord record, Callback<model::WebhookDelivery> done) override {
    auto r = std::make_shared<AttemptRecord>(std::move(record));
    Submit<model::WebhookDelivery>(
        1,
        [this, r](Conn& c) -> Result<model::WebhookDelivery> {
          auto d = sqlite::SelectDelivery(c, r->workspace_id, r->endpoint_id, r->delivery_id,
                                          /*with_attempts=*/false);
          if (!d) return Fail(d.error());
          if (!*d) return Fail(ErrorCode::kNotFound, "no such delivery");
          model::WebhookDelivery& delivery = **d;
          SystemTime now = clock_.Now();
          if (auto s = sqlite::InsertAttempt(c, delivery.id, r->attempt); !s)
            return Fail(s.error());
          delivery.attempts = std::max(delivery.attempts, r->attempt.number);
          delivery.cycle_attempts = r->cycle_attempts;
          delivery.status = r->status;
          delivery.next_attempt_at = r->next_attempt_at;
          delivery.updated_at = now;
          if (auto s = sqlite::UpdateDeliveryState(c, delivery); !s) return Fail(s.error());
          auto e = sqlite::SelectEndpoint(c, r->workspace_id, r->endpoint_id);
          if (!e) return Fail(e.error());
          if (!*e) return delivery;  // deleted meanwhile
          model::WebhookEndpoint& endpoint = **e;
          bool changed = false;
          if (r->endpoint_ok && endpoint.failing_since) {
            endpoint.failing_since.reset();
            changed = true;
          } else if (!r->endpoint_ok && !endpoint.failing_since) {
            endpoint.failing_since = r->attempt.at;
            changed = true;
          }
          bool disabling = !r->disable_reason.empty() && endpoint.enabled;
          if (disabling) {
            endpoint.enabled = false;
            endpoint.disabled_reason = r->disable_reason;
            changed = true;
          }
          if (changed) {
            endpoint.updated_at = now;
            if (auto s = sqlite::UpdateEndpoint(c, endpoint); !s) return Fail(s.error());
          }
          if (disabling) {
            if (auto s = AppendEvent(c, r->workspace_id, "webhook.endpoint_disabled",
                                     sqlite::EndpointEventData(endpoint), now);
                !s) {
              return Fail(s.error());
            }
          }
          return delivery;
        },
        std::move(done));
  }

  Result<std::vector<model::WebhookDelivery>> ListDeliveries(const std::string& ws,
                                                             const std::string& endpoint_id,
                                                             const std::string& before,
                                                             int limit) override {
    using R = std::vector<model::WebhookDelivery>;
    return WithReader<R>([&](Conn& c) -> Result<R> {
      return sqlite::SelectDeliveries(c, ws, endpoint_id, before, limit);
    });
  }

  Result<std::optional<model::WebhookDelivery>> GetDelivery(const std::string& ws,
                                                            const std::string& endpoint_id,
                                                            const std::string& id) override {
    using R = std::optional<model::WebhookDelivery>;
    return WithReader<R>([&](Conn& c) -> Result<R> {
      return sqlite::SelectDelivery(c, ws, endpoint_id, id, /*with_attempts=*/true);
    });
  }

  void RequeueDeliveries(const std::string& ws, const std::string& endpoint_id,
                         const std::string& delivery_id, SystemTime failed_since,
                         Callback<std::vector<model::WebhookDelivery>> done) override {
    Submit<std::vector<model::WebhookDelivery>>(
        1,
        [this, ws, endpoint_id, delivery_id,
         failed_since](Conn& c) -> Result<std::vector<model::WebhookDelivery>> {
          std::vector<model::WebhookDelivery> picked;
          if (!delivery_id.empty()) {
            auto d = sqlite::SelectDelivery(c, ws, endpoint_id, delivery_id, false);
            if (!d) return Fail(d.error());
            if (!*d) return Fail(ErrorCode::kNotFound, "no such delivery");
            picked.push_back(std::move(**d));
          } else {
            auto f = sqlite::SelectFailedSince(c, ws, endpoint_id, failed_since);
            if (!f) return Fail(f.error());
            picked = std::move(*f);
          }
          SystemTime now = clock_.Now();
          for (auto& d : picked) {
            d.status = model::DeliveryStatus::kPending;
            d.cycle_attempts = 0;
            d.next_attempt_at = now;
            d.updated_at = now;
            if (auto s = sqlite::UpdateDeliveryState(c, d); !s) return Fail(s.error());
          }
          return picked;
        },
        std::move(done));
  }

  // --- Connectors and inbound receivers ----------------------------------------------

  void CreateConnector(model::Connector connector, Callback<model::Connector> done) override {
    auto con = std::make_shared<model::Connector>(std::move(connector));
    Submit<model::Connector>(
        1,
        [con](Conn& c) -> Result<model::Connector> {
          if (auto s = sqlite::InsertConnector(c, *con); !s) return Fail(s.error());
          return *con;
        },
        std::move(done));
  }

  void UpdateConnector(model::Connector connector, Callback<model::Connector> done) override {
    auto con = std::make_shared<model::Connector>(std::move(connector));
    Submit<model::Connector>(
        1,
        [con](Conn& c) -> Result<model::Connector> {
          if (auto s = sqlite::UpdateConnector(c, *con); !s) return Fail(s.error());
          // The row, not the argument: type and created_at are not the caller's to change.
          auto stored = sqlite::SelectConnector(c, con->workspace_id, con->id);
          if (!stored) return Fail(stored.error());
          if (!*stored) return Fail(ErrorCode::kNotFound, "no such connector");
          return std::move(**stored);
        },
        std::move(done));
  }

  void DeleteConnector(const std::string& ws, const std::string& id, Callback<bool> done) override {
    Submit<bool>(
        1,
        [ws, id](Conn& c) -> Result<bool> {
          auto deleted = sqlite::DeleteConnector(c, ws, id);
          if (!deleted) return deleted;
          if (!*deleted) return Fail(ErrorCode::kNotFound, "no such connector");
          return true;
        },
        std::move(done));
  }

  Result<std::optional<model::Connector>> GetConnector(const std::string& ws,
                                                       const std::string& id) override {
    using R = std::optional<model::Connector>;
    return WithReader<R>([&](Conn& c) -> Result<R> { return sqlite::SelectConnector(c, ws, id); });
  }

  Result<std::optional<model::Connector>> FindConnector(const std::string& id) override {
    using R = std::optional<model::Connector>;
    return WithReader<R>(
        [&](Conn& c) -> Result<R> { return sqlite::SelectConnectorAnyWorkspace(c, id); });
  }

  Result<std::vector<model::Connector>> ListConnectors(const std::string& ws) override {
    using R = std::vector<model::Connector>;
    return WithReader<R>([&](Conn& c) -> Result<R> { return sqlite::SelectConnectors(c, ws); });
  }

  Result<model::AlertWebhookSettings> GetAlertWebhookSettings(const std::string& ws) override {
    return WithReader<model::AlertWebhookSettings>(
        [&](Conn& c) -> Result<model::AlertWebhookSettings> {
          return sqlite::SelectAlertSettings(c, ws);
        });
  }

  void SaveAlertWebhookSettings(model::AlertWebhookSettings settings,
                                Callback<model::AlertWebhookSettings> done) override {
    auto a = std::make_shared<model::AlertWebhookSettings>(std::move(settings));
    Submit<model::AlertWebhookSettings>(
        1,
        [this, a](Conn& c) -> Result<model::AlertWebhookSettings> {
          a->updated_at = clock_.Now();
          if (auto s = sqlite::UpsertAlertSettings(c, *a); !s) return Fail(s.error());
          return *a;
        },
        std::move(done));
  }

  void RecordReceiverDelivery(const std::string& ws, const std::string& receiver, SystemTime at,
                              bool signature_ok, const std::string& reason,
                              std::function<void(Status)> done) override {
    // Weight 1, not 0 like TouchTokens: a flood of refused deliveries then meets the queue
    // limit and is dropped instead of growing the queue without bound.
    Submit<bool>(
        1,
        [ws, receiver, at, signature_ok, reason](Conn& c) -> Result<bool> {
          if (auto s = sqlite::CountReceiverDelivery(c, ws, receiver, at, signature_ok, reason);
              !s) {
            return Fail(s.error());
          }
          return true;
        },
        StatusCallback(std::move(done)));
  }

  Result<model::ReceiverStats> GetReceiverStats(const std::string& ws, const std::string& receiver,
                                                SystemTime now) override {
    return WithReader<model::ReceiverStats>([&](Conn& c) -> Result<model::ReceiverStats> {
      return sqlite::SelectReceiverStats(c, ws, receiver, now);
    });
  }

  void AddCommitObserver(CommitObserver* observer) override {
    std::lock_guard lock(observers_mu_);
    observers_.push_back(observer);
    has_observers_ = true;
  }

  Result<std::vector<PatternStateRow>> LoadPatternStates(const std::string& ws) override {
    using R = std::vector<PatternStateRow>;
    return WithReader<R>([&](Conn& c) -> Result<R> { return sqlite::SelectPatternStates(c, ws); });
  }

  Result<std::map<std::string, std::string>> LoadPatternOverrides(const std::string& ws) override {
    using R = std::map<std::string, std::string>;
    return WithReader<R>(
        [&](Conn& c) -> Result<R> { return sqlite::SelectPatternOverrides(c, ws); });
  }

  Result<model::Pattern> GetPattern(const std::string& ws, const std::string& id) override {
    return WithReader<model::Pattern>(
        [&](Conn& c) -> Result<model::Pattern> { return sqlite::SelectPattern(c, ws, id); });
  }

  Result<model::PatternDetail> GetPatternDetail(const std::string& ws, const std::string& id,
                                                int days, SystemTime now) override {
    return WithReader<model::PatternDetail>([&](Conn& c) -> Result<model::PatternDetail> {
      return sqlite::SelectPatternDetail(c, ws, id, days, now);
    });
  }

  Result<PatternPage> ListPatterns(const std::string& ws, const PatternQuery& q) override {
    return WithReader<PatternPage>(
        [&](Conn& c) -> Result<PatternPage> { return sqlite::SelectPatterns(c, ws, q); });
  }

  void SettlePatternCounters(std::function<void()> then) override {
    if (!counters_waiting_.load()) {
      then();
      return;
    }
    ForceWaitingWrites(std::move(then));
  }

  void SettleSearchIndex(std::function<void()> then) override { search_->Settle(std::move(then)); }

  // One transaction that writes everything waiting (counters, member lists), then `then`
  // on the completion thread.
  void ForceWaitingWrites(std::function<void()> then) {
    Submit<bool>(
        0,
        [this](Conn&) -> Result<bool> {
          force_counters_ = true;
          return true;
        },
        [then = std::move(then)](const Result<bool>&) { then(); });
  }

  void PatchPattern(const std::string& ws, const std::string& id, PatternPatch patch,
                    Callback<model::Pattern> done) override {
    auto p = std::make_shared<PatternPatch>(std::move(patch));
    Submit<model::Pattern>(
        1,
        [this, ws, id, p](Conn& c) -> Result<model::Pattern> {
          auto pattern = sqlite::SelectPattern(c, ws, id);
          if (!pattern) return pattern;
          SystemTime now = clock_.Now();
          if (p->title) {
            pattern->title = *p->title;
            pattern->title_overridden = true;
          }
          if (p->status) pattern->status = *p->status;
          // emerging/active follow the count; setting either returns to that rule.
          pattern->status = model::StatusForCount(pattern->status, pattern->issue_count);
          pattern->updated_at = now;
          auto s = c.Prepare(
              "UPDATE patterns SET title=?, title_overridden=?, status=?, updated_at=? "
              "WHERE workspace_id=? AND id=?");
          if (!s) return Fail(s.error());
          (*s)->Bind(1, pattern->title).Bind(2, pattern->title_overridden);
          (*s)->Bind(3, model::PatternStatusName(pattern->status)).Bind(4, ToUnixMillis(now));
          (*s)->Bind(5, ws).Bind(6, id);
          if (int rc = (*s)->Step(); rc != SQLITE_DONE)
            return Fail(sqlite::SqliteError(c.raw(), rc, "patch pattern"));
          if (auto a =
                  AppendEvent(c, ws, "pattern.updated",
                              sqlite::PatternEventData(
                                  *pattern, [](JsonWriter& w) { w.Field("reason", "edited"); }),
                              now);
              !a) {
            return Fail(a.error());
          }
          return pattern;
        },
        std::move(done));
  }

  void LinkIssue(const std::string& ws, const std::string& issue_id, const std::string& pattern_id,
                 Callback<Issue> done) override {
    Submit<Issue>(
        1,
        [this, ws, issue_id, pattern_id](Conn& c) -> Result<Issue> {
          return ApplyLink(c, ws, issue_id, pattern_id);
        },
        std::move(done));
  }

  void MergePatterns(const std::string& ws, const std::string& from, const std::string& into,
                     Callback<model::Pattern> done) override {
    Submit<model::Pattern>(
        1,
        [this, ws, from, into](Conn& c) -> Result<model::Pattern> {
          return ApplyMerge(c, ws, from, into);
        },
        std::move(done));
  }

  // --- Events ------------------------------------------------------------------------

  Result<std::vector<model::Event>> ListEvents(const std::string& ws, long long after,
                                               int limit) override {
    using R = std::vector<model::Event>;
    return WithReader<R>([&](Conn& c) -> Result<R> {
      auto s = c.Prepare(
          "SELECT id, type, timestamp, sequence, data FROM events WHERE workspace_id=? AND "
          "sequence>? ORDER BY sequence LIMIT ?");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, ws).Bind(2, after).Bind(3, limit);
      R out;
      while ((*s)->Step() == SQLITE_ROW) {
        Stmt& st = **s;
        out.push_back(model::Event{st.Text(0), st.Text(1), FromUnixMillis(st.Int(2)), ws, st.Int(3),
                                   st.Text(4)});
      }
      return out;
    });
  }

  Result<long long> LastSequence(const std::string& ws) override {
    return WithReader<long long>([&](Conn& c) -> Result<long long> { return MaxSequence(c, ws); });
  }

  // --- Idempotency ---------------------------------------------------------------------

  Result<std::optional<StoredResponse>> FindIdempotent(const std::string& ws,
                                                       const std::string& key,
                                                       const std::string& method,
                                                       const std::string& path,
                                                       SystemTime not_before) override {
    using R = std::optional<StoredResponse>;
    return WithReader<R>([&](Conn& c) -> Result<R> {
      auto s = c.Prepare(
          "SELECT request_hash, status, body, content_type FROM idempotency_keys WHERE "
          "workspace_id=? AND key=? AND method=? AND path=? AND created_at>=?");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, ws).Bind(2, key).Bind(3, method).Bind(4, path);
      (*s)->Bind(5, ToUnixMillis(not_before));
      if ((*s)->Step() != SQLITE_ROW) return R{};
      Stmt& st = **s;
      return R{StoredResponse{st.Text(0), static_cast<int>(st.Int(1)), st.Text(2), st.Text(3)}};
    });
  }

  void SaveIdempotent(const std::string& ws, const std::string& key, const std::string& method,
                      const std::string& path, StoredResponse response,
                      std::function<void(Status)> done) override {
    auto resp = std::make_shared<StoredResponse>(std::move(response));
    Submit<bool>(
        1,
        [this, ws, key, method, path, resp](Conn& c) -> Result<bool> {
          auto s = c.Prepare(
              "INSERT INTO idempotency_keys(workspace_id, key, method, path, request_hash, status, "
              "body, content_type, created_at) VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
              "request_hash=excluded.request_hash, status=excluded.status, body=excluded.body, "
              "content_type=excluded.content_type, created_at=excluded.created_at");
          if (!s) return Fail(s.error());
          Stmt& st = **s;
          st.Bind(1, ws).Bind(2, key).Bind(3, method).Bind(4, path).Bind(5, resp->request_hash);
          st.Bind(6, resp->status).Bind(7, resp->body).Bind(8, resp->content_type);
          st.Bind(9, ToUnixMillis(clock_.Now()));
          if (int rc = st.Step(); rc != SQLITE_DONE)
            return Fail(sqlite::SqliteError(c.raw(), rc, "save idempotency"));
          return true;
        },
        StatusCallback(std::move(done)));
  }

 private:
  // A queued write: `apply` runs inside the group transaction (within its own savepoint);
  // `finish` runs after COMMIT with whether it committed.
  struct Task {
    size_t weight = 1;
    std::function<Status(Conn&)> apply;
    std::function<void(std::optional<Error>)> finish;
  };
  // A finished write waiting for its callback. It also takes the task's `apply`, so what
  // that captured (a batch's records, their prepared clustering input: many small
  // allocations) is freed on the completion thread rather than the writer's.
  struct Completion {
    std::function<void(std::optional<Error>)> finish;
    std::optional<Error> error;
    std::function<Status(Conn&)> apply;
  };

  // Adapts a Status callback, which may be empty, to Submit's.
  static Callback<bool> StatusCallback(std::function<void(Status)> done) {
    return [done = std::move(done)](Result<bool> r) {
      if (!done) return;
      if (r) {
        done({});
      } else {
        done(Fail(r.error()));
      }
    };
  }

  static void BindTime(Stmt& s, int idx, const std::optional<SystemTime>& t) {
    if (t) {
      s.Bind(idx, ToUnixMillis(*t));
    } else {
      s.BindNull(idx);
    }
  }

  template <typename T>
  Result<T> WithReader(const std::function<Result<T>(Conn&)>& fn) {
    std::unique_ptr<Conn> conn;
    {
      std::unique_lock lock(readers_mu_);
      readers_cv_.wait(lock, [&] { return !readers_.empty(); });
      conn = std::move(readers_.back());
      readers_.pop_back();
    }
    Result<T> r = fn(*conn);
    conn->ResetUsed();
    {
      std::lock_guard lock(readers_mu_);
      readers_.push_back(std::move(conn));
    }
    readers_cv_.notify_one();
    return r;
  }

  // Queues `apply`; `done` gets its result after COMMIT (or the failure).
  template <typename T>
  void Submit(size_t weight, std::function<Result<T>(Conn&)> apply, Callback<T> done) {
    auto result = std::make_shared<std::optional<Result<T>>>();
    Task task;
    task.weight = weight;
    task.apply = [apply = std::move(apply), result](Conn& c) -> Status {
      *result = apply(c);
      if (**result) return {};
      return Fail((*result)->error());
    };
    task.finish = [result, done = std::move(done)](std::optional<Error> commit_error) {
      if (commit_error) {
        done(Fail(*commit_error));
      } else if (result->has_value()) {
        done(std::move(**result));
      } else {
        done(Fail(ErrorCode::kInternal, "write was not applied"));
      }
    };
    std::unique_lock lock(mu_);
    if (closed_) {
      lock.unlock();
      task.finish(Error{ErrorCode::kUnavailable, "the store is shutting down", {}});
      return;
    }
    if (weight > 0 && queued_records_.load() + weight > options_.max_queued_records &&
        queued_records_.load() > 0) {
      lock.unlock();
      task.finish(Error{ErrorCode::kUnavailable, "the write queue is full; retry shortly", {}});
      return;
    }
    queued_records_ += weight;
    queue_.push_back(std::move(task));
    lock.unlock();
    cv_.notify_one();
  }

  // Runs a write and waits for its commit. For low-rate admin paths only.
  template <typename T>
  Result<T> WriteSync(size_t weight, std::function<Result<T>(Conn&)> apply) {
    std::mutex m;
    std::condition_variable cv;
    std::optional<Result<T>> out;
    Submit<T>(weight, std::move(apply), [&](Result<T> r) {
      std::lock_guard lock(m);
      out = std::move(r);
      cv.notify_one();
    });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return out.has_value(); });
    return std::move(*out);
  }

  // Called by SQLite on the writer thread after each commit with the WAL's size in frames
  // (pages). Wakes the checkpointer once `checkpoint_pages` frames wait to be copied back,
  // and after every commit once the WAL is due to start over (see FinishCheckpoint).
  static int OnWalCommit(void* self, sqlite3*, const char*, int frames) {
    auto* store = static_cast<SqliteStore*>(self);
    int copied = store->checkpointed_frames_.load();
    if (frames < store->wal_frames_ || frames < copied) {  // the WAL started over
      ++store->wal_restarts_;
      store->checkpointed_frames_.compare_exchange_strong(copied, 0);
      copied = 0;
      store->wal_frames_ = 0;
      store->writer_checkpoint_at_ = 0;
    }
    store->last_commit_frames_ = frames - store->wal_frames_;
    store->wal_frames_ = frames;
    const int waiting = frames - copied;
    if (waiting >= store->options_.checkpoint_pages ||
        (frames >= store->RestartFrames() && waiting > store->FinishFrames())) {
      store->checkpoint_due_ = true;
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  static void SyncDatabaseFile(Conn& c) {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(c.raw(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
        file == nullptr || file->pMethods == nullptr) {
      return;
    }
    (void)file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
  }

  int RestartFrames() const { return kRestartFactor * options_.checkpoint_pages; }
  int FinishFrames() const { return std::max(kFinishFrames, 2 * last_commit_frames_); }

  // SQLite starts the WAL over only when a write transaction begins with every frame
  // already copied back. Under steady load that moment rarely comes by itself: the writer
  // is inside a transaction, or has just committed more frames, whenever the checkpointer
  // finishes a pass, and the WAL grows without bound. So once the WAL holds RestartFrames()
  // the checkpointer runs after every commit that leaves more than FinishFrames() to copy,
  // and as soon as all that is left is about one commit's frames, the writer copies them
  // itself between two transactions (a short checkpoint: those frames and one fsync of the
  // database); its next transaction starts the WAL from the beginning. If a reader still
  // holds an older snapshot the WAL cannot start over; the writer tries again
  // `checkpoint_pages` frames later.
  void FinishCheckpoint() {
    const int frames = wal_frames_;
    if (frames < RestartFrames()) return;
    const int left = frames - checkpointed_frames_.load();
    // Past twice that size the checkpointer is not keeping up (starved of CPU or disk):
    // the writer copies whatever is left, a longer pause that keeps the WAL bounded.
    const bool overdue = frames >= 2 * RestartFrames();
    if (left == 0 || (left > FinishFrames() && !overdue)) return;
    if (writer_checkpoint_at_ != 0 && frames - writer_checkpoint_at_ < options_.checkpoint_pages) {
      return;
    }
    writer_checkpoint_at_ = frames;
    int log_frames = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(writer_conn_->raw(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                       &log_frames, &done);
    if (rc == SQLITE_OK) {
      checkpointed_frames_ = done;
    } else if (rc == SQLITE_BUSY) {  // the checkpointer is at it: try after the next commit
      writer_checkpoint_at_ = 0;
    } else {
      log::Warn("checkpoint failed", {{"error", sqlite3_errmsg(writer_conn_->raw())}});
    }
  }

  void CheckpointLoop(const std::stop_token& st) {
    NameThisThread("cl-checkpoint");
    std::mutex m;
    std::unique_lock lock(m);
    while (!st.stop_requested()) {
      checkpoint_cv_.wait_for(lock, st, std::chrono::seconds(1),
                              [this] { return checkpoint_due_.load(); });
      if (st.stop_requested()) break;
      // PASSIVE: copies what it can without blocking the writer or readers; the writer
      // finishes the job (FinishCheckpoint). Wake-ups from commits made while copying are
      // dropped: the next commit judges again against what this pass copied.
      const int copied_before = checkpointed_frames_.load();
      int log_pages = 0, done_pages = 0;
      int rc = sqlite3_wal_checkpoint_v2(checkpoint_conn_->raw(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                         &log_pages, &done_pages);
      if (rc == SQLITE_OK) checkpointed_frames_ = done_pages;
      checkpoint_due_ = false;
      // SQLite syncs the database only after a pass that finds the WAL unchanged at its end,
      // which under load is the writer's short final pass (FinishCheckpoint): that pass
      // would otherwise flush every page the earlier passes copied (~17 ms measured).
      if (rc == SQLITE_OK && done_pages != copied_before) SyncDatabaseFile(*checkpoint_conn_);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        log::Warn("checkpoint failed", {{"error", sqlite3_errmsg(checkpoint_conn_->raw())}});
      }
    }
  }

  // Runs write callbacks in commit order. Exits once stopped and drained.
  void CompletionLoop(const std::stop_token& st) {
    NameThisThread("cl-commit-sync");
    std::deque<Completion> work;
    for (;;) {
      {
        std::unique_lock lock(completion_mu_);
        completion_cv_.wait(lock, st, [this] { return !completions_.empty(); });
        if (completions_.empty()) return;  // stop requested and nothing left
        work.swap(completions_);
      }
      SyncWal();  // everything in `work` committed before this fsync began
      for (auto& done : work) done.finish(std::move(done.error));
      work.clear();  // and with it what the writes captured (see Completion)
    }
  }

  // Makes every transaction committed so far durable: COMMIT wrote its frames to the WAL
  // without an fsync (DeferWalSync). Used only by the completion thread.
  void SyncWal() {
    if (wal_fd_ < 0) {
      if (auto s = OpenWalForSync(); !s) {
        log::Error("cannot open the WAL to sync it", {{"error", s.error().message}});
        std::abort();
      }
      if (wal_fd_ < 0) return;  // no WAL yet: nothing was written to one
    }
    const long long covered = transactions_.load();
    if (::fdatasync(wal_fd_) != 0) {
      // Nothing may be answered as stored, and after a failed fsync the kernel may have
      // dropped the pages: stop, and let recovery read what reached the disk.
      log::Error("fsync of the WAL failed", {{"error", std::strerror(errno)}});
      std::abort();
    }
    durable_transactions_ = covered;
  }

  // Opens the WAL file (for SyncWal) and makes its directory entry durable, as SQLite's own
  // first sync of a new WAL would. No WAL yet is not an error (wal_fd_ stays -1).
  Status OpenWalForSync() {
    wal_fd_ = ::open((path_ + "-wal").c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) {
      if (errno == ENOENT) return {};
      return Fail(ErrorCode::kUnavailable,
                  std::string("cannot open the WAL: ") + std::strerror(errno));
    }
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      (void)::fsync(dir_fd);
      ::close(dir_fd);
    }
    return {};
  }

  void WriterLoop(const std::stop_token& st) {
    NameThisThread("cl-writer");
    std::vector<Task> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        auto ready = [&] { return !queue_.empty() || st.stop_requested() || closed_; };
        if (WritesWait()) {
          // Pattern counters, member lists or the search index wait for a transaction;
          // once the writer is idle, write them.
          if (!cv_.wait_for(lock, sqlite::PatternBatch::kIdleFlush, ready)) {
            lock.unlock();
            FlushWaitingPatterns();
            continue;
          }
        } else {
          cv_.wait(lock, ready);
        }
        if (queue_.empty()) {  // stopping and drained
          lock.unlock();
          if (WritesWait()) FlushWaitingPatterns();
          return;
        }
        size_t records = 0;
        while (!queue_.empty() && (batch.empty() || records + queue_.front().weight <=
                                                        options_.max_records_per_transaction)) {
          records += queue_.front().weight;
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      // A slowly decaying maximum, so one small batch does not end a busy spell.
      recent_tasks_ = std::max(batch.size(), recent_tasks_ * 7 / 8);
      FinishCheckpoint();
      RunBatch(batch);
      batch.clear();
    }
  }

  // A transaction of its own for pattern counters and member lists that wait (see
  // PatternBatch and MoveMembers).
  void FlushWaitingPatterns() {
    std::optional<Error> error;
    force_counters_ = true;
    if (ApplyInTransaction({}, error) != TxOutcome::kCommitted) {
      log::Error("writing waiting pattern counters failed",
                 {{"error", error ? error->message : "unknown"}});
    } else {
      ++transactions_;
    }
  }

  // Applies `tasks` in one transaction. Returns kOk, or which failure happened. Leaves no
  // transaction open.
  enum class TxOutcome { kCommitted, kTaskFailed, kTransactionFailed };
  TxOutcome ApplyInTransaction(std::span<Task> tasks, std::optional<Error>& tx_error) {
    Conn& c = *writer_conn_;
    if (auto s = Run(c, "BEGIN IMMEDIATE"); !s) {
      tx_error = s.error();
      return TxOutcome::kTransactionFailed;
    }
    for (auto& t : tasks) {
      if (!t.apply(c)) {
        (void)Run(c, "ROLLBACK");
        AfterRollback(c);
        return TxOutcome::kTaskFailed;
      }
    }
    // Pattern rows touched by the whole group, once each; counters of busy patterns may
    // wait while the writer is busy (see PatternBatch): writes are queued behind this
    // transaction, or recent transactions each carried several writers' requests (then the
    // queue is often empty just when the last answers are on their way back as new
    // requests). Judged before COMMIT, so a lone client's next request, sent after its
    // answer, never makes the writer look busy.
    bool forced = force_counters_;  // idle, stopping, or a reader asked to settle
    force_counters_ = false;
    using FlushMode = sqlite::PatternBatch::FlushMode;
    FlushMode mode = FlushMode::kBusy;
    {
      std::lock_guard lock(mu_);
      forced = forced || closed_;
      if (forced) {
        mode = FlushMode::kAll;
      } else if (queue_.empty() && recent_tasks_ < kBusyTasks) {
        mode = FlushMode::kNotBusy;
      }
    }
    auto fail = [&](const Error& e) {
      tx_error = e;
      (void)Run(c, "ROLLBACK");
      AfterRollback(c);
      return TxOutcome::kTransactionFailed;
    };
    // The issues whose text changed, for the search indexer (search_index.h).
    if (Status listed = ListSearchChanges(c, forced); !listed) return fail(listed.error());
    if (Status moved = MoveMembers(c, forced); !moved) return fail(moved.error());
    // All stale last-seen entries go when the writer is idle or stopping; under load a few
    // each transaction (seen_log.h).
    if (Status compacted = seen_log_.Compact(c, forced && tasks.empty()); !compacted) {
      return fail(compacted.error());
    }
    Status flushed = pending_patterns_.Flush(
        c, clock_.Now(), mode,
        [this, &c](const std::string& ws, const char* type, const std::string& data) {
          return AppendEvent(c, ws, type, data, clock_.Now());
        });
    if (!flushed) return fail(flushed.error());
    Status committed;
    {
      // The completion thread fsyncs the WAL before anything of this transaction is
      // answered or announced, while this thread goes on to the next (wal_vfs.h).
      sqlite::DeferWalSync defer;
      committed = Run(c, "COMMIT");
    }
    if (!committed) return fail(committed.error());
    c.ResetUsed();
    engine_workspaces_.clear();
    pending_patterns_.Committed();
    seen_log_.Committed();
    if (txn_listed_) {
      new_members_ = 0;
      new_rows_ = 0;
      unlisted_.clear();
    }
    new_members_ += txn_new_members_;
    new_rows_ += txn_new_rows_;
    unlisted_.insert(unlisted_.end(), txn_unlisted_.begin(), txn_unlisted_.end());
    txn_new_members_ = 0;
    txn_new_rows_ = 0;
    txn_unlisted_.clear();
    txn_listed_ = false;
    search_trimmed_ = txn_search_trimmed_;
    search_->Committed(std::move(txn_search_));
    txn_search_.clear();
    // Before any of this transaction's requests is answered: a reader that settles after
    // an answer finds its issues waiting.
    counters_waiting_ = pending_patterns_.has_deferred();
    if (!committed_events_.empty()) {
      // Observers hear of the events on the completion thread, once they are durable and
      // before the requests that wrote them are answered.
      std::lock_guard lock(completion_mu_);
      completions_.push_back(
          {[this, events = std::move(committed_events_)](const std::optional<Error>&) {
             std::lock_guard observers_lock(observers_mu_);
             for (CommitObserver* o : observers_) o->OnCommitted(events);
           },
           std::nullopt, nullptr});
      committed_events_.clear();
    }
    return TxOutcome::kCommitted;
  }

  // Lists the issues that wait (new issues above members_listed_through, and
  // pattern_members_new) under their patterns, once kMemberBatch issues were added, or
  // whatever waits when the writer is idle or stopping (`all`). One row of
  // pattern_member_runs per pattern and batch holds that pattern's new rowids (a JSON array,
  // at most kMaxRun of them), so a batch of 8,192 issues over a few hundred patterns is a
  // few hundred B-tree inserts, where a row per issue cost a seek and an insert each (~0.45
  // us of the writer's ~17 us per batch-new record). Readers find waiting issues meanwhile
  // (IssuesOfPattern). The new issues' keys come from memory (unlisted_), not from their
  // rows. New issues without a pattern only move the mark, so that the rows readers look
  // through stay few.
  Status MoveMembers(Conn& c, bool all) {
    long long waiting = new_members_ + txn_new_members_ +
                        static_cast<long long>(unlisted_.size() + txn_unlisted_.size());
    long long rows = new_rows_ + txn_new_rows_;
    if (waiting == 0) {
      if (rows < kMemberBatch) return {};
    } else if (!all && waiting < kMemberBatch && rows < kMemberBatch) {
      return {};
    }
    std::vector<std::pair<long long, long long>> members;  // (pattern key, issue rowid)
    members.reserve(unlisted_.size() + txn_unlisted_.size());
    members.insert(members.end(), unlisted_.begin(), unlisted_.end());
    members.insert(members.end(), txn_unlisted_.begin(), txn_unlisted_.end());
    if (new_members_ + txn_new_members_ > 0) {
      auto moved = c.Prepare("SELECT pattern_key, issue_rowid FROM pattern_members_new");
      if (!moved) return Fail(moved.error());
      int rc;
      while ((rc = (*moved)->Step()) == SQLITE_ROW) {
        members.emplace_back((*moved)->Int(0), (*moved)->Int(1));
      }
      (*moved)->Reset();
      if (rc != SQLITE_DONE) return Fail(sqlite::SqliteError(c.raw(), rc, "pattern_members_new"));
      if (auto s = Run(c, "DELETE FROM pattern_members_new"); !s) return s;
    }
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    if (!members.empty()) {
      auto s = c.Prepare("INSERT INTO pattern_member_runs(pattern_key, rowids) VALUES(?1, ?2)");
      if (!s) return Fail(s.error());
      std::string run;
      for (size_t i = 0; i < members.size();) {
        long long key = members[i].first;
        run.assign(1, '[');
        for (size_t n = 0; i < members.size() && members[i].first == key && n < kMaxRun; ++i, ++n) {
          if (n > 0) run.push_back(',');
          char digits[24];
          auto end = std::to_chars(std::begin(digits), std::end(digits), members[i].second).ptr;
          run.append(std::begin(digits), end);
        }
        run.push_back(']');
        (*s)->Bind(1, key).Bind(2, run);
        if (int rc = (*s)->Step(); rc != SQLITE_DONE)
          return Fail(sqlite::SqliteError(c.raw(), rc, "list pattern members"));
        (*s)->Reset();
      }
    }
    if (auto s = Run(c,
                     "UPDATE store_flags SET value=(SELECT COALESCE(MAX(rowid), 0) FROM issues) "
                     "WHERE name='members_listed_through'");
        !s) {
      return s;
    }
    // Everything that waited is listed once this commits (kept until then: a rollback
    // leaves it waiting).
    txn_listed_ = true;
    txn_new_members_ = 0;
    txn_new_rows_ = 0;
    txn_unlisted_.clear();
    return {};
  }

  // Committed issues wait to be listed in pattern_members (writer thread).
  [[nodiscard]] bool MembersWait() const { return new_members_ > 0 || !unlisted_.empty(); }

  // Something committed waits for a transaction of the writer's own (writer thread).
  [[nodiscard]] bool WritesWait() const {
    return pending_patterns_.has_deferred() || MembersWait() || seen_log_.waiting() > 0;
  }

  // Lists the transaction's changes of issue text in search_changes, each with its seq and
  // the text before it; the indexer gets them in memory once this commits (search_index.h).
  // Changes the indexer has applied are deleted from the table a batch at a time (or all,
  // when `all`); store_flags.search_trimmed says through which seq, so an index older than
  // that is rebuilt.
  Status ListSearchChanges(Conn& c, bool all) {
    txn_search_trimmed_ = search_trimmed_;
    if (!txn_search_.empty()) {
      auto s = c.Prepare(
          "INSERT INTO search_changes(issue_rowid, old_title, old_body) VALUES(?1, ?2, ?3)");
      if (!s) return Fail(s.error());
      for (auto& change : txn_search_) {
        (*s)->Bind(1, change.rowid);
        if (change.old) {
          (*s)->BindRef(2, change.old->title).BindRef(3, change.old->body);
        } else {
          (*s)->BindNull(2).BindNull(3);
        }
        if (int rc = (*s)->Step(); rc != SQLITE_DONE)
          return Fail(sqlite::SqliteError(c.raw(), rc, "list search changes"));
        (*s)->Reset();
        change.seq = sqlite3_last_insert_rowid(c.raw());
      }
    }
    const long long applied = search_->applied();
    if (applied - search_trimmed_ >= kSearchTrimBatch || (all && applied > search_trimmed_)) {
      auto s = c.Prepare("DELETE FROM search_changes WHERE seq <= ?1");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, applied);
      if (int rc = (*s)->Step(); rc != SQLITE_DONE)
        return Fail(sqlite::SqliteError(c.raw(), rc, "trim search changes"));
      auto f =
          c.Prepare("INSERT OR REPLACE INTO store_flags(name, value) VALUES('search_trimmed', ?1)");
      if (!f) return Fail(f.error());
      (*f)->Bind(1, applied);
      if (int rc = (*f)->Step(); rc != SQLITE_DONE)
        return Fail(sqlite::SqliteError(c.raw(), rc, "trim search changes"));
      txn_search_trimmed_ = applied;
    }
    return {};
  }

  // Opens the search index (and its thread, started by Init) for the committed changes.
  Status OpenSearchIndex() {
    auto s = writer_conn_->Prepare("SELECT value FROM store_flags WHERE name='search_trimmed'");
    if (!s) return Fail(s.error());
    int rc = (*s)->Step();
    if (rc == SQLITE_ROW) {
      search_trimmed_ = (*s)->Int(0);
    } else if (rc != SQLITE_DONE) {
      return Fail(sqlite::SqliteError(writer_conn_->raw(), rc, "read search_trimmed"));
    }
    writer_conn_->ResetUsed();
    auto indexer = sqlite::SearchIndexer::Open(path_, options_.busy_timeout, search_trimmed_,
                                               options_.search_queue_bytes);
    if (!indexer) return Fail(indexer.error());
    search_ = std::move(*indexer);
    return {};
  }

  // Undoes the writer's in-memory state after a ROLLBACK: cached sequences, queued pattern
  // changes, and the engine state of every workspace the transaction assigned in (rebuilt
  // from the committed rows on next use).
  void AfterRollback(Conn& c) {
    c.ResetUsed();
    last_seq_.clear();
    ws_keys_.clear();
    committed_events_.clear();
    pending_patterns_.RolledBack();
    txn_search_.clear();
    seen_log_.RolledBack();
    txn_new_members_ = 0;
    txn_new_rows_ = 0;
    txn_unlisted_.clear();
    txn_listed_ = false;
    if (assigner_ != nullptr) {
      for (const auto& ws : engine_workspaces_) assigner_->Reload(ws);
    }
    engine_workspaces_.clear();
  }

  // Group commit: the whole batch in one transaction. Tasks are not wrapped in savepoints
  // (a savepoint makes FTS5 flush its pending index data, one tiny segment per request);
  // instead, when a task fails, the batch is rolled back and every task re-runs in its own
  // transaction, so one failing write still never takes the others down.
  void RunBatch(std::vector<Task>& batch) {
    std::vector<std::optional<Error>> errors(batch.size());
    std::vector<bool> committed(batch.size(), false);
    std::optional<Error> tx_error;
    TxOutcome outcome = ApplyInTransaction(batch, tx_error);
    if (outcome == TxOutcome::kCommitted) {
      ++transactions_;
      committed.assign(batch.size(), true);
    } else if (outcome == TxOutcome::kTransactionFailed || batch.size() == 1) {
      for (auto& e : errors) e = tx_error;  // nullopt for a lone failed task: its own error
      if (outcome == TxOutcome::kTransactionFailed) {
        log::Error("group commit failed", {{"error", tx_error->message}});
      }
    } else {
      for (size_t i = 0; i < batch.size(); ++i) {
        std::optional<Error> one_error;
        TxOutcome one = ApplyInTransaction(std::span(batch).subspan(i, 1), one_error);
        if (one == TxOutcome::kCommitted) ++transactions_;
        committed[i] = one == TxOutcome::kCommitted;
        errors[i] = one_error;
      }
    }
    size_t records = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      records += batch[i].weight;
      if (committed[i]) records_committed_ += static_cast<long long>(batch[i].weight);
    }
    queued_records_ -= records;
    // Callbacks (encoding responses, waking connections) run on the completion thread, so
    // the writer can start the next transaction at once.
    {
      std::lock_guard lock(completion_mu_);
      for (size_t i = 0; i < batch.size(); ++i) {
        completions_.push_back(
            {std::move(batch[i].finish), std::move(errors[i]), std::move(batch[i].apply)});
      }
    }
    completion_cv_.notify_one();
    MaybePruneIdempotency();
    writer_conn_->ResetUsed();
  }

  // Runs a cached statement that returns no rows.
  static Status Run(Conn& c, const std::string& sql) {
    auto s = c.Prepare(sql);
    if (!s) return Fail(s.error());
    int rc = (*s)->Step();
    (*s)->Reset();
    if (rc != SQLITE_DONE) return Fail(sqlite::SqliteError(c.raw(), rc, sql));
    return {};
  }

  // What waits to be listed in pattern_members (see MoveMembers), at start-up: the entries
  // of pattern_members_new, and the issues above the mark, in one pass.
  Status CountNewMembers() {
    auto s = writer_conn_->Prepare("SELECT COUNT(*) FROM pattern_members_new");
    if (!s) return Fail(s.error());
    if (int rc = (*s)->Step(); rc != SQLITE_ROW)
      return Fail(sqlite::SqliteError(writer_conn_->raw(), rc, "count pattern members"));
    new_members_ = (*s)->Int(0);
    (*s)->Reset();
    new_rows_ = 0;
    unlisted_.clear();
    auto rows = writer_conn_->Prepare(
        std::string("SELECT pattern_id IS NOT NULL, causeloop_key(pattern_id), rowid FROM issues "
                    "WHERE rowid > ") +
        sqlite::kMembersListedThrough);
    if (!rows) return Fail(rows.error());
    int rc;
    while ((rc = (*rows)->Step()) == SQLITE_ROW) {
      ++new_rows_;
      if ((*rows)->Int(0) != 0) unlisted_.emplace_back((*rows)->Int(1), (*rows)->Int(2));
    }
    (*rows)->Reset();
    if (rc != SQLITE_DONE)
      return Fail(sqlite::SqliteError(writer_conn_->raw(), rc, "unlisted pattern members"));
    return {};
  }

  void MaybePruneIdempotency() {
    SystemTime now = clock_.Now();
    if (now - last_prune_ < std::chrono::minutes(10)) return;
    last_prune_ = now;
    auto s = writer_conn_->Prepare("DELETE FROM idempotency_keys WHERE created_at < ?");
    if (!s) return;
    (*s)->Bind(1, ToUnixMillis(now - std::chrono::hours(24)));
    (*s)->Step();
  }

  // After an unclean stop with pattern counters waiting: recount them from the issues (see
  // PatternBatch). Counters are derived data, so a failure is logged and start-up goes on.
  void RecountPatterns() {
    Conn& c = *writer_conn_;
    if (auto s = c.Exec("BEGIN IMMEDIATE"); !s) {
      log::Error("pattern recount failed", {{"error", s.error().message}});
      return;
    }
    SystemTime now = clock_.Now();
    Status s = sqlite::RecountPatternsIfStale(
        c, now, [this, &c, now](const std::string& ws, const char* type, const std::string& data) {
          return AppendEvent(c, ws, type, data, now);
        });
    if (s) s = c.Exec("COMMIT");
    if (!s) {
      (void)c.Exec("ROLLBACK");
      last_seq_.clear();
      log::Error("pattern recount failed", {{"error", s.error().message}});
    }
    committed_events_.clear();  // no observer yet; they read the event log
    c.ResetUsed();
  }

  Status Migrate() {
    Conn& c = *writer_conn_;
    if (auto s = c.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                        "KEY, applied_at INTEGER NOT NULL)");
        !s) {
      return s;
    }
    if (auto s = c.Exec("BEGIN IMMEDIATE"); !s) return s;
    auto cur = c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!cur) return Fail(cur.error());
    (*cur)->Step();
    long long current = (*cur)->Int(0);
    (*cur)->Reset();
    for (const auto& m : sqlite::Migrations()) {
      if (m.version <= current) continue;
      if (auto s = c.Exec(std::string(m.sql).c_str()); !s) {
        (void)c.Exec("ROLLBACK");
        return s;
      }
      auto ins = c.Prepare("INSERT INTO schema_migrations(version, applied_at) VALUES(?,?)");
      if (!ins) return Fail(ins.error());
      (*ins)->Bind(1, m.version).Bind(2, ToUnixMillis(clock_.Now()));
      (*ins)->Step();
    }
    return c.Exec("COMMIT");
  }

  // --- helpers used inside the writer --------------------------------------------------

  Result<long long> MaxSequence(Conn& c, const std::string& ws) {
    auto s = c.Prepare("SELECT COALESCE(MAX(sequence), 0) FROM events WHERE workspace_id=?");
    if (!s) return Fail(s.error());
    (*s)->Bind(1, ws);
    (*s)->Step();
    return (*s)->Int(0);
  }

  // `data` by value: the callers' temporaries move into the observers' copy of the event.
  Status AppendEvent(Conn& c, const std::string& ws, const char* type, std::string data,
                     SystemTime now) {
    auto it = last_seq_.find(ws);
    if (it == last_seq_.end()) {
      auto m = MaxSequence(c, ws);
      if (!m) return Fail(m.error());
      it = last_seq_.emplace(ws, *m).first;
    }
    long long seq = ++it->second;
    auto s = c.Prepare(
        "INSERT INTO events(workspace_id, sequence, id, type, timestamp, data) "
        "VALUES(?,?,?,?,?,?)");
    if (!s) return Fail(s.error());
    std::string id = NewId("evt_", now, random_);
    (*s)->BindRef(1, ws).Bind(2, seq).BindRef(3, id).BindRef(4, type);
    (*s)->Bind(5, ToUnixMillis(now)).BindRef(6, data);
    if (int rc = (*s)->Step(); rc != SQLITE_DONE)
      return Fail(sqlite::SqliteError(c.raw(), rc, "insert event"));
    if (has_observers_) {
      committed_events_.push_back(model::Event{std::move(id), type, now, ws, seq, std::move(data)});
    }
    return {};
  }

  Result<std::optional<Issue>> FindByKey(Conn& c, const std::string& ws, const std::string& source,
                                         const std::string& external_id, long long* rowid) {
    static const std::string kSql =
        std::string("SELECT ") + kIssueColumns +
        " FROM issues WHERE workspace_id=? AND source=? AND external_id=?";
    auto s = c.Prepare(kSql);
    if (!s) return Fail(s.error());
    (*s)->Bind(1, ws).Bind(2, source).Bind(3, external_id);
    int rc = (*s)->Step();
    if (rc == SQLITE_DONE) return std::optional<Issue>{};
    if (rc != SQLITE_ROW) return Fail(sqlite::SqliteError(c.raw(), rc, "find issue"));
    return std::optional<Issue>{ReadIssue(**s, rowid)};
  }

  Status InsertIssue(Conn& c, const Issue& issue) {
    auto s = c.Prepare(
        "INSERT INTO issues(id, workspace_id, source, source_raw, external_id, title, "
        "title_truncated, body, body_truncated, severity, status, service, environment, team, "
        "assignee, labels, metadata, external_url, connector_id, pattern_id, occurrences, "
        "risk_score, source_created_at, source_updated_at, first_seen_at, last_seen_at, "
        "resolved_at, created_at, updated_at, resolution, ws_key) VALUES("
        "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!s) return Fail(s.error());
    auto key = WorkspaceKey(c, issue.workspace_id);
    if (!key) return Fail(key.error());
    BindIssue(**s, issue);
    (*s)->Bind(31, *key);
    if (int rc = (*s)->Step(); rc != SQLITE_DONE)
      return Fail(sqlite::SqliteError(c.raw(), rc, "insert issue"));
    long long rowid = sqlite3_last_insert_rowid(c.raw());
    if (auto added = seen_log_.Add(c, {*key, ToUnixMillis(issue.last_seen_at), rowid}); !added) {
      return added;
    }
    txn_search_.push_back({0, rowid, std::nullopt, {issue.title, issue.body}});
    // Listed under its pattern by being above members_listed_through (MoveMembers).
    ++txn_new_rows_;
    if (!issue.pattern_id.empty()) {
      txn_unlisted_.emplace_back(sqlite::PatternKey(issue.pattern_id), rowid);
    }
    return {};
  }

  // The key of workspace `ws` in workspace_keys (issues.ws_key), given on its first issue.
  // Cached on the writer; the cache is dropped on ROLLBACK, which may take back a key given
  // in that transaction.
  Result<long long> WorkspaceKey(Conn& c, const std::string& ws) {
    if (auto it = ws_keys_.find(ws); it != ws_keys_.end()) return it->second;
    auto s = c.Prepare("SELECT key FROM workspace_keys WHERE workspace_id=?1");
    if (!s) return Fail(s.error());
    (*s)->BindRef(1, ws);
    long long key = 0;
    int rc = (*s)->Step();
    if (rc == SQLITE_ROW) {
      key = (*s)->Int(0);
    } else if (rc != SQLITE_DONE) {
      return Fail(sqlite::SqliteError(c.raw(), rc, "find workspace key"));
    }
    (*s)->Reset();
    if (rc == SQLITE_DONE) {
      auto add = c.Prepare("INSERT INTO workspace_keys(workspace_id) VALUES(?1)");
      if (!add) return Fail(add.error());
      (*add)->BindRef(1, ws);
      if (rc = (*add)->Step(); rc != SQLITE_DONE)
        return Fail(sqlite::SqliteError(c.raw(), rc, "add workspace key"));
      (*add)->Reset();
      key = sqlite3_last_insert_rowid(c.raw());
    }
    ws_keys_.emplace(ws, key);
    return key;
  }

  // Lists issue `rowid`, which changed pattern, under `pattern_id` (nothing for none) in
  // pattern_members_new; the writer moves the list into pattern_members in batches
  // (MoveMembers). A new issue needs no entry: it is above members_listed_through.
  Status AddMember(Conn& c, long long rowid, const std::string& pattern_id) {
    if (pattern_id.empty()) return {};
    auto s = c.Prepare("INSERT INTO pattern_members_new(issue_rowid, pattern_key) VALUES(?1, ?2)");
    if (!s) return Fail(s.error());
    (*s)->Bind(1, rowid).Bind(2, static_cast<long long>(sqlite::PatternKey(pattern_id)));
    if (int rc = (*s)->Step(); rc != SQLITE_DONE)
      return Fail(sqlite::SqliteError(c.raw(), rc, "list pattern member"));
    ++txn_new_members_;
    return {};
  }

  // Writes every column of `issue` (row `rowid`); `before` is the row as it was, so only
  // changed indexed columns and changed text are written.
  Status UpdateIssue(Conn& c, const Issue& issue, long long rowid, const Issue& before) {
    // Only the columns an update can change, so SQLite leaves the key and creation indexes
    // alone; the indexed severity column is written only when it changed (an index is
    // rewritten whenever its column appears in SET), and a new pattern_id lists the issue
    // under its new pattern (AddMember).
    bool severity_changed = before.severity != issue.severity;
    bool pattern_changed = before.pattern_id != issue.pattern_id;
    static const std::string kBase =
        "UPDATE issues SET source_raw=?4, title=?6, title_truncated=?7, body=?8, "
        "body_truncated=?9, status=?11, service=?12, environment=?13, team=?14, assignee=?15, "
        "labels=?16, metadata=?17, external_url=?18, connector_id=?19, occurrences=?21, "
        "risk_score=?22, source_created_at=?23, source_updated_at=?24, last_seen_at=?26, "
        "resolved_at=?27, updated_at=?29, resolution=?30";
    static const std::string kVariants[4] = {
        kBase + " WHERE rowid=?31", kBase + ", severity=?10 WHERE rowid=?31",
        kBase + ", pattern_id=?20 WHERE rowid=?31",
        kBase + ", severity=?10, pattern_id=?20 WHERE rowid=?31"};
    auto s = c.Prepare(kVariants[(severity_changed ? 1 : 0) + (pattern_changed ? 2 : 0)]);
    if (!s) return Fail(s.error());
    BindIssue(**s, issue);
    (*s)->Bind(31, rowid);
    if (int rc = (*s)->Step(); rc != SQLITE_DONE)
      return Fail(sqlite::SqliteError(c.raw(), rc, "update issue"));
    if (before.last_seen_at != issue.last_seen_at) {
      auto key = WorkspaceKey(c, issue.workspace_id);
      if (!key) return Fail(key.error());
      if (auto added = seen_log_.Add(c, {*key, ToUnixMillis(issue.last_seen_at), rowid}); !added) {
        return added;
      }
      seen_log_.Stale({*key, ToUnixMillis(before.last_seen_at), rowid});
    }
    if (before.title != issue.title || before.body != issue.body) {
      txn_search_.push_back({0,
                             rowid,
                             sqlite::SearchIndexer::Text{before.title, before.body},
                             {issue.title, issue.body}});
    }
    return pattern_changed ? AddMember(c, rowid, issue.pattern_id) : Status{};
  }

  // Asks the engine for the pattern of `issue` (made from `r`) and queues the pattern row
  // change for this transaction. No-op without an engine.
  Status AssignPattern(const std::string& ws, const IssueRecord& r, Issue& issue,
                       const PatternAssigner::Prepared* prepared = nullptr) {
    if (assigner_ == nullptr) return {};
    engine_workspaces_.insert(ws);
    auto choice = assigner_->Assign(ws, r, prepared);
    if (!choice) return Fail(choice.error());
    pending_patterns_.AddIssue(ws, *choice, issue);  // reads no pattern_id of `issue`
    issue.pattern_id = std::move(choice->pattern_id);
    return {};
  }

  // Deletes up to kForgetJobs jobs created before `before`, oldest first. A job's id starts
  // with its creation time (a ULID), so the oldest are the first keys of the table and the
  // bound is the id of a job made at `before` with no random bits.
  Status ForgetJobs(Conn& c, SystemTime before) {
    struct Zeros final : Random {
      void Fill(std::span<unsigned char> out) override { std::fill(out.begin(), out.end(), 0); }
    } zeros;
    const std::string bound = NewId("ing_job_", before, zeros);
    // Usually nothing has expired: one seek to the first key says so. The bounded DELETE
    // below builds a temporary table for its IN list, which cost ~4 % of the writer when
    // it ran for every single-event request.
    auto probe = c.Prepare("SELECT 1 FROM ingest_jobs WHERE id >= 'ing_job_' AND id < ?1 LIMIT 1");
    if (!probe) return Fail(probe.error());
    (*probe)->Bind(1, bound);
    int rc = (*probe)->Step();
    (*probe)->Reset();
    if (rc == SQLITE_DONE) return {};
    if (rc != SQLITE_ROW) return Fail(sqlite::SqliteError(c.raw(), rc, "find expired jobs"));
    auto s = c.Prepare(
        "DELETE FROM ingest_jobs WHERE id IN "
        "(SELECT id FROM ingest_jobs WHERE id >= 'ing_job_' AND id < ?1 LIMIT ?2)");
    if (!s) return Fail(s.error());
    (*s)->Bind(1, bound).Bind(2, kForgetJobs);
    if (rc = (*s)->Step(); rc != SQLITE_DONE)
      return Fail(sqlite::SqliteError(c.raw(), rc, "forget jobs"));
    return {};
  }

  // Replay protection (see IngestJob): runs before any record so a repeated delivery writes
  // nothing. Old ids are forgotten a batch at a time here, on the path that adds them.
  Status RememberDelivery(Conn& c, const std::string& ws, const IngestJob& job) {
    SystemTime now = clock_.Now();
    auto fresh = sqlite::RememberDelivery(c, ws, job.delivery_receiver, job.delivery_id, now);
    if (!fresh) return Fail(fresh.error());
    if (!*fresh) {
      return Fail(
          Error{ErrorCode::kConflict, "duplicate delivery", {{"delivery_id", job.delivery_id}}});
    }
    return sqlite::ForgetDeliveries(c, now - kDeliveryMemory, kForgetBatch);
  }

  Result<UpsertOutcome> Upsert(Conn& c, const std::string& ws, const IssueRecord& r,
                               const PatternAssigner::Prepared* prepared) {
    long long rowid = 0;
    auto existing = FindByKey(c, ws, r.source, r.external_id, &rowid);
    if (!existing) return Fail(existing.error());
    SystemTime now = clock_.Now();
    UpsertOutcome out;
    if (*existing) {
      Issue before = **existing;
      Issue& issue = **existing;
      bool resolved_now = MergeRecord(issue, r, now);
      if (issue.pattern_id.empty()) {
        // Stored before clustering ran (or with it off): assign it now.
        if (auto s = AssignPattern(ws, r, issue, prepared); !s) return Fail(s.error());
      } else if (assigner_ != nullptr) {
        pending_patterns_.Touch(ws, issue.pattern_id, issue.last_seen_at);
      }
      if (auto s = UpdateIssue(c, issue, rowid, before); !s) return Fail(s.error());
      if (auto s = AppendEvent(c, ws, resolved_now ? "issue.resolved" : "issue.updated",
                               IssueEventData(issue, true), now);
          !s) {
        return Fail(s.error());
      }
      out.issue_id = std::move(issue.id);
      out.pattern_id = std::move(issue.pattern_id);
      out.deduplicated = true;
      out.status = issue.status;
      out.severity = issue.severity;
      out.title = std::move(issue.title);
      return out;
    }
    if (r.update_only) {
      // Nothing to update and nothing to create: the outcome only echoes the record.
      out.status = r.status.value_or(model::IssueStatus::kOpen);
      out.title = r.title;
      return out;
    }
    Issue issue = NewIssue(ws, r, NewId("iss_", now, random_), now);
    if (auto s = AssignPattern(ws, r, issue, prepared); !s) return Fail(s.error());
    if (auto s = InsertIssue(c, issue); !s) return Fail(s.error());
    if (auto s = AppendEvent(c, ws, "issue.created", IssueEventData(issue, false), now); !s) {
      return Fail(s.error());
    }
    // The issue is not needed any more: its strings move into the outcome.
    out.issue_id = std::move(issue.id);
    out.pattern_id = std::move(issue.pattern_id);
    out.status = issue.status;
    out.severity = issue.severity;
    out.title = std::move(issue.title);
    return out;
  }

  // Link (or, with an empty pattern id, unlink) one issue; see Store::LinkIssue.
  Result<Issue> ApplyLink(Conn& c, const std::string& ws, const std::string& issue_id,
                          const std::string& pattern_id) {
    long long rowid = 0;
    auto issue = ReadIssueById(c, ws, issue_id, &rowid);
    if (!issue) return issue;
    SystemTime now = clock_.Now();
    std::string fingerprint = assigner_ != nullptr ? assigner_->Fingerprint(*issue) : "";
    std::string target;
    if (!pattern_id.empty()) {
      auto p = sqlite::SelectLivePattern(c, ws, pattern_id);
      if (!p) return Fail(p.error());
      target = p->id;
    } else {
      // Unlink: the issue starts a manual pattern of its own.
      model::Pattern p;
      p.id = NewId("pat_", now, random_);
      p.workspace_id = ws;
      p.title = issue->title;
      p.template_text = issue->title;
      p.fingerprint = fingerprint;
      p.first_seen_at = issue->first_seen_at;
      p.last_seen_at = issue->last_seen_at;
      p.created_at = p.updated_at = now;
      if (auto s = sqlite::InsertPattern(c, p, ""); !s) return Fail(s.error());
      if (auto s = AppendEvent(
              c, ws, "pattern.detected",
              sqlite::PatternEventData(p, [](JsonWriter& w) { w.Field("reason", "unlinked"); }),
              now);
          !s) {
        return Fail(s.error());
      }
      target = p.id;
    }
    std::string old = issue->pattern_id;
    if (old != target) {
      Issue before = *issue;
      issue->pattern_id = target;
      issue->updated_at = now;
      if (auto s = UpdateIssue(c, *issue, rowid, before); !s) return Fail(s.error());
      if (auto s = AppendEvent(c, ws, "issue.updated", IssueEventData(*issue, false), now); !s)
        return Fail(s.error());
      auto reason = [&](const char* why) {
        return [why, &issue_id](JsonWriter& w) {
          w.Field("reason", why);
          w.Key("issue_ids").BeginArray().String(issue_id).EndArray();
        };
      };
      if (!old.empty()) {
        auto p = sqlite::AdjustIssueCount(c, ws, old, -1, now);
        if (p) {
          if (auto s = AppendEvent(c, ws, "pattern.updated",
                                   sqlite::PatternEventData(*p, reason("issue_unlinked")), now);
              !s) {
            return Fail(s.error());
          }
        } else if (p.error().code != ErrorCode::kNotFound) {
          return Fail(p.error());
        }
      }
      auto p = sqlite::AdjustIssueCount(c, ws, target, 1, now);
      if (!p) return Fail(p.error());
      for (auto [kind, value] :
           {std::pair{"service", &issue->service}, std::pair{"source", &issue->source}}) {
        if (value->empty()) continue;
        if (auto s = sqlite::InsertFacet(c, ws, target, kind, *value); !s) return Fail(s.error());
      }
      if (auto s = AppendEvent(c, ws, "pattern.updated",
                               sqlite::PatternEventData(*p, reason("issue_linked")), now);
          !s) {
        return Fail(s.error());
      }
    }
    if (!fingerprint.empty()) {
      auto s = c.Prepare(
          "INSERT INTO pattern_overrides(workspace_id, fingerprint, pattern_id, created_at) "
          "VALUES(?,?,?,?) ON CONFLICT(workspace_id, fingerprint) DO UPDATE SET "
          "pattern_id=excluded.pattern_id, created_at=excluded.created_at");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, ws).Bind(2, fingerprint).Bind(3, target).Bind(4, ToUnixMillis(now));
      if (int rc = (*s)->Step(); rc != SQLITE_DONE)
        return Fail(sqlite::SqliteError(c.raw(), rc, "pattern override"));
      engine_workspaces_.insert(ws);
      assigner_->OnOverride(ws, fingerprint, target);
    }
    return issue;
  }

  // Merge `from` into `into`; see Store::MergePatterns.
  Result<model::Pattern> ApplyMerge(Conn& c, const std::string& ws, const std::string& from,
                                    const std::string& into) {
    auto src = sqlite::SelectPattern(c, ws, from);
    if (!src) return src;
    if (!src->merged_into.empty()) {
      return FailField("from", "pattern " + from + " is already merged into " + src->merged_into);
    }
    auto dst = sqlite::SelectLivePattern(c, ws, into);
    if (!dst) return dst;
    if (dst->id == src->id) return FailField("into", "a pattern cannot be merged into itself");
    SystemTime now = clock_.Now();
    long long now_ms = ToUnixMillis(now);
    // Move the issues, each with its issue.updated event.
    std::vector<Issue> moved;
    {
      auto s = c.Prepare("UPDATE issues SET pattern_id=?1, updated_at=?2 WHERE " +
                         sqlite::IssuesOfPattern("causeloop_key(?4)") +
                         " AND +workspace_id=?3 AND pattern_id=?4 RETURNING " + kIssueColumns);
      if (!s) return Fail(s.error());
      (*s)->Bind(1, dst->id).Bind(2, now_ms).Bind(3, ws).Bind(4, src->id);
      int rc;
      std::vector<long long> rowids;
      while ((rc = (*s)->Step()) == SQLITE_ROW) {
        moved.push_back(ReadIssue(**s, &rowids.emplace_back()));
      }
      if (rc != SQLITE_DONE) return Fail(sqlite::SqliteError(c.raw(), rc, "move issues"));
      (*s)->Reset();
      for (long long rowid : rowids) {
        if (auto added = AddMember(c, rowid, dst->id); !added) return Fail(added.error());
      }
    }
    for (const auto& i : moved) {
      if (auto s = AppendEvent(c, ws, "issue.updated", IssueEventData(i, false), now); !s)
        return Fail(s.error());
    }
    // `from`, and everything already merged into it, now point at `into` (chains stay flat).
    for (const char* sql :
         {"UPDATE patterns SET merged_into=?1, issue_count=0, updated_at=?2 WHERE "
          "workspace_id=?3 AND (id=?4 OR merged_into=?4)",
          "UPDATE pattern_overrides SET pattern_id=?1 WHERE workspace_id=?3 AND pattern_id=?4",
          "INSERT OR IGNORE INTO pattern_facets(workspace_id, kind, value, pattern_id) "
          "SELECT workspace_id, kind, value, ?1 FROM pattern_facets WHERE workspace_id=?3 AND "
          "pattern_id=?4"}) {
      auto s = c.Prepare(sql);
      if (!s) return Fail(s.error());
      (*s)->Bind(1, dst->id).Bind(3, ws).Bind(4, src->id);
      if (std::string_view(sql).find("?2") != std::string_view::npos) (*s)->Bind(2, now_ms);
      if (int rc = (*s)->Step(); rc != SQLITE_DONE)
        return Fail(sqlite::SqliteError(c.raw(), rc, "merge patterns"));
    }
    {
      auto s = c.Prepare(
          "UPDATE patterns SET first_seen_at=MIN(first_seen_at, ?1), "
          "last_seen_at=MAX(last_seen_at, ?2) WHERE workspace_id=?3 AND id=?4");
      if (!s) return Fail(s.error());
      (*s)->Bind(1, ToUnixMillis(src->first_seen_at)).Bind(2, ToUnixMillis(src->last_seen_at));
      (*s)->Bind(3, ws).Bind(4, dst->id);
      if (int rc = (*s)->Step(); rc != SQLITE_DONE)
        return Fail(sqlite::SqliteError(c.raw(), rc, "merge patterns"));
    }
    auto merged =
        sqlite::AdjustIssueCount(c, ws, dst->id, static_cast<long long>(moved.size()), now);
    if (!merged) return merged;
    auto gone = sqlite::SelectPattern(c, ws, src->id);
    if (!gone) return gone;
    if (auto s = AppendEvent(c, ws, "pattern.updated",
                             sqlite::PatternEventData(
                                 *gone, [](JsonWriter& w) { w.Field("reason", "merged_away"); }),
                             now);
        !s) {
      return Fail(s.error());
    }
    if (auto s = AppendEvent(
            c, ws, "pattern.updated",
            sqlite::PatternEventData(*merged,
                                     [&](JsonWriter& w) {
                                       w.Field("reason", "merged");
                                       w.Field("merged_from", src->id);
                                       w.Field("joined", static_cast<long long>(moved.size()));
                                     }),
            now);
        !s) {
      return Fail(s.error());
    }
    if (assigner_ != nullptr) {
      engine_workspaces_.insert(ws);
      assigner_->OnMerge(ws, src->id, dst->id);
    }
    return merged;
  }

  Result<Issue> ReadIssueById(Conn& c, const std::string& ws, const std::string& id,
                              long long* rowid = nullptr) {
    static const std::string kSql =
        std::string("SELECT ") + kIssueColumns + " FROM issues WHERE id=? AND workspace_id=?";
    auto s = c.Prepare(kSql);
    if (!s) return Fail(s.error());
    (*s)->Bind(1, id).Bind(2, ws);
    int rc = (*s)->Step();
    if (rc == SQLITE_DONE) return Fail(ErrorCode::kNotFound, "issue not found");
    if (rc != SQLITE_ROW) return Fail(sqlite::SqliteError(c.raw(), rc, "get issue"));
    return ReadIssue(**s, rowid);
  }

  Result<model::ApiToken> ReadTokenById(Conn& c, const std::string& ws, const std::string& id) {
    auto s = c.Prepare(std::string("SELECT ") + kTokenColumns +
                       " FROM api_tokens WHERE id=? AND workspace_id=?");
    if (!s) return Fail(s.error());
    (*s)->Bind(1, id).Bind(2, ws);
    if ((*s)->Step() != SQLITE_ROW) return Fail(ErrorCode::kNotFound, "token not found");
    return ReadToken(**s);
  }

  Result<Issue> ApplyPatch(Conn& c, const std::string& ws, const std::string& id,
                           const IssuePatch& p) {
    long long rowid = 0;
    auto issue = ReadIssueById(c, ws, id, &rowid);
    if (!issue) return issue;
    Issue before = *issue;
    SystemTime now = clock_.Now();
    model::IssueStatus old_status = issue->status;
    if (p.status) issue->status = *p.status;
    if (p.severity) issue->severity = *p.severity;
    if (p.assignee) issue->assignee = *p.assignee;
    if (p.team) issue->team = *p.team;
    if (p.labels) issue->labels = *p.labels;
    if (p.pattern_id) issue->pattern_id = *p.pattern_id;
    bool closed_now = (issue->status == model::IssueStatus::kResolved ||
                       issue->status == model::IssueStatus::kClosed) &&
                      old_status != model::IssueStatus::kResolved &&
                      old_status != model::IssueStatus::kClosed;
    if (closed_now) issue->resolved_at = now;
    if (issue->status == model::IssueStatus::kOpen ||
        issue->status == model::IssueStatus::kInProgress) {
      issue->resolved_at.reset();
    }
    issue->updated_at = now;
    if (auto s = UpdateIssue(c, *issue, rowid, before); !s) return Fail(s.error());
    if (auto s = AppendEvent(c, ws, closed_now ? "issue.resolved" : "issue.updated",
                             IssueEventData(*issue, false), now);
        !s) {
      return Fail(s.error());
    }
    return issue;
  }

  static const char* SortColumn(IssueSort s) {
    switch (s) {
      case IssueSort::kCreatedAt:
        return "created_at";
      case IssueSort::kLastSeenAt:
        return "last_seen_at";
      case IssueSort::kSeverity:
        return "severity";
      case IssueSort::kRiskScore:
        return "risk_score";
    }
    return "created_at";
  }

  Result<IssuePage> List(Conn& c, const std::string& ws, const IssueQuery& q) {
    // The sort indexes are on the workspace's key (issues.ws_key, exact: keys are never
    // reused); by pattern, the pattern's member list (IssuesOfPattern) beats them.
    // The count goes by workspace id: the (workspace, source, external id) index counts a
    // workspace's issues, with or without a source filter, without reading their rows.
    std::string where;  // the filters, after the workspace's condition
    const std::string count_workspace =
        q.pattern_id.empty() ? " WHERE i.workspace_id=?" : " WHERE +i.workspace_id=?";
    const std::string list_workspace =
        q.pattern_id.empty()
            ? " WHERE i.ws_key=(SELECT key FROM workspace_keys WHERE workspace_id=?)"
            : " WHERE +i.workspace_id=?";
    std::vector<std::function<void(Stmt&, int)>> binds;
    auto add_text = [&](const char* clause, std::string value) {
      where += clause;
      binds.push_back([v = std::move(value)](Stmt& s, int i) { s.Bind(i, v); });
    };
    auto add_int = [&](const char* clause, long long value) {
      where += clause;
      binds.push_back([value](Stmt& s, int i) { s.Bind(i, value); });
    };
    if (q.status) add_text(" AND i.status=?", model::IssueStatusName(*q.status));
    if (q.severity) add_int(" AND i.severity=?", static_cast<long long>(*q.severity));
    if (!q.source.empty()) add_text(" AND i.source=?", q.source);
    if (!q.service.empty()) add_text(" AND i.service=?", q.service);
    if (!q.team.empty()) add_text(" AND i.team=?", q.team);
    if (!q.pattern_id.empty()) {
      static const std::string kOfPattern =
          " AND " + sqlite::IssuesOfPattern("causeloop_key(?)", "i");  // three parameters
      add_text(kOfPattern.c_str(), q.pattern_id);
      binds.push_back([v = q.pattern_id](Stmt& s, int i) { s.Bind(i, v); });
      binds.push_back([v = q.pattern_id](Stmt& s, int i) { s.Bind(i, v); });
      add_text(" AND i.pattern_id=?", q.pattern_id);
    }
    if (!q.connector_id.empty()) add_text(" AND i.connector_id=?", q.connector_id);
    if (q.created_after) add_int(" AND i.created_at>?", ToUnixMillis(*q.created_after));
    if (q.created_before) add_int(" AND i.created_at<?", ToUnixMillis(*q.created_before));
    std::string joins;
    if (!q.q.empty()) {
      std::string fts = FtsQuery(q.q);
      if (fts.empty()) return IssuePage{};
      joins = " JOIN search.issues_fts f ON f.rowid = i.rowid";
      add_text(" AND f.issues_fts MATCH ?", fts);
    }
    // Count before the keyset condition: the total of the whole filtered list.
    long long total = 0;
    {
      auto s = c.Prepare("SELECT COUNT(*) FROM issues i" + joins + count_workspace + where);
      if (!s) return Fail(s.error());
      (*s)->Bind(1, ws);
      for (size_t k = 0; k < binds.size(); ++k) binds[k](**s, static_cast<int>(k) + 2);
      if ((*s)->Step() == SQLITE_ROW) total = (*s)->Int(0);
    }
    const char* dir = q.descending ? " DESC" : " ASC";
    // Ties go by rowid, the indexes' own tie-break; the cursor's id gives the last row's.
    // By last_seen_at the order is issue_seen's (seen_log.h): its live entries, those whose
    // time is still the issue's.
    const bool by_seen = q.sort == IssueSort::kLastSeenAt && q.pattern_id.empty();
    const std::string order_alias = by_seen ? "l" : "i";
    const char* col = by_seen ? "seen_at" : SortColumn(q.sort);
    const char* tie = by_seen ? "issue_rowid" : "rowid";
    const std::string from =
        (by_seen ? " FROM issue_seen l JOIN issues i ON i.rowid = l.issue_rowid"
                 : " FROM issues i") +
        joins;
    const std::string& workspace =
        by_seen ? " WHERE l.ws_key=(SELECT key FROM workspace_keys WHERE workspace_id=?)"
                  " AND i.last_seen_at = l.seen_at"
                : list_workspace;
    std::string keyset = q.after_value
                             ? sqlite::KeysetCondition(order_alias, col, q.descending, tie,
                                                       "(SELECT rowid FROM issues WHERE id=?)")
                             : "";
    // kIssueColumns are unqualified; qualified once for the join with the FTS table.
    static const std::string cols = sqlite::QualifyColumns(kIssueColumns, "i");
    std::string sql = "SELECT " + cols + from + workspace + where + keyset + " ORDER BY " +
                      order_alias + "." + col + dir + ", " + order_alias + "." + tie + dir +
                      " LIMIT ?";
    auto s = c.Prepare(sql);
    if (!s) return Fail(s.error());
    Stmt& st = **s;
    int idx = 1;
    st.Bind(idx++, ws);
    for (auto& b : binds) b(st, idx++);
    if (q.after_value) {
      sqlite::BindKeyset(st, idx, *q.after_value, q.after_id, q.sort == IssueSort::kRiskScore);
    }
    int limit = std::clamp(q.limit, 1, 100);
    st.Bind(idx++, limit + 1);
    IssuePage page;
    page.total = total;
    while (st.Step() == SQLITE_ROW) page.items.push_back(ReadIssue(st));
    if (static_cast<int>(page.items.size()) > limit) {
      page.items.pop_back();
      page.has_more = true;
    }
    return page;
  }

  const std::string path_;
  const StoreOptions options_;
  const Clock& clock_;
  Random& random_;

  std::unique_ptr<Conn> writer_conn_;  // used only by the writer thread after Init
  // Writer-thread state: the last event sequence per workspace (cleared on any rollback and
  // reloaded from the event table).
  std::unordered_map<std::string, long long> last_seq_;
  std::unordered_map<std::string, long long> ws_keys_;  // WorkspaceKey's, committed or not
  std::mutex observers_mu_;
  std::vector<CommitObserver*> observers_;
  std::atomic<bool> has_observers_{false};
  std::vector<model::Event> committed_events_;  // appended in the open transaction
  // Writer-thread state for clustering: the engine (set before the first write), pattern row
  // changes of the open transaction, and the workspaces it assigned in.
  PatternAssigner* assigner_ = nullptr;
  sqlite::PatternBatch pending_patterns_;
  // What waits to be listed in pattern_members (MoveMembers), committed and in the open
  // transaction: entries of pattern_members_new; new issues above members_listed_through;
  // and the (pattern key, rowid) of those with a pattern. txn_listed_: the open transaction
  // listed everything that waited.
  long long new_members_ = 0;
  long long txn_new_members_ = 0;
  long long new_rows_ = 0;
  long long txn_new_rows_ = 0;
  std::vector<std::pair<long long, long long>> unlisted_;
  std::vector<std::pair<long long, long long>> txn_unlisted_;
  bool txn_listed_ = false;
  static constexpr long long kMemberBatch = 8192;
  static constexpr size_t kMaxRun = 512;  // rowids in one pattern_member_runs row
  // The search index and its thread (search_index.h). Writer-thread state: the open
  // transaction's changes of issue text, and through which seq search_changes is trimmed
  // (committed, and as the open transaction leaves it).
  std::unique_ptr<sqlite::SearchIndexer> search_;
  sqlite::SeenLog seen_log_;  // the last-seen order's stale entries (writer thread)
  std::vector<sqlite::SearchIndexer::Change> txn_search_;
  long long search_trimmed_ = 0;
  long long txn_search_trimmed_ = 0;
  static constexpr long long kSearchTrimBatch = 16384;
  std::set<std::string> engine_workspaces_;
  // Requests per transaction lately, a slowly decaying maximum (writer thread): with the
  // queue, whether the writer is busy and pattern counters may wait (ApplyInTransaction).
  size_t recent_tasks_ = 0;
  static constexpr size_t kBusyTasks = 4;
  // The next flush writes every waiting counter (writer thread; see SettlePatternCounters).
  bool force_counters_ = false;
  // Committed issues wait for their pattern's counters (set after each commit).
  std::atomic<bool> counters_waiting_{false};
  SystemTime last_prune_{};
  // Delivery ids are kept well past the 72 hours the contract promises; the pruning batch
  // bounds the extra work one ingest takes on.
  static constexpr auto kDeliveryMemory = std::chrono::hours(7 * 24);
  static constexpr int kForgetBatch = 200;
  // Ingest jobs answer GET /v1/ingest/status for 7 days. Each ingest call forgets at most
  // two expired ones, twice what it adds, so the table stays bounded at a cost of one
  // short delete per call.
  static constexpr auto kJobMemory = std::chrono::hours(7 * 24);
  static constexpr int kForgetJobs = 2;

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Conn>> readers_;  // guarded by readers_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;  // guarded by mu_
  std::atomic<bool> closed_{false};
  std::atomic<size_t> queued_records_{0};
  std::atomic<long long> transactions_{0};
  std::atomic<long long> records_committed_{0};
  std::unique_ptr<Conn> checkpoint_conn_;  // used only by the checkpointer thread
  std::condition_variable_any checkpoint_cv_;
  std::atomic<bool> checkpoint_due_{false};
  std::atomic<int> checkpointed_frames_{0};  // of the current WAL, by the last checkpoint
  int wal_frames_ = 0;                       // writer thread only, from OnWalCommit
  int last_commit_frames_ = 0;               // writer thread only, from OnWalCommit
  int writer_checkpoint_at_ = 0;             // writer thread only: see FinishCheckpoint
  // The WAL starts over once it holds this many times `checkpoint_pages` frames (~256 MiB
  // with the default). Each start-over costs the writer a final pass over the last commit's
  // frames and an fsync (~100 ms under a dedup-heavy load); 16 rather than 4 made that four
  // times rarer: batch-dedup +4-7 %, batch-new p99 ~5 ms lower (bench/README.md, session 15).
  static constexpr int kRestartFactor = 16;
  // The writer finishes a checkpoint with at most this many frames (or two commits') left.
  static constexpr int kFinishFrames = 512;
  std::atomic<long long> wal_restarts_{0};
  int wal_fd_ = -1;  // completion thread only: the WAL, for SyncWal
  std::atomic<long long> durable_transactions_{0};
  std::jthread checkpointer_;
  std::mutex completion_mu_;
  std::condition_variable_any completion_cv_;
  // Finished writes waiting for their callbacks; guarded by completion_mu_.
  std::deque<Completion> completions_;
  std::jthread completer_;
  std::jthread writer_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const StoreOptions& options,
                                               const Clock& clock, Random& random) {
  // Memory statistics put a global mutex around every SQLite allocation; nothing reads them.
  static std::once_flag configured;
  std::call_once(configured, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  auto store = std::make_unique<SqliteStore>(path, options, clock, random);
  if (auto s = store->Init(); !s) return Fail(s.error());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace causeloop::store

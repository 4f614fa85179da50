#include "store/sqlite/sqlite_db.h"

#include "store/sqlite/wal_vfs.h"
#include "store/sqlite/writeback_vfs.h"

namespace causeloop::store::sqlite {

int64_t PatternKey(std::string_view pattern_id) {
  // FNV-1a, 64 bits: pattern ids are random, so any mixing hash spreads them; collisions only
  // cost a row comparison (every query also compares pattern_id itself).
  uint64_t h = 14695981039346656037ULL;
  for (char c : pattern_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<int64_t>(h);
}

namespace {

// causeloop_key(text) -> PatternKey(text), NULL for NULL: lets statements find a pattern's
// member lists (IssuesOfPattern) from the bound pattern id, and migration v5 fill its column.
void PatternKeyFunction(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  int size = sqlite3_value_bytes(argv[0]);
  sqlite3_result_int64(ctx, PatternKey(std::string_view(text, static_cast<size_t>(size))));
}

}  // namespace

std::string IssuesOfPattern(std::string_view key, std::string_view alias) {
  std::string k(key);
  return (alias.empty() ? std::string() : std::string(alias) + ".") +
         "rowid IN (SELECT issue_rowid FROM pattern_members WHERE pattern_key=" + k +
         " UNION ALL SELECT issue_rowid FROM pattern_members_new WHERE pattern_key=" + k +
         " UNION ALL SELECT rowid FROM issues WHERE rowid > " + kMembersListedThrough +
         " AND causeloop_key(pattern_id)=" + k + ")";
}

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& path,
                                         std::chrono::milliseconds busy_timeout, ConnVfs vfs) {
  sqlite3* db = nullptr;
  // WalBatchingVfs needs every commit to sync the WAL: synchronous=FULL, set below.
  const char* vfs_name = vfs == ConnVfs::kWalBatching      ? WalBatchingVfs()
                         : vfs == ConnVfs::kEarlyWriteback ? EarlyWritebackVfs()
                                                           : nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs_name);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Fail(ErrorCode::kUnavailable, "cannot open database: " + msg);
  }
  std::unique_ptr<Conn> conn(new Conn(db));  // NOLINT(cppcoreguidelines-owning-memory)
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  rc = sqlite3_create_function_v2(db, "causeloop_key", 1,
                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                  &PatternKeyFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Fail(SqliteError(db, rc, "register causeloop_key"));
  // A larger lookaside keeps SQLite's many small per-statement allocations off malloc.
  (void)sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, nullptr, 1024, 1000);
  // WAL lets readers run beside the single writer; synchronous=FULL makes every COMMIT
  // durable before its callers are answered (a 2xx means stored).
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=OFF",
        "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-65536"}) {
    if (auto s = conn->Exec(pragma); !s) return Fail(s.error());
  }
  return conn;
}

Conn::~Conn() {
  cache_.clear();
  sqlite3_close(db_);
}

size_t Conn::SqlHash::operator()(std::string_view sql) const noexcept {
  constexpr size_t kEnd = 48;
  std::hash<std::string_view> h;
  if (sql.size() <= 2 * kEnd) return h(sql);
  return h(sql.substr(0, kEnd)) ^ (h(sql.substr(sql.size() - kEnd)) * 31) ^ sql.size();
}

Result<Stmt*> Conn::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    used_.push_back(it->second.get());
    return it->second.get();
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return Fail(SqliteError(db_, rc, "prepare"));
  auto [pos, inserted] = cache_.emplace(std::string(sql), std::make_unique<Stmt>(s));
  used_.push_back(pos->second.get());
  return pos->second.get();
}

Status Conn::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Error e = SqliteError(db_, rc, err ? err : "exec");
    sqlite3_free(err);
    return Fail(std::move(e));
  }
  return {};
}

Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  int primary = rc & 0xFF;
  ErrorCode code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
                    primary == SQLITE_FULL || primary == SQLITE_CANTOPEN)
                       ? ErrorCode::kUnavailable
                       : ErrorCode::kInternal;
  return Error{code, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), {}};
}

Status StepDone(Conn& c, Stmt& s, std::string_view what) {
  int rc = s.Step();
  if (rc != SQLITE_DONE) return Fail(SqliteError(c.raw(), rc, what));
  return {};
}

}  // namespace causeloop::store::sqlite

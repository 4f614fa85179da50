#include "ingest/sqlite_ceiling.h"

#include <sqlite3.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <random>

#include "core/clock.h"
#include "core/time.h"
#include "ingest/load_engine.h"
#include "ingest/records.h"
#include "ingest/server_process.h"

namespace causeloop::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

constexpr const char* kSchema = R"sql(
CREATE TABLE issues (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  source TEXT NOT NULL,
  external_id TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  severity TEXT NOT NULL,
  labels TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  occurrences INTEGER NOT NULL DEFAULT 1,
  UNIQUE (workspace_id, source, external_id)
);
)sql";

constexpr const char* kUpsert = R"sql(
INSERT INTO issues (id, workspace_id, source, external_id, title, body, severity, labels,
                    created_at, updated_at, occurrences)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 1)
ON CONFLICT (workspace_id, source, external_id) DO UPDATE SET
  occurrences = occurrences + 1,
  title = excluded.title,
  body = excluded.body,
  severity = excluded.severity,
  labels = excluded.labels,
  updated_at = excluded.updated_at
)sql";

// One database and its prepared statements; rows come from a fixed pool of realistic texts.
class Upserter {
 public:
  bool Open(const std::filesystem::path& path, std::uint64_t seed, std::string& error) {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      error =
          "sqlite3_open " + path.string() + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory");
      sqlite3_close_v2(raw);
      return false;
    }
    db_.reset(raw);
    if (!Exec("PRAGMA journal_mode=WAL", error) || !Exec("PRAGMA synchronous=FULL", error) ||
        !Exec(kSchema, error)) {
      return false;
    }
    if (!Prepare(kUpsert, upsert_, error) || !Prepare("BEGIN IMMEDIATE", begin_, error) ||
        !Prepare("COMMIT", commit_, error)) {
      return false;
    }
    RecordFactory factory(seed);
    for (int i = 0; i < 2048; ++i) rows_.push_back(factory.MakeFields());
    return true;
  }

  // Upserts `keys` in one transaction.
  bool Transaction(const std::vector<std::uint64_t>& keys, std::string& error) {
    const std::string now = causeloop::FormatRfc3339(causeloop::RealClock().Now());
    if (!StepOnce(begin_.get(), error)) return false;
    for (std::uint64_t key : keys) {
      const RecordFields& row = rows_[next_row_++ % rows_.size()];
      char id[48];
      const int id_len = std::snprintf(id, sizeof id, "iss_%016llx%010llu",
                                       static_cast<unsigned long long>(std::time(nullptr)),
                                       static_cast<unsigned long long>(++id_counter_));
      char external_id[32];
      const int ext_len = std::snprintf(external_id, sizeof external_id, "c-%012llu",
                                        static_cast<unsigned long long>(key));
      const std::string_view source = SourceForKey(key);
      sqlite3_stmt* s = upsert_.get();
      sqlite3_bind_text(s, 1, id, id_len, SQLITE_STATIC);
      sqlite3_bind_text(s, 2, "ws_bench", -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 3, source.data(), static_cast<int>(source.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 4, external_id, ext_len, SQLITE_STATIC);
      sqlite3_bind_text(s, 5, row.title.data(), static_cast<int>(row.title.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 6, row.body.data(), static_cast<int>(row.body.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 7, row.severity.data(), static_cast<int>(row.severity.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(s, 8, row.labels_json.data(), static_cast<int>(row.labels_json.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(s, 9, now.data(), static_cast<int>(now.size()), SQLITE_STATIC);
      if (!StepOnce(s, error)) return false;
    }
    return StepOnce(commit_.get(), error);
  }

 private:
  bool Exec(const char* sql, std::string& error) {
    char* message = nullptr;
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message) != SQLITE_OK) {
      error = std::string("sqlite: ") + (message ? message : "?") + " in: " + sql;
      sqlite3_free(message);
      return false;
    }
    return true;
  }
  bool Prepare(const char* sql, Stmt& out, std::string& error) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
        SQLITE_OK) {
      error = std::string("prepare: ") + sqlite3_errmsg(db_.get());
      return false;
    }
    out.reset(raw);
    return true;
  }
  bool StepOnce(sqlite3_stmt* stmt, std::string& error) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
      error = std::string("step: ") + sqlite3_errmsg(db_.get());
      return false;
    }
    return true;
  }

  Db db_;
  Stmt upsert_, begin_, commit_;
  std::vector<RecordFields> rows_;
  std::size_t next_row_ = 0;
  std::uint64_t id_counter_ = 0;
};

// Chooses the keys of one transaction.
class KeyChooser {
 public:
  KeyChooser(std::uint64_t first_new, std::uint64_t pool, double reuse, std::uint64_t seed)
      : next_new_(first_new), pool_(pool), reuse_(reuse), rng_(seed) {}
  // Returns how many of the keys reuse the pool.
  std::uint64_t Fill(std::vector<std::uint64_t>& keys, int count) {
    keys.clear();
    std::uint64_t reused = 0;
    for (int i = 0; i < count; ++i) {
      if (pool_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < reuse_) {
        keys.push_back(rng_() % pool_);
        ++reused;
      } else {
        keys.push_back(next_new_++);
      }
    }
    return reused;
  }

 private:
  std::uint64_t next_new_;
  std::uint64_t pool_;
  double reuse_;
  std::mt19937_64 rng_;
};

// Warm-up then `runs` timed phases of back-to-back transactions.
bool RunPhases(Upserter& db, KeyChooser& chooser, const CeilingOptions& o,
               std::vector<PhaseStats>& out, std::string& error) {
  std::vector<std::uint64_t> keys;
  std::vector<std::chrono::milliseconds> phases = {o.warmup};
  for (int i = 0; i < o.runs; ++i) phases.push_back(o.run_length);
  for (std::size_t p = 0; p < phases.size(); ++p) {
    PhaseStats stats;
    const auto start = Clock::now();
    const double cpu_start = SelfCpuSeconds();
    const auto end = start + phases[p];
    while (Clock::now() < end) {
      if (g_interrupted.load()) {
        error = "interrupted";
        return false;
      }
      const std::uint64_t reused = chooser.Fill(keys, o.rows_per_transaction);
      const auto t0 = Clock::now();
      if (!db.Transaction(keys, error)) return false;
      stats.latency_us.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
      ++stats.ok_requests;
      stats.accepted_records += keys.size();
      stats.deduplicated_records += reused;
    }
    stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    stats.generator_cpu_seconds = SelfCpuSeconds() - cpu_start;
    if (p > 0) out.push_back(std::move(stats));
  }
  return true;
}

}  // namespace

CeilingResult RunSqliteCeiling(const CeilingOptions& o) {
  CeilingResult result;
  {
    Upserter db;
    if (!db.Open(o.dir / "ceiling-new.db", o.seed, result.error)) return result;
    KeyChooser chooser(0, 0, 0, o.seed);
    if (!RunPhases(db, chooser, o, result.new_keys, result.error)) return result;
  }
  {
    Upserter db;
    if (!db.Open(o.dir / "ceiling-dedup.db", o.seed + 1, result.error)) return result;
    // Seed the pool in transactions of the same size, then 90 % reuse.
    const auto pool = static_cast<std::uint64_t>(o.dedup_pool);
    std::vector<std::uint64_t> keys;
    for (std::uint64_t k = 0; k < pool;) {
      keys.clear();
      for (int i = 0; i < o.rows_per_transaction && k < pool; ++i) keys.push_back(k++);
      if (!db.Transaction(keys, result.error)) return result;
    }
    KeyChooser chooser(pool, pool, o.dedup_fraction, o.seed + 2);
    if (!RunPhases(db, chooser, o, result.dedup, result.error)) return result;
  }
  return result;
}

}  // namespace causeloop::bench

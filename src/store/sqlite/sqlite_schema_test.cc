// SQLite-only checks of the schema itself: migrating an existing database, and that the hot
// queries use the indexes they were written for.

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "core/ids.h"
#include "core/time.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/patterns.h"
#include "store/sqlite/search_index.h"
#include "store/sqlite/seen_log.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace causeloop::store::sqlite {
namespace {

class SqliteSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Each test's own directory: ctest runs these tests in parallel processes, and the seeded
    // random_ and fixed clock would give them all the same name.
    FastRandom unique;
    dir_ = std::filesystem::temp_directory_path() /
           ("causeloop-schema-" + NewId("t_", RealClock().Now(), unique));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "causeloop.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A database as a build with schema version `version` left it.
  void CreateAtVersion(int version) {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_TRUE(
        (*c)->Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                   "applied_at INTEGER NOT NULL)"));
    for (const auto& m : Migrations()) {
      if (m.version > version) break;
      ASSERT_TRUE((*c)->Exec(std::string(m.sql).c_str())) << m.version;
      ASSERT_TRUE((*c)->Exec(
          ("INSERT INTO schema_migrations VALUES(" + std::to_string(m.version) + ", 0)").c_str()));
    }
  }

  // An issue row; `listed` also lists it under its pattern, as the store's writer does.
  // Since v12 the row carries its workspace's key, given as the writer gives it.
  void InsertIssue(Conn& c, const std::string& id, const char* pattern_sql, long long last_seen = 0,
                   bool listed = false) {
    bool keyed = Count(c,
                       "SELECT COUNT(*) FROM pragma_table_info('issues') "
                       "WHERE name='ws_key'") == 1;
    if (keyed) {
      ASSERT_TRUE(c.Exec("INSERT OR IGNORE INTO workspace_keys(workspace_id) VALUES('ws_1')"));
    }
    std::string sql =
        "INSERT INTO issues(id, workspace_id, source, external_id, title, severity, status, "
        "pattern_id, first_seen_at, last_seen_at, created_at, updated_at" +
        std::string(keyed ? ", ws_key" : "") + ") VALUES('" + id + "', 'ws_1', 'jira', '" + id +
        "', 'disk full', 3, 'open', " + pattern_sql + ", 0, " + std::to_string(last_seen) +
        ", 0, 0" + (keyed ? ", (SELECT key FROM workspace_keys WHERE workspace_id='ws_1')" : "") +
        ")";
    ASSERT_TRUE(c.Exec(sql.c_str()));
    if (listed) {
      // A run of one since v11, a row of pattern_members before.
      bool runs =
          Count(c, "SELECT COUNT(*) FROM sqlite_schema WHERE name='pattern_member_runs'") == 1;
      std::string member =
          (runs ? "INSERT INTO pattern_member_runs SELECT causeloop_key(pattern_id), "
                  "json_array(rowid) FROM issues WHERE id='"
                : "INSERT INTO pattern_members SELECT causeloop_key(pattern_id), rowid FROM "
                  "issues WHERE id='") +
          id + "'";
      ASSERT_TRUE(c.Exec(member.c_str()));
    }
  }

  // A pattern row claiming one issue, and three issues that joined it.
  void PatternWithUncountedIssues(Conn& c) {
    model::Pattern p;
    p.id = "pat_A";
    p.workspace_id = "ws_1";
    p.title = p.template_text = "disk full";
    p.issue_count = 1;
    p.status = model::PatternStatus::kEmerging;
    p.first_seen_at = p.last_seen_at = p.created_at = p.updated_at = FromUnixMillis(1000);
    ASSERT_TRUE(InsertPattern(c, p, ""));
    for (int i = 0; i < 3; ++i) {
      InsertIssue(c, "iss_" + std::to_string(i), "'pat_A'", 1000 + i * 1000, true);
    }
  }

  // Drives a PatternBatch as the store's writer does: issues join patterns inside a
  // transaction, then Flush, COMMIT and Committed. `append` sees every event written.
  struct BatchDriver {
    Conn& c;
    AppendEventFn append;
    PatternBatch batch;
    int issues = 0;

    void Txn(SystemTime at, PatternBatch::FlushMode mode, const std::vector<const char*>& joined) {
      ASSERT_TRUE(c.Exec("BEGIN"));
      for (const char* pattern : joined) {
        PatternChoice choice;
        choice.pattern_id = pattern;
        choice.fingerprint = "f";
        model::Issue issue;
        issue.id = "iss_" + std::to_string(++issues);
        issue.title = "disk full";
        issue.first_seen_at = issue.last_seen_at = at;
        batch.AddIssue("ws_1", choice, issue);
      }
      ASSERT_TRUE(batch.Flush(c, at, mode, append));
      ASSERT_TRUE(c.Exec("COMMIT"));
      batch.Committed();
    }
  };

  // Waits until every issue committed so far is searchable.
  static void Settle(Store& store) {
    std::promise<void> settled;
    store.SettleSearchIndex([&] { settled.set_value(); });
    settled.get_future().wait();
  }
  long long Search(Store& store, const std::string& text) {
    Settle(store);
    IssueQuery q;
    q.q = text;
    auto page = store.ListIssues("ws_1", q);
    EXPECT_TRUE(page) << page.error().message;
    return page ? page->total : -1;
  }
  // The search index holds exactly what indexing the issues table's text gives: the same
  // (term, issue) pairs as a reference index made here from the table with the same
  // tokenizer, and FTS5's own check of its structure.
  void ExpectIndexMatchesTable() {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    ASSERT_TRUE(SearchIndexer::Attach(**c, path_));
    for (const char* sql :
         {"CREATE VIRTUAL TABLE temp.ref USING fts5(title, body, content='', detail=none, "
          "columnsize=0)",
          "INSERT INTO temp.ref(rowid, title, body) SELECT rowid, title, body FROM issues",
          "CREATE VIRTUAL TABLE temp.ref_terms USING fts5vocab(temp, ref, instance)",
          "CREATE VIRTUAL TABLE temp.index_terms USING fts5vocab(search, issues_fts, instance)"}) {
      ASSERT_TRUE((*c)->Exec(sql)) << sql;
    }
    EXPECT_GT(Count(**c, "SELECT COUNT(*) FROM temp.ref_terms"), 0);
    EXPECT_EQ(Count(**c,
                    "SELECT COUNT(*) FROM (SELECT term, doc FROM temp.ref_terms EXCEPT "
                    "SELECT term, doc FROM temp.index_terms)"),
              0)
        << "missing from the index";
    EXPECT_EQ(Count(**c,
                    "SELECT COUNT(*) FROM (SELECT term, doc FROM temp.index_terms EXCEPT "
                    "SELECT term, doc FROM temp.ref_terms)"),
              0)
        << "left in the index";
    EXPECT_TRUE((*c)->Exec("INSERT INTO search.issues_fts(issues_fts) VALUES('integrity-check')"))
        << (*c)->LastError();
  }

  // A store made and its index built, then new issues `ids` with their search_changes rows,
  // as the writer leaves them when the process dies before the indexer ran.
  void NewIssuesNotYetIndexed(std::initializer_list<const char*> ids) {
    {
      auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
      ASSERT_TRUE(store);
      Settle(**store);
    }
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    for (const char* id : ids) InsertIssue(**c, id, "NULL", 1000);
    ASSERT_TRUE((*c)->Exec("INSERT INTO search_changes(issue_rowid) SELECT rowid FROM issues"));
  }

  long long Count(Conn& c, const std::string& sql) {
    auto s = c.Prepare(sql);
    EXPECT_TRUE(s);
    if (!s || (*s)->Step() != SQLITE_ROW) return -1;
    long long n = (*s)->Int(0);
    (*s)->Reset();
    return n;
  }

  FakeClock clock_{SystemTime(Millis(1'700'000'000'000))};
  SeededRandom random_{7};
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteSchemaTest, PatternKeyMatchesTheFunctionEveryConnectionRegisters) {
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  auto s = (*c)->Prepare("SELECT causeloop_key(?1), causeloop_key(NULL) IS NULL");
  ASSERT_TRUE(s);
  (*s)->Bind(1, std::string("pat_01HX"));
  ASSERT_EQ((*s)->Step(), SQLITE_ROW);
  EXPECT_EQ((*s)->Int(0), PatternKey("pat_01HX"));
  EXPECT_EQ((*s)->Int(1), 1);
  EXPECT_NE(PatternKey("pat_01HX"), PatternKey("pat_01HY"));
}

TEST_F(SqliteSchemaTest, MigratingFromV4KeysTheIssuesAPatternAlreadyHeld) {
  CreateAtVersion(4);
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    InsertIssue(**c, "iss_a", "'pat_A'");
    InsertIssue(**c, "iss_b", "NULL");
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;

  // Keyed by v5, listed by v8 (the column that carried the key is gone since v9).
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  EXPECT_EQ(Count(**c,
                  "SELECT COUNT(*) FROM pattern_members m JOIN issues i ON "
                  "i.rowid = m.issue_rowid WHERE i.id = 'iss_a' AND m.pattern_key = " +
                      std::to_string(PatternKey("pat_A"))),
            1);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM pattern_members"), 1) << "iss_b has no pattern";
  EXPECT_EQ(Count(**c,
                  "SELECT COUNT(*) FROM pragma_table_info('issues') "
                  "WHERE name = 'pattern_key'"),
            0);

  // The store finds the migrated issue by its pattern.
  IssueQuery q;
  q.pattern_id = "pat_A";
  auto page = (*store)->ListIssues("ws_1", q);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, "iss_a");
}

TEST_F(SqliteSchemaTest, MigratingFromV11KeysEachWorkspacesIssuesAndNewIssuesShareTheKey) {
  CreateAtVersion(11);
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    // Three issues of ws_1 and two of ws_2, stored alternately, with equal last_seen_at.
    for (int i = 0; i < 5; ++i) {
      std::string id = "iss_" + std::to_string(i);
      std::string ws = i % 2 == 0 ? "ws_1" : "ws_2";
      ASSERT_TRUE((*c)->Exec(
          ("INSERT INTO issues(id, workspace_id, source, external_id, title, severity, status, "
           "first_seen_at, last_seen_at, created_at, updated_at) VALUES('" +
           id + "', '" + ws + "', 'jira', '" + id + "', 'disk full', 3, 'open', 0, 1000, " +
           std::to_string(i) + ", 0)")
              .c_str()));
    }
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  auto ids = [&](const std::string& ws, IssueSort sort) {
    IssueQuery q;
    q.sort = sort;
    auto page = (*store)->ListIssues(ws, q);
    EXPECT_TRUE(page) << page.error().message;
    std::vector<std::string> out;
    if (page) {
      for (const auto& i : page->items) out.push_back(i.id);
      EXPECT_EQ(page->total, static_cast<long long>(out.size()));
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("ws_1", IssueSort::kCreatedAt), (V{"iss_4", "iss_2", "iss_0"}));
  EXPECT_EQ(ids("ws_2", IssueSort::kLastSeenAt), (V{"iss_3", "iss_1"})) << "ties: newest first";
  EXPECT_EQ(ids("ws_3", IssueSort::kSeverity), V{});

  // A new issue of ws_2 takes the key the migration gave ws_2; a new workspace gets a new one.
  auto ingest = [&](const std::string& ws, const std::string& key) {
    model::IssueRecord r;
    r.source = "jira";
    r.external_id = key;
    r.title = "disk full";
    IngestJob job{
        NewId("ing_job_", clock_.Now(), random_), ws, "completed", 1, 0, clock_.Now(), {}};
    std::promise<bool> done;
    (*store)->Ingest(ws, {r}, job, [&](const Result<std::vector<UpsertOutcome>>& out) {
      done.set_value(out.has_value());
    });
    EXPECT_TRUE(done.get_future().get());
  };
  ingest("ws_2", "K-new");
  ingest("ws_3", "K-new");
  EXPECT_EQ(ids("ws_2", IssueSort::kSeverity).size(), 3u);
  EXPECT_EQ(ids("ws_3", IssueSort::kCreatedAt).size(), 1u);
  EXPECT_EQ(ids("ws_1", IssueSort::kLastSeenAt).size(), 3u);
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM workspace_keys"), 3);
  EXPECT_EQ(Count(**c, "SELECT COUNT(DISTINCT ws_key) FROM issues"), 3);
  EXPECT_EQ(Count(**c,
                  "SELECT COUNT(*) FROM issues i JOIN workspace_keys k "
                  "ON k.key = i.ws_key AND k.workspace_id = i.workspace_id"),
            7);
}

TEST_F(SqliteSchemaTest, MigratingFromV8KeepsIngestJobsInATableKeyedByTheirId) {
  CreateAtVersion(8);
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->Exec(
        "INSERT INTO ingest_jobs VALUES('ing_job_1', 'ws_1', 'partial', 3, 1, 1000, 2000)"));
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  auto job = (*store)->GetIngestJob("ws_1", "ing_job_1");
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(job->status, "partial");
  EXPECT_EQ(job->accepted, 3);
  EXPECT_EQ(job->rejected, 1);
  EXPECT_EQ(job->created_at, FromUnixMillis(1000));
  EXPECT_EQ(job->completed_at, FromUnixMillis(2000));
  EXPECT_FALSE((*store)->GetIngestJob("ws_2", "ing_job_1")) << "another workspace's job";
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  // One B-tree: the table is its primary key's index.
  EXPECT_EQ(Count(**c,
                  "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'ingest_jobs' AND "
                  "sql LIKE '%WITHOUT ROWID%'"),
            1);
}

TEST_F(SqliteSchemaTest, IssuesOfAPatternAreFoundThroughItsMemberLists) {
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store);
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  auto s = (*c)->Prepare("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM issues WHERE " +
                         IssuesOfPattern("causeloop_key(?2)") +
                         " AND +workspace_id=?1 AND pattern_id=?2");
  ASSERT_TRUE(s);
  std::string plan;
  while ((*s)->Step() == SQLITE_ROW) plan += (*s)->Text(3) + "\n";
  // The pattern's members by their key, then each issue by rowid: no walk over the issues.
  EXPECT_NE(plan.find("SEARCH r USING INDEX pattern_member_runs_key (pattern_key=?)"),
            std::string::npos)
      << plan;
  EXPECT_NE(plan.find("SEARCH issues USING INTEGER PRIMARY KEY (rowid=?)"), std::string::npos)
      << plan;
  // New issues not listed yet: a range of rowids above the mark, not a walk.
  EXPECT_NE(plan.find("SEARCH issues USING INTEGER PRIMARY KEY (rowid>?)"), std::string::npos)
      << plan;
  EXPECT_EQ(plan.find("SCAN issues"), std::string::npos) << plan;
}

// A new issue is not listed anywhere when it is written: being above
// members_listed_through is its listing, until the writer lists the batch in pattern_members
// and raises the mark. Issues that changed pattern wait in pattern_members_new meanwhile.
TEST_F(SqliteSchemaTest, NewIssuesAboveTheMarkAreFoundUntilListedAndTheMarkRises) {
  CreateAtVersion(9);
  long long mark = 0;
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    InsertIssue(**c, "iss_listed", "'pat_A'", 1000, true);
    // Listed under pat_B, then moved to pat_A: a stale entry, and one waiting.
    InsertIssue(**c, "iss_changed", "'pat_B'", 1000, true);
    ASSERT_TRUE((*c)->Exec("UPDATE issues SET pattern_id='pat_A' WHERE id='iss_changed'"));
    ASSERT_TRUE((*c)->Exec(
        "INSERT INTO pattern_members_new SELECT rowid, causeloop_key(pattern_id) FROM issues "
        "WHERE id='iss_changed'"));
    mark = Count(**c, "SELECT MAX(rowid) FROM issues");
  }
  {
    // v10 puts the mark above every issue the older writer had listed; the store, stopping,
    // lists what waited in pattern_members_new.
    auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
    ASSERT_TRUE(store) << store.error().message;
  }
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  EXPECT_EQ(Count(**c, "SELECT value FROM store_flags WHERE name='members_listed_through'"), mark);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM pattern_members_new"), 0);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM pattern_members"), 3);
  InsertIssue(**c, "iss_new_a", "'pat_A'", 2000);
  InsertIssue(**c, "iss_new_b", "'pat_B'", 2000);
  InsertIssue(**c, "iss_new_none", "NULL", 2000);
  auto of = [&](const char* pattern) {
    std::string p = std::string("'") + pattern + "'";
    return Count(**c, "SELECT COUNT(*) FROM issues WHERE " +
                          IssuesOfPattern("causeloop_key(" + p + ")") + " AND pattern_id=" + p);
  };
  EXPECT_EQ(of("pat_A"), 3);  // listed, changed, new
  EXPECT_EQ(of("pat_B"), 1);  // new; the stale entry of iss_changed is not counted
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM pattern_members"), 3);

  // The store's writer, idle, lists what waits and raises the mark over every issue.
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  long long top = Count(**c, "SELECT MAX(rowid) FROM issues");
  for (int i = 0; i < 500 && Count(**c,
                                   "SELECT value FROM store_flags "
                                   "WHERE name='members_listed_through'") != top;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Count(**c, "SELECT value FROM store_flags WHERE name='members_listed_through'"), top);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM pattern_members_new"), 0);
  EXPECT_EQ(Count(**c,
                  "SELECT COUNT(DISTINCT m.issue_rowid) FROM pattern_members m JOIN issues i ON "
                  "i.rowid = m.issue_rowid AND m.pattern_key = causeloop_key(i.pattern_id)"),
            4)
      << "listed, changed, and the two new issues with a pattern";
  EXPECT_EQ(of("pat_A"), 3);
  EXPECT_EQ(of("pat_B"), 1);
  IssueQuery q;
  q.pattern_id = "pat_A";
  auto page = (*store)->ListIssues("ws_1", q);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->total, 3);
}

// New members of a pattern wait in pattern_members_new until the writer moves a batch
// (MoveMembers); readers find them meanwhile, and an idle writer moves whatever waits.
TEST_F(SqliteSchemaTest, WaitingMembersAreFoundAndMovedOnceTheWriterIsIdle) {
  CreateAtVersion(Migrations().back().version);
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    model::Pattern p;
    p.workspace_id = "ws_1";
    p.title = p.template_text = "disk full";
    p.issue_count = 3;
    p.status = model::PatternStatus::kActive;
    p.first_seen_at = p.last_seen_at = p.created_at = p.updated_at = FromUnixMillis(1000);
    p.id = "pat_A";
    ASSERT_TRUE(InsertPattern(**c, p, ""));
    p.id = "pat_B";
    p.issue_count = 1;
    ASSERT_TRUE(InsertPattern(**c, p, ""));
    InsertIssue(**c, "iss_moved", "'pat_A'", 1000, true);
    InsertIssue(**c, "iss_w1", "'pat_A'", 2000);
    InsertIssue(**c, "iss_w2", "'pat_A'", 3000);
    InsertIssue(**c, "iss_other", "'pat_B'", 4000);
    ASSERT_TRUE((*c)->Exec(
        "INSERT INTO pattern_members_new SELECT rowid, causeloop_key(pattern_id) FROM issues "
        "WHERE id IN ('iss_w1', 'iss_w2', 'iss_other')"));
    EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM issues WHERE " +
                             IssuesOfPattern("causeloop_key('pat_A')") + " AND pattern_id='pat_A'"),
              3);
    EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM pattern_members"), 1);
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  IssueQuery q;
  q.pattern_id = "pat_A";
  auto page = (*store)->ListIssues("ws_1", q);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->total, 3);
  EXPECT_EQ(page->items.size(), 3u);
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  for (int i = 0; i < 500 && Count(**c, "SELECT COUNT(*) FROM pattern_members_new") != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM pattern_members_new"), 0);
  EXPECT_EQ(Count(**c,
                  "SELECT COUNT(DISTINCT m.issue_rowid) FROM pattern_members m JOIN issues i ON "
                  "i.rowid = m.issue_rowid AND m.pattern_key = causeloop_key(i.pattern_id)"),
            4);
  page = (*store)->ListIssues("ws_1", q);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 3);
}

// FTS5 merges a level of 'crisismerge' segments at once, inside whichever write
// transaction adds the last one; the incremental merge ('automerge') must start first, or
// each new level of the index is a long writer stall (migration 7).
TEST_F(SqliteSchemaTest, TheFullTextIndexMergesIncrementallyBeforeItMustMergeAtOnce) {
  {
    auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
    ASSERT_TRUE(store);
    Settle(**store);  // the index is made on first open
  }
  auto c = Conn::Open(SearchIndexer::PathFor(path_), std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  auto config = [&](const char* key) {
    auto s = (*c)->Prepare("SELECT v FROM issues_fts_config WHERE k=?");
    EXPECT_TRUE(s);
    if (!s) return 0LL;
    (*s)->Bind(1, key);
    long long v = (*s)->Step() == SQLITE_ROW ? (*s)->Int(0) : 0;
    (*s)->Reset();
    return v;
  };
  long long automerge = config("automerge");
  long long crisismerge = config("crisismerge");
  EXPECT_GE(automerge, 2);
  EXPECT_GE(crisismerge, 2 * automerge) << "automerge " << automerge;
}

// Counters that wait after a busy spell: a transaction while the writer is not busy writes
// its own patterns but not the others before they are due; the due scan writes a pattern
// that no transaction touches once its interval has passed; kAll writes everything.
TEST_F(SqliteSchemaTest, WaitingCountersAreWrittenWhenDueNotEachTimeTheWriterIsNotBusy) {
  CreateAtVersion(Migrations().back().version);
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  using Mode = PatternBatch::FlushMode;
  std::map<std::string, int> updates;  // pattern id -> pattern.updated events
  BatchDriver writer{**c, [&](const std::string&, const char* type, const std::string& data) {
                       if (std::string_view(type) == "pattern.updated") {
                         ++updates[data.find("\"pat_A\"") != std::string::npos ? "pat_A" : "pat_B"];
                       }
                       return Status{};
                     }};
  const SystemTime t0 = FromUnixMillis(1'700'000'000'000);
  auto txn = [&](SystemTime at, Mode mode, const std::vector<const char*>& patterns) {
    writer.Txn(at, mode, patterns);
  };
  auto count = [&](const char* pattern) {
    return Count(**c, std::string("SELECT issue_count FROM patterns WHERE id='") + pattern + "'");
  };
  txn(t0, Mode::kAll, {"pat_A", "pat_B"});  // both rows created
  EXPECT_EQ(count("pat_A"), 1);
  txn(t0 + Millis(1000), Mode::kBusy, {"pat_A", "pat_B"});  // both wait
  EXPECT_TRUE(writer.batch.has_deferred());
  EXPECT_EQ(count("pat_A"), 1);
  EXPECT_EQ(count("pat_B"), 1);
  // Not busy: pat_A, touched, is written with what waited; pat_B is not due yet.
  txn(t0 + Millis(1500), Mode::kNotBusy, {"pat_A"});
  EXPECT_EQ(count("pat_A"), 3);
  EXPECT_EQ(count("pat_B"), 1);
  EXPECT_EQ(updates["pat_A"], 1);
  EXPECT_EQ(updates["pat_B"], 0);
  EXPECT_EQ(Count(**c, "SELECT value FROM store_flags WHERE name='pattern_counts_stale'"), 1);
  // Busy, and pat_B untouched: due since t0 + 5 s, so the scan writes it; pat_A waits.
  txn(t0 + PatternBatch::kMinRowInterval + Millis(1000), Mode::kBusy, {"pat_A"});
  EXPECT_EQ(count("pat_B"), 2);
  EXPECT_EQ(updates["pat_B"], 1);
  EXPECT_EQ(count("pat_A"), 3);
  // Everything, e.g. once the writer idles.
  txn(t0 + PatternBatch::kMinRowInterval + Millis(1100), Mode::kAll, {});
  EXPECT_EQ(count("pat_A"), 4);
  EXPECT_FALSE(writer.batch.has_deferred());
  EXPECT_EQ(Count(**c, "SELECT value FROM store_flags WHERE name='pattern_counts_stale'"), 0);
}

// A busy pattern's pattern.updated lists the first issues that joined it, those that
// waited first (at most 20), and counts all of them; once the waiting ones fill the list,
// later transactions do not collect ids at all (PatternBatch::Entry::ids_full).
TEST_F(SqliteSchemaTest, AWaitingPatternsEventListsTheFirstIssuesThatJoinedIt) {
  CreateAtVersion(Migrations().back().version);
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  using Mode = PatternBatch::FlushMode;
  std::vector<std::string> updated;  // pattern.updated payloads
  BatchDriver writer{**c, [&](const std::string&, const char* type, const std::string& data) {
                       if (std::string_view(type) == "pattern.updated") updated.push_back(data);
                       return Status{};
                     }};
  const SystemTime t0 = FromUnixMillis(1'700'000'000'000);
  auto txn = [&](SystemTime at, Mode mode, int issues) {
    writer.Txn(at, mode, std::vector<const char*>(static_cast<size_t>(issues), "pat_A"));
  };
  txn(t0, Mode::kAll, 1);                  // iss_1 creates the row
  txn(t0 + Millis(100), Mode::kBusy, 15);  // iss_2..16 wait
  txn(t0 + Millis(200), Mode::kBusy, 15);  // iss_17..21 fill the list; 22..31 wait
  txn(t0 + Millis(300), Mode::kBusy, 10);  // iss_32..41 wait, ids not collected
  ASSERT_TRUE(updated.empty());
  txn(t0 + PatternBatch::kMinRowInterval, Mode::kAll, 0);
  ASSERT_EQ(updated.size(), 1u);
  const std::string& data = updated[0];
  EXPECT_NE(data.find("\"joined\":40"), std::string::npos) << data;
  EXPECT_EQ(Count(**c, "SELECT issue_count FROM patterns WHERE id='pat_A'"), 41);
  std::string expected = "\"issue_ids\":[";
  for (int i = 2; i <= 21; ++i)
    expected += (i > 2 ? ",\"iss_" : "\"iss_") + std::to_string(i) + "\"";
  expected += "]";
  EXPECT_NE(data.find(expected), std::string::npos) << data;
}

TEST_F(SqliteSchemaTest, AfterACrashWithCountersWaitingPatternsAreRecounted) {
  { ASSERT_TRUE(OpenSqliteStore(path_, StoreOptions{}, clock_, random_)); }
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    PatternWithUncountedIssues(**c);
    // What the writer leaves behind when it dies with counters waiting.
    ASSERT_TRUE((*c)->Exec("INSERT INTO store_flags VALUES('pattern_counts_stale', 1)"));
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store);
  auto p = (*store)->GetPattern("ws_1", "pat_A");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->issue_count, 3);
  EXPECT_EQ(p->status, model::PatternStatus::kActive);
  EXPECT_EQ(p->last_seen_at, FromUnixMillis(3000));
  auto events = (*store)->ListEvents("ws_1", 0, 100);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().type, "pattern.updated");
  EXPECT_NE(events->front().data_json.find(R"("reason":"recounted","joined":2)"), std::string::npos)
      << events->front().data_json;
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  EXPECT_EQ(Count(**c, "SELECT value FROM store_flags WHERE name='pattern_counts_stale'"), 0);
}

TEST_F(SqliteSchemaTest, AfterACleanStopNothingIsRecounted) {
  { ASSERT_TRUE(OpenSqliteStore(path_, StoreOptions{}, clock_, random_)); }
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    PatternWithUncountedIssues(**c);
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store);
  auto p = (*store)->GetPattern("ws_1", "pat_A");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->issue_count, 1) << "the stored count is trusted without the flag";
}

// The writer lists issues whose text changed in search_changes, in their own transaction;
// the indexer applies them later. Changes committed but not applied when the process died
// are applied after the restart.
TEST_F(SqliteSchemaTest, ChangesLeftUnappliedByACrashAreIndexedAfterTheRestart) {
  NewIssuesNotYetIndexed({"iss_a", "iss_b", "iss_c"});
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(Search(**store, "disk"), 3);
  ExpectIndexMatchesTable();
}

// An index that does not fit the database is rebuilt from the issues table: a missing
// file, one made from a newer copy of the database (it applied changes this one never
// made), and one older than the changes the writer has already deleted.
TEST_F(SqliteSchemaTest, AnIndexThatDoesNotFitTheDatabaseIsRebuiltFromTheIssues) {
  NewIssuesNotYetIndexed({"iss_a", "iss_b"});
  auto reopen_after = [&](const std::function<void(Conn & index, Conn & db)>& damage) {
    {
      auto index = Conn::Open(SearchIndexer::PathFor(path_), std::chrono::milliseconds(1000));
      auto db = Conn::Open(path_, std::chrono::milliseconds(1000));
      ASSERT_TRUE(index && db);
      // Emptied as well, so an index that is not rebuilt finds nothing.
      ASSERT_TRUE((*index)->Exec("INSERT INTO issues_fts(issues_fts) VALUES('delete-all')"));
      damage(**index, **db);
    }
    auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(Search(**store, "disk"), 2);
    ExpectIndexMatchesTable();
  };
  {
    auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
    ASSERT_TRUE(store);
    EXPECT_EQ(Search(**store, "disk"), 2);
  }
  SCOPED_TRACE("newer");
  reopen_after([](Conn& index, Conn&) {
    ASSERT_TRUE(index.Exec("UPDATE search_state SET value = 1000000 WHERE name = 'applied'"));
  });
  SCOPED_TRACE("older than the trimmed changes");
  reopen_after([](Conn& index, Conn& db) {
    ASSERT_TRUE(index.Exec("UPDATE search_state SET value = 0 WHERE name = 'applied'"));
    ASSERT_TRUE(db.Exec("DELETE FROM search_changes"));
    ASSERT_TRUE(db.Exec("INSERT OR REPLACE INTO store_flags VALUES('search_trimmed', 2)"));
  });
  SCOPED_TRACE("missing");
  std::filesystem::remove(SearchIndexer::PathFor(path_));
  std::filesystem::remove(SearchIndexer::PathFor(path_) + "-wal");
  std::filesystem::remove(SearchIndexer::PathFor(path_) + "-shm");
  {
    auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(Search(**store, "disk"), 2);
    ExpectIndexMatchesTable();
  }
  SCOPED_TRACE("not a database");
  std::filesystem::remove(SearchIndexer::PathFor(path_) + "-wal");
  std::filesystem::remove(SearchIndexer::PathFor(path_) + "-shm");
  {
    std::ofstream garbage(SearchIndexer::PathFor(path_), std::ios::binary | std::ios::trunc);
    garbage << std::string(8192, 'x');
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(Search(**store, "disk"), 2);
  ExpectIndexMatchesTable();
}

// Two processes on one database (here two stores in one process, each with its own flock
// descriptor): the first keeps the index and finds the other's changes on its own; when it
// closes, the other takes the index over. (Each writes its own workspace: a store caches
// its workspaces' event sequences, so two writers of one workspace conflict.)
TEST_F(SqliteSchemaTest, OneStoreKeepsTheIndexAndFindsAnotherStoresChanges) {
  auto ingest = [&](Store& store, const std::string& ws, const std::string& key,
                    const std::string& title) {
    model::IssueRecord r;
    r.source = "jira";
    r.external_id = key;
    r.title = title;
    IngestJob job{
        NewId("ing_job_", clock_.Now(), random_), ws, "completed", 1, 0, clock_.Now(), {}};
    std::promise<std::string> done;
    store.Ingest(ws, {r}, job, [&](const Result<std::vector<UpsertOutcome>>& out) {
      done.set_value(out ? "" : out.error().message);
    });
    EXPECT_EQ(done.get_future().get(), "") << key;
  };
  // Searches of ws_1 until `want` are found (the keeper looks for other stores' changes
  // about once a second).
  auto eventually = [&](Store& store, const std::string& text, long long want) {
    long long got = -1;
    for (int i = 0; i < 100 && (got = Search(store, text)) != want; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return got;
  };
  auto keeper = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(keeper) << keeper.error().message;
  auto other = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(other) << other.error().message;
  ingest(**other, "ws_1", "K-1", "diskfull on db-1");
  ingest(**other, "ws_1", "K-2", "diskfull on db-2");
  ingest(**keeper, "ws_2", "K-3", "diskfull on db-3");
  ingest(**other, "ws_1", "K-1", "cpuhot on db-1");  // the text the keeper indexed goes out
  EXPECT_EQ(eventually(**keeper, "cpuhot", 1), 1);
  EXPECT_EQ(eventually(**keeper, "diskfull", 1), 1);
  keeper->reset();
  ingest(**other, "ws_1", "K-4", "diskfull on db-4");
  EXPECT_EQ(eventually(**other, "diskfull", 2), 2) << "the other store took the index over";
  other->reset();
  ExpectIndexMatchesTable();
}

TEST_F(SqliteSchemaTest, MigratingFromV12BuildsTheSearchIndexFromTheIssues) {
  CreateAtVersion(12);
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    for (const char* id : {"iss_a", "iss_b", "iss_c"}) InsertIssue(**c, id, "NULL", 1000);
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(Search(**store, "disk"), 3);
  ExpectIndexMatchesTable();
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE 'issues_fts%'"), 0);
}

// --- The last-seen order (seen_log.h) ------------------------------------------------------

// Ingests one record per key into ws_1 and waits for the answer.
void IngestKeys(Store& store, FakeClock& clock, Random& random,
                const std::vector<std::string>& keys) {
  std::vector<model::IssueRecord> records;
  for (const auto& k : keys) {
    model::IssueRecord r;
    r.source = "jira";
    r.external_id = k;
    r.title = "disk full on " + k;
    records.push_back(std::move(r));
  }
  auto n = static_cast<long long>(records.size());
  IngestJob job{NewId("ing_job_", clock.Now(), random), "ws_1", "completed", n, 0, clock.Now(), {}};
  std::promise<bool> done;
  store.Ingest("ws_1", std::move(records), job, [&](const Result<std::vector<UpsertOutcome>>& out) {
    done.set_value(out.has_value());
  });
  EXPECT_TRUE(done.get_future().get());
}

// Every issue of ws_1 by last_seen_at, paged two at a time.
std::vector<std::string> ByLastSeen(Store& store, bool descending) {
  std::vector<std::string> out;
  IssueQuery q;
  q.sort = IssueSort::kLastSeenAt;
  q.descending = descending;
  q.limit = 2;
  for (int page = 0; page < 50; ++page) {
    auto p = store.ListIssues("ws_1", q);
    EXPECT_TRUE(p) << p.error().message;
    if (!p) break;
    for (const auto& i : p->items) out.push_back(i.external_id);
    if (!p->has_more) break;
    q.after_value = std::to_string(ToUnixMillis(p->items.back().last_seen_at));
    q.after_id = p->items.back().id;
  }
  return out;
}

// Entries a process left stale when it died (or that this one has not deleted yet) are in
// issue_seen beside the live ones: lists skip them, and the next store to open deletes them.
TEST_F(SqliteSchemaTest, TheLastSeenOrderSkipsStaleEntriesAndTheNextOpenDeletesThem) {
  using V = std::vector<std::string>;
  {
    auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
    ASSERT_TRUE(store) << store.error().message;
    for (const char* k : {"A", "B", "C", "D"}) {
      IngestKeys(**store, clock_, random_, {k});
      clock_.Advance(Millis(1000));
    }
    IngestKeys(**store, clock_, random_, {"B"});  // B is now the latest seen
    clock_.Advance(Millis(1000));
    IngestKeys(**store, clock_, random_, {"A", "E"});  // A and E tie, stored A then E
    // Stale entries at A's and C's earlier times and between them, as a dead process's
    // writes would have left them (their issues have moved on, or never had that time).
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->Exec(
        "INSERT OR IGNORE INTO issue_seen SELECT ws_key, first_seen_at, rowid FROM issues "
        "WHERE external_id='A'"));
    ASSERT_TRUE((*c)->Exec(
        "INSERT OR IGNORE INTO issue_seen SELECT ws_key, last_seen_at - 500, rowid FROM issues "
        "WHERE external_id IN ('C', 'E')"));
    EXPECT_EQ(ByLastSeen(**store, true), (V{"E", "A", "B", "D", "C"}));
    EXPECT_EQ(ByLastSeen(**store, false), (V{"C", "D", "B", "A", "E"}));
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM issue_seen"), 5);
  EXPECT_EQ(Count(**c,
                  "SELECT COUNT(*) FROM issue_seen l JOIN issues i ON i.rowid = l.issue_rowid "
                  "AND i.last_seen_at = l.seen_at AND i.ws_key = l.ws_key"),
            5);
  EXPECT_EQ(ByLastSeen(**store, true), (V{"E", "A", "B", "D", "C"}));
}

// Re-sent issues leave their earlier entries stale; this store deletes them itself (here
// when its writer goes idle), without a restart.
TEST_F(SqliteSchemaTest, ReSentIssuesLeaveNoStaleLastSeenEntriesBehind) {
  StoreOptions options;
  options.seen_round_keys = 16;
  auto store = OpenSqliteStore(path_, options, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) keys.push_back("K-" + std::to_string(i));
  for (int round = 0; round < 5; ++round) {
    clock_.Advance(Millis(1000));
    IngestKeys(**store, clock_, random_, keys);
  }
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  long long entries = 0;
  for (int wait = 0; wait < 500; ++wait) {
    entries = Count(**c, "SELECT COUNT(*) FROM issue_seen");
    if (entries == 30) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(entries, 30) << "stale entries left";
  EXPECT_EQ(ByLastSeen(**store, true).size(), 30u);
}

TEST_F(SqliteSchemaTest, MigratingFromV13MovesTheLastSeenOrderIntoALog) {
  CreateAtVersion(13);
  {
    auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
    ASSERT_TRUE(c);
    InsertIssue(**c, "iss_a", "NULL", 3000);
    InsertIssue(**c, "iss_b", "NULL", 1000);
    InsertIssue(**c, "iss_c", "NULL", 2000);
  }
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(ByLastSeen(**store, true), (std::vector<std::string>{"iss_a", "iss_c", "iss_b"}));
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM sqlite_schema WHERE name='issues_last_seen'"), 0);
  EXPECT_EQ(Count(**c, "SELECT COUNT(*) FROM issue_seen"), 3);
}

// A round deletes a bounded number of stale entries per transaction, and a transaction that
// rolls back takes its deletions back without losing track of them.
TEST_F(SqliteSchemaTest, SeenLogRoundsDeleteInBatchesAndSurviveARollback) {
  CreateAtVersion(Migrations().back().version);
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  SeenLog log(/*round_keys=*/100);
  ASSERT_TRUE((*c)->Exec("BEGIN"));
  for (long long k = 0; k < 600; ++k) {
    ASSERT_TRUE(log.Add(**c, {1, 1000 + k, k}));
    log.Stale({1, 1000 + k, k});
  }
  ASSERT_TRUE(log.Compact(**c, false));  // nothing committed stale yet: no round
  ASSERT_TRUE((*c)->Exec("COMMIT"));
  log.Committed();
  EXPECT_EQ(log.waiting(), 600u);
  auto entries = [&] { return Count(**c, "SELECT COUNT(*) FROM issue_seen"); };
  EXPECT_EQ(entries(), 600);

  ASSERT_TRUE((*c)->Exec("BEGIN"));
  ASSERT_TRUE(log.Compact(**c, false));
  EXPECT_EQ(entries(), 600 - 256);
  ASSERT_TRUE((*c)->Exec("ROLLBACK"));
  log.RolledBack();
  EXPECT_EQ(entries(), 600);
  EXPECT_EQ(log.waiting(), 600u);

  ASSERT_TRUE((*c)->Exec("BEGIN"));
  ASSERT_TRUE(log.Compact(**c, false));
  ASSERT_TRUE((*c)->Exec("COMMIT"));
  log.Committed();
  EXPECT_EQ(entries(), 600 - 256);
  EXPECT_EQ(log.waiting(), 600u - 256);
  // The oldest keys go first (key order).
  EXPECT_EQ(Count(**c, "SELECT MIN(seen_at) FROM issue_seen"), 1000 + 256);

  // Stale entries made while a round is under way wait for the next round, or go with the
  // rest of this one when everything is asked for (the writer idle or stopping).
  ASSERT_TRUE((*c)->Exec("BEGIN"));
  for (long long k = 600; k < 610; ++k) {
    ASSERT_TRUE(log.Add(**c, {1, 1000 + k, k}));
    log.Stale({1, 1000 + k, k});
  }
  ASSERT_TRUE((*c)->Exec("COMMIT"));
  log.Committed();
  EXPECT_EQ(log.waiting(), 600u - 256 + 10);
  ASSERT_TRUE((*c)->Exec("BEGIN"));
  ASSERT_TRUE(log.Compact(**c, true));
  ASSERT_TRUE((*c)->Exec("COMMIT"));
  log.Committed();
  EXPECT_EQ(entries(), 0);
  EXPECT_EQ(log.waiting(), 0u);
}

// Many requests in flight at once, in small transactions, while the indexer applies
// changes behind the writer: new issues, the same keys with new text (the old words must
// leave the index), keys changed twice before the indexer may have seen them, and a large
// transaction. A search that settles first finds every acknowledged issue as it was last
// written, and the index ends equal to the table.
class SqliteSearchBurstTest : public SqliteSchemaTest,
                              public ::testing::WithParamInterface<size_t> {};

// With the default queue the changes go to the indexer in memory; with a queue of 4 KiB
// most are dropped and read back from search_changes (Recover), between batches that fit.
INSTANTIATE_TEST_SUITE_P(QueueBytes, SqliteSearchBurstTest,
                         ::testing::Values(StoreOptions{}.search_queue_bytes, size_t{4096}));

TEST_P(SqliteSearchBurstTest, ASearchAfterABurstFindsEveryAcknowledgedIssue) {
  StoreOptions options;
  options.max_records_per_transaction = 32;
  options.search_queue_bytes = GetParam();
  auto store = OpenSqliteStore(path_, options, clock_, random_);
  ASSERT_TRUE(store) << store.error().message;
  std::mutex mu;
  std::condition_variable cv;
  int sent = 0;
  int done = 0;
  int failed = 0;
  // Keys K-first … K-(first+n-1), `per_request` records per request, none awaited.
  auto send = [&](int first, int n, const std::string& word, int per_request = 1) {
    for (int i = first; i < first + n; i += per_request) {
      std::vector<model::IssueRecord> records;
      for (int k = i; k < std::min(first + n, i + per_request); ++k) {
        model::IssueRecord r;
        r.source = "jira";
        r.external_id = "K-" + std::to_string(k);
        r.title = word + " on host" + std::to_string(k);
        records.push_back(std::move(r));
      }
      auto size = static_cast<long long>(records.size());
      IngestJob job{
          NewId("ing_job_", clock_.Now(), random_), "ws_1", "completed", size, 0, clock_.Now(), {}};
      {
        std::lock_guard lock(mu);
        ++sent;
      }
      (*store)->Ingest("ws_1", std::move(records), job,
                       [&](const Result<std::vector<UpsertOutcome>>& out) {
                         std::lock_guard lock(mu);
                         failed += out ? 0 : 1;
                         ++done;
                         cv.notify_all();
                       });
    }
  };
  auto wait = [&] {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == sent; });
    EXPECT_EQ(failed, 0);
  };
  auto search = [&](const std::string& text) {
    std::promise<void> settled;
    (*store)->SettleSearchIndex([&] { settled.set_value(); });
    settled.get_future().wait();
    IssueQuery q;
    q.q = text;
    auto page = (*store)->ListIssues("ws_1", q);
    EXPECT_TRUE(page) << page.error().message;
    return page ? page->total : -1;
  };
  send(0, 400, "kernelpanic");
  wait();
  EXPECT_EQ(search("kernelpanic"), 400);
  // The same keys with new text: the old words leave the index, the new ones enter it.
  send(0, 400, "diskfull");
  wait();
  EXPECT_EQ(search("diskfull"), 400);
  EXPECT_EQ(search("kernelpanic"), 0);
  // New keys changed again while the first change may still wait for the index.
  send(400, 400, "cpuhot");
  send(400, 400, "memleak");
  wait();
  EXPECT_EQ(search("memleak"), 400);
  EXPECT_EQ(search("cpuhot"), 0);
  // Small transactions, then a large one.
  send(800, 300, "netdown");
  send(1100, 300, "netdown", 300);
  wait();
  EXPECT_EQ(search("netdown"), 600);
  ExpectIndexMatchesTable();
}

}  // namespace
}  // namespace causeloop::store::sqlite

// SQLite-only checks of the schema itself: migrating an existing database, and that the hot
// queries use the indexes they were written for.

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace causeloop::store::sqlite {
namespace {

class SqliteSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("causeloop-schema-" + NewId("t_", clock_.Now(), random_));
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

  void InsertIssue(Conn& c, const std::string& id, const char* pattern_sql) {
    std::string sql =
        "INSERT INTO issues(id, workspace_id, source, external_id, title, severity, status, "
        "pattern_id, first_seen_at, last_seen_at, created_at, updated_at) VALUES('" +
        id + "', 'ws_1', 'jira', '" + id + "', 'disk full', 3, 'open', " + pattern_sql +
        ", 0, 0, 0, 0)";
    ASSERT_TRUE(c.Exec(sql.c_str()));
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

  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  auto s = (*c)->Prepare("SELECT id, pattern_key FROM issues ORDER BY id");
  ASSERT_TRUE(s);
  ASSERT_EQ((*s)->Step(), SQLITE_ROW);
  EXPECT_EQ((*s)->Int(1), PatternKey("pat_A"));
  ASSERT_EQ((*s)->Step(), SQLITE_ROW);
  EXPECT_EQ((*s)->Text(0), "iss_b");
  EXPECT_TRUE((*s)->IsNull(1));
  (*s)->Reset();

  // The store finds the migrated issue by its pattern.
  IssueQuery q;
  q.pattern_id = "pat_A";
  auto page = (*store)->ListIssues("ws_1", q);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, "iss_a");
}

TEST_F(SqliteSchemaTest, IssuesOfAPatternAreFoundThroughTheIntegerKeyIndex) {
  auto store = OpenSqliteStore(path_, StoreOptions{}, clock_, random_);
  ASSERT_TRUE(store);
  auto c = Conn::Open(path_, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c);
  auto s = (*c)->Prepare(
      "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM issues WHERE pattern_key=causeloop_key(?2) AND "
      "workspace_id=?1 AND pattern_id=?2");
  ASSERT_TRUE(s);
  std::string plan;
  while ((*s)->Step() == SQLITE_ROW) plan += (*s)->Text(3) + "\n";
  EXPECT_NE(plan.find("issues_pattern_key"), std::string::npos) << plan;
}

}  // namespace
}  // namespace causeloop::store::sqlite

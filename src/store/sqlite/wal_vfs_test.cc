#include "store/sqlite/wal_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/sqlite/temp_db_test_util.h"

namespace causeloop::store::sqlite {
namespace {

class WalVfsTest : public TempDbTest {
 protected:
  void SetUp() override {
    TempDbTest::SetUp();
    ASSERT_NE(WalBatchingVfs(), nullptr);
  }
  sqlite3* OpenWriter() {
    sqlite3* w = Open(WalBatchingVfs());
    Exec(w, "PRAGMA journal_mode=WAL");
    Exec(w, "PRAGMA synchronous=FULL");
    return w;
  }
};

TEST_F(WalVfsTest, EveryCommitIsVisibleToOtherConnectionsAndSurvivesCheckpoints) {
  sqlite3* w = OpenWriter();
  sqlite3* reader = Open(nullptr);
  sqlite3* checkpointer = Open(nullptr);
  Exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT UNIQUE, v BLOB)");
  Exec(w, "CREATE VIRTUAL TABLE f USING fts5(x)");
  for (int txn = 0; txn < 30; ++txn) {
    Exec(w, "BEGIN IMMEDIATE");
    for (int i = 0; i < 100; ++i) {
      Exec(w, "INSERT INTO t(k, v) VALUES(hex(randomblob(16)), randomblob(700))");
      Exec(w, "INSERT INTO f VALUES('connection refused ' || hex(randomblob(4)))");
    }
    Exec(w, "COMMIT");
    ASSERT_EQ(Scalar(reader, "SELECT COUNT(*) FROM t"), (txn + 1) * 100) << txn;
    ASSERT_EQ(Scalar(reader, "SELECT COUNT(*) FROM f WHERE f MATCH 'refused'"), (txn + 1) * 100);
    if (txn % 7 == 0) Exec(checkpointer, "PRAGMA wal_checkpoint(PASSIVE)");
  }
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(reader, "PRAGMA integrity_check", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "ok");
  sqlite3_finalize(s);
}

TEST_F(WalVfsTest, AGroupCommitReachesTheFileInAFewWrites) {
  sqlite3* w = OpenWriter();
  Exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
  WalVfsStats before = WalBatchingVfsStats();
  Exec(w, "BEGIN IMMEDIATE");
  for (int i = 0; i < 500; ++i) Exec(w, "INSERT INTO t(v) VALUES(randomblob(900))");
  Exec(w, "COMMIT");
  WalVfsStats after = WalBatchingVfsStats();
  long long sqlite_writes = after.sqlite_writes - before.sqlite_writes;
  long long file_writes = after.file_writes - before.file_writes;
  // ~120 pages of 4 KiB, two SQLite writes each; at most 64 KiB per file write.
  EXPECT_GE(sqlite_writes, 200);
  EXPECT_LE(file_writes, sqlite_writes / 10) << sqlite_writes;
}

TEST_F(WalVfsTest, ATransactionReadsBackPagesItSpilledToTheWal) {
  sqlite3* w = OpenWriter();
  // A tiny page cache makes the open transaction write pages to the WAL and read them back
  // before it commits; a read must see the bytes still in the buffer.
  Exec(w, "PRAGMA cache_size=8");
  Exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  Exec(w, "BEGIN IMMEDIATE");
  for (int i = 0; i < 2000; ++i) {
    Exec(w, "INSERT INTO t(v) VALUES(printf('%0500d', " + std::to_string(i) + "))");
  }
  EXPECT_EQ(Scalar(w, "SELECT SUM(CAST(v AS INTEGER)) FROM t"), 1999LL * 2000 / 2);
  Exec(w, "COMMIT");
  sqlite3* reader = Open(nullptr);
  EXPECT_EQ(Scalar(reader, "SELECT SUM(CAST(v AS INTEGER)) FROM t"), 1999LL * 2000 / 2);
}

TEST_F(WalVfsTest, CommittedDataIsThereAfterReopening) {
  sqlite3* w = OpenWriter();
  Exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
  Exec(w, "INSERT INTO t(v) SELECT randomblob(300) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3)");
  sqlite3_close(w);
  open_.erase(open_.begin());
  sqlite3* again = Open(nullptr);
  EXPECT_EQ(Scalar(again, "SELECT COUNT(*) FROM t"), 3);
}

}  // namespace
}  // namespace causeloop::store::sqlite

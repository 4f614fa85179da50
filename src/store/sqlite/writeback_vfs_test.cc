#include "store/sqlite/writeback_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/sqlite/temp_db_test_util.h"

namespace causeloop::store::sqlite {
namespace {

class WritebackVfsTest : public TempDbTest {
 protected:
  void SetUp() override {
    TempDbTest::SetUp();
    ASSERT_NE(EarlyWritebackVfs(), nullptr);
  }
};

// The store's arrangement: a writer on the default VFS, the checkpoint connection on this
// one. A checkpoint that copies ~6 MiB of pages asks for writeback along the way, and the
// database is whole and complete afterwards, also for a connection opened later.
TEST_F(WritebackVfsTest, ACheckpointStartsWritebackAsItCopiesAndLosesNothing) {
  sqlite3* writer = Open(nullptr);
  Exec(writer, "PRAGMA journal_mode=WAL");
  Exec(writer, "PRAGMA synchronous=FULL");
  Exec(writer, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
  sqlite3* checkpointer = Open(EarlyWritebackVfs());
  Exec(checkpointer, "PRAGMA synchronous=FULL");
  Exec(writer, "PRAGMA wal_autocheckpoint=0");
  Exec(writer, "BEGIN IMMEDIATE");
  for (int i = 0; i < 1500; ++i) Exec(writer, "INSERT INTO t(v) VALUES(randomblob(3000))");
  Exec(writer, "COMMIT");
  const int64_t before = EarlyWritebackRequests();
  Exec(checkpointer, "PRAGMA wal_checkpoint(TRUNCATE)");
  // ~1,500 pages of 4 KiB: one request per MiB copied.
  EXPECT_GE(EarlyWritebackRequests() - before, 4);
  EXPECT_EQ(Text(checkpointer, "PRAGMA integrity_check"), "ok");
  sqlite3* later = Open(nullptr);
  EXPECT_EQ(Text(later, "SELECT COUNT(*) FROM t"), "1500");
  EXPECT_EQ(Text(later, "SELECT SUM(length(v)) FROM t"), std::to_string(1500 * 3000));
}

// Small writes make no requests: the pages wait for SQLite's own fsync as they would
// without this VFS.
TEST_F(WritebackVfsTest, WritesBelowTheThresholdAskForNothing) {
  sqlite3* db = Open(EarlyWritebackVfs());
  Exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
  const int64_t before = EarlyWritebackRequests();
  Exec(db, "INSERT INTO t(v) VALUES(randomblob(10000))");
  EXPECT_EQ(EarlyWritebackRequests(), before);
  EXPECT_EQ(Text(db, "SELECT length(v) FROM t"), "10000");
}

}  // namespace
}  // namespace causeloop::store::sqlite

#include "store/sqlite/writeback_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace causeloop::store::sqlite {
namespace {

class WritebackVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "wbvfs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/t.db";
    ASSERT_NE(EarlyWritebackVfs(), nullptr);
  }
  void TearDown() override {
    for (sqlite3* db : open_) sqlite3_close(db);
    std::filesystem::remove_all(dir_);
  }

  sqlite3* Open(const char* vfs) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
              SQLITE_OK);
    open_.push_back(db);
    return db;
  }
  static void Exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  static std::string Text(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    std::string v;
    if (sqlite3_step(s) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(s, 0);
      v = t != nullptr ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(s);
    return v;
  }

  std::string dir_, path_;
  std::vector<sqlite3*> open_;
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

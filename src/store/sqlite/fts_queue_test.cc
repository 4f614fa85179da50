// FtsQueue: a transaction's full-text index changes, applied in rowid order before COMMIT,
// must leave the index exactly matching the rows, however the changes arrived.

#include "store/sqlite/fts_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <string>

#include "store/sqlite/sqlite_db.h"

namespace causeloop::store::sqlite {
namespace {

class SqliteFtsQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Conn::Open(":memory:", std::chrono::milliseconds(1000));
    ASSERT_TRUE(opened) << opened.error().message;
    conn_ = std::move(*opened);
    // The shape of the store's issues_fts (migrations.cc).
    Exec("CREATE TABLE issues(title TEXT, body TEXT)");
    Exec(
        "CREATE VIRTUAL TABLE issues_fts USING fts5(title, body, content='issues', "
        "content_rowid='rowid', detail=none, columnsize=0)");
  }

  void Exec(const char* sql) {
    auto s = conn_->Exec(sql);
    ASSERT_TRUE(s) << sql << ": " << s.error().message;
  }

  // Writes the row and queues its index change, as the store does.
  void Put(long long rowid, const std::string& title, const std::string& body) {
    auto old = rows_.find(rowid);
    auto s = conn_->Prepare("INSERT OR REPLACE INTO issues(rowid, title, body) VALUES(?,?,?)");
    ASSERT_TRUE(s);
    (*s)->Bind(1, rowid).Bind(2, title).Bind(3, body);
    ASSERT_EQ((*s)->Step(), SQLITE_DONE);
    (*s)->Reset();
    if (old == rows_.end()) {
      queue_.Added(rowid, title, body);
    } else {
      queue_.Changed(rowid, old->second.first, old->second.second, title, body);
    }
    rows_[rowid] = {title, body};
  }

  void Commit() {
    auto s = queue_.Apply(*conn_, "issues_fts");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_TRUE(queue_.empty());
    Exec("COMMIT");
  }

  // The rowids whose text matches `query`, in order.
  std::vector<long long> Match(const std::string& query) {
    std::vector<long long> out;
    auto s = conn_->Prepare("SELECT rowid FROM issues_fts WHERE issues_fts MATCH ? ORDER BY rowid");
    EXPECT_TRUE(s);
    if (!s) return out;
    (*s)->Bind(1, query);
    while ((*s)->Step() == SQLITE_ROW) out.push_back((*s)->Int(0));
    (*s)->Reset();
    return out;
  }

  // FTS5's own check of the index against the content table: every indexed term of every
  // row, and nothing else.
  void ExpectIndexMatchesRows() {
    auto s = conn_->Exec("INSERT INTO issues_fts(issues_fts, rank) VALUES('integrity-check', 1)");
    EXPECT_TRUE(s) << s.error().message;
  }

  std::unique_ptr<Conn> conn_;
  FtsQueue queue_;
  std::map<long long, std::pair<std::string, std::string>> rows_;
};

std::string Text(long long rowid, int version) {
  return "disk full on host r" + std::to_string(rowid) + "v" + std::to_string(version);
}

TEST_F(SqliteFtsQueueTest, IndexMatchesTheRowsAfterChangesInAnyOrder) {
  std::mt19937_64 rng(7);
  std::map<long long, int> version;
  long long next_rowid = 1;
  for (int txn = 0; txn < 4; ++txn) {
    Exec("BEGIN IMMEDIATE");
    for (int op = 0; op < 300; ++op) {
      long long rowid = 0;
      if (version.empty() || rng() % 4 == 0) {
        rowid = next_rowid++;  // a new issue
      } else {
        rowid = static_cast<long long>(1 + rng() % (next_rowid - 1));  // any earlier one
      }
      int v = ++version[rowid];
      Put(rowid, Text(rowid, v), "body of r" + std::to_string(rowid) + " " + std::to_string(v));
    }
    Commit();
    ExpectIndexMatchesRows();
  }
  ASSERT_GT(version.size(), 100U);
  int changed_often = 0;
  for (const auto& [rowid, v] : version) {
    ASSERT_EQ(Match("r" + std::to_string(rowid) + "v" + std::to_string(v)),
              std::vector<long long>{rowid});
    for (int old = 1; old < v; ++old) {
      ASSERT_TRUE(Match("r" + std::to_string(rowid) + "v" + std::to_string(old)).empty())
          << "row " << rowid << " still found by its text " << old << " of " << v;
    }
    if (v >= 3) ++changed_often;
  }
  EXPECT_GT(changed_often, 10);  // rows changed several times, within and across transactions
}

TEST_F(SqliteFtsQueueTest, ARowChangedBackWritesNothing) {
  Exec("BEGIN IMMEDIATE");
  Put(1, "replica lag", "behind the primary");
  Commit();
  Exec("BEGIN IMMEDIATE");
  Put(1, "replica lag again", "behind the primary");
  Put(1, "replica lag", "behind the primary");
  int before = sqlite3_total_changes(conn_->raw());
  Commit();
  EXPECT_EQ(sqlite3_total_changes(conn_->raw()), before);
  EXPECT_EQ(Match("lag"), std::vector<long long>{1});
  EXPECT_TRUE(Match("again").empty());
  ExpectIndexMatchesRows();
}

TEST_F(SqliteFtsQueueTest, ClearForgetsARolledBackTransaction) {
  Exec("BEGIN IMMEDIATE");
  Put(1, "certificate expires", "renewal failed");
  Commit();
  Exec("BEGIN IMMEDIATE");
  Put(2, "queue depth", "consumers lagging");
  Exec("ROLLBACK");
  queue_.clear();
  rows_.erase(2);
  EXPECT_TRUE(queue_.empty());
  Exec("BEGIN IMMEDIATE");
  Put(3, "connection refused", "not listening");
  Commit();
  EXPECT_EQ(Match("queue"), std::vector<long long>{});
  EXPECT_EQ(Match("refused"), std::vector<long long>{3});
  ExpectIndexMatchesRows();
}

}  // namespace
}  // namespace causeloop::store::sqlite

// The SQLite store's WAL under writes that never pause: checkpoints must let it start over
// from its beginning, or it grows by every page ever written.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/time.h"
#include "store/sqlite/sqlite_store.h"

namespace causeloop::store {
namespace {

class SqliteCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FastRandom unique;
    dir_ = std::filesystem::temp_directory_path() /
           ("causeloop-ckpt-" + NewId("t_", RealClock().Now(), unique));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "causeloop.db").string();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  FakeClock clock_{SystemTime(Millis(1'700'000'000'000))};
  SeededRandom random_{11};
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteCheckpointTest, TheWalStartsOverWhileTheWriterIsNeverIdle) {
  StoreOptions options;
  options.checkpoint_pages = 64;
  options.max_records_per_transaction = 5;  // many small transactions
  auto opened = OpenSqliteStore(path_, options, clock_, random_);
  ASSERT_TRUE(opened) << opened.error().message;
  store_ = std::move(*opened);
  model::Organization org{NewId("org_", clock_.Now(), random_), "o", clock_.Now()};
  model::Workspace ws{NewId("ws_", clock_.Now(), random_), org.id, "w", clock_.Now()};
  ASSERT_TRUE(store_->CreateOrganization(org, ws));

  // Every write is queued before the writer has finished the first, so it never waits for
  // work: the WAL cannot start over in an idle moment, only through the checkpoints.
  constexpr int kTasks = 240;
  constexpr int kRecords = 5;
  std::atomic<int> left{kTasks};
  std::atomic<int> failed{0};
  std::promise<void> all_done;
  for (int t = 0; t < kTasks; ++t) {
    std::vector<model::IssueRecord> records;
    for (int r = 0; r < kRecords; ++r) {
      model::IssueRecord rec;
      rec.source = "jira";
      rec.external_id = "K-" + std::to_string(t) + "-" + std::to_string(r);
      rec.title = "disk full on host-" + std::to_string(t * kRecords + r);
      rec.body = std::string(400, static_cast<char>('a' + (t + r) % 26));
      records.push_back(std::move(rec));
    }
    IngestJob job{NewId("ing_job_", clock_.Now(), random_),
                  ws.id,
                  "completed",
                  kRecords,
                  0,
                  clock_.Now(),
                  {}};
    store_->Ingest(ws.id, std::move(records), job,
                   [&](const Result<std::vector<UpsertOutcome>>& r) {
                     if (!r) ++failed;
                     if (--left == 0) all_done.set_value();
                   });
  }
  all_done.get_future().get();
  EXPECT_EQ(failed.load(), 0);
  StoreStats stats = store_->Stats();
  EXPECT_GE(stats.records_committed, kTasks * kRecords);
  // ~40 frames per transaction, ~10,000 frames in all: without the writer finishing
  // checkpoints the WAL starts over at most once or twice here, and grows to ~40 MiB.
  EXPECT_GE(stats.wal_restarts, 5);
  const auto wal_bytes = std::filesystem::file_size(path_ + "-wal");
  EXPECT_LT(wal_bytes, std::uintmax_t{16} * 64 * (4096 + 24)) << "WAL grew to " << wal_bytes;
}

}  // namespace
}  // namespace causeloop::store

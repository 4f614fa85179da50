// The SQLite store's WAL: under writes that never pause, checkpoints must let it start over
// from its beginning (or it grows by every page ever written); and COMMIT leaves the WAL's
// fsync to the completion thread, which must run it before anything is answered.

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

  std::string OpenWithWorkspace(const StoreOptions& options) {
    auto opened = OpenSqliteStore(path_, options, clock_, random_);
    EXPECT_TRUE(opened) << opened.error().message;
    if (!opened) return "";
    store_ = std::move(*opened);
    model::Organization org{NewId("org_", clock_.Now(), random_), "o", clock_.Now()};
    model::Workspace ws{NewId("ws_", clock_.Now(), random_), org.id, "w", clock_.Now()};
    EXPECT_TRUE(store_->CreateOrganization(org, ws));
    return ws.id;
  }
  // The job row of an ingest of `records` records into `ws`, all accepted.
  IngestJob CompletedJob(const std::string& ws, long long records) {
    return IngestJob{
        NewId("ing_job_", clock_.Now(), random_), ws, "completed", records, 0, clock_.Now(), {}};
  }
};

// Counts the events it is told of.
class CountingObserver final : public CommitObserver {
 public:
  void OnCommitted(const std::vector<model::Event>& events) override { seen += events.size(); }
  std::atomic<size_t> seen{0};
};

TEST_F(SqliteCheckpointTest, WritesAreAnsweredOnlyOnceTheirTransactionIsSynced) {
  const std::string ws = OpenWithWorkspace(StoreOptions{});
  ASSERT_FALSE(ws.empty());
  CountingObserver observer;
  store_->AddCommitObserver(&observer);
  for (int i = 0; i < 20; ++i) {
    model::IssueRecord rec;
    rec.source = "jira";
    rec.external_id = "K-" + std::to_string(i);
    rec.title = "disk full";
    std::promise<StoreStats> answered;
    store_->Ingest(ws, {rec}, CompletedJob(ws, 1),
                   [&](const Result<std::vector<UpsertOutcome>>& r) {
                     EXPECT_TRUE(r);
                     answered.set_value(store_->Stats());
                   });
    // One write at a time, so the last committed transaction is this write's.
    StoreStats at_answer = answered.get_future().get();
    EXPECT_EQ(at_answer.durable_transactions, at_answer.transactions) << "write " << i;
    EXPECT_EQ(observer.seen.load(), static_cast<size_t>(i + 1)) << "told before the answer";
  }
}

TEST_F(SqliteCheckpointTest, TheWalStartsOverWhileTheWriterIsNeverIdle) {
  StoreOptions options;
  options.checkpoint_pages = 64;
  options.max_records_per_transaction = 5;  // many small transactions
  const std::string ws_id = OpenWithWorkspace(options);
  ASSERT_FALSE(ws_id.empty());

  // Every write is queued before the writer has finished the first, so it never waits for
  // work: the WAL cannot start over in an idle moment, only through the checkpoints.
  constexpr int kTasks = 480;
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
    store_->Ingest(ws_id, std::move(records), CompletedJob(ws_id, kRecords),
                   [&](const Result<std::vector<UpsertOutcome>>& r) {
                     if (!r) ++failed;
                     if (--left == 0) all_done.set_value();
                   });
  }
  all_done.get_future().get();
  EXPECT_EQ(failed.load(), 0);
  StoreStats stats = store_->Stats();
  EXPECT_GE(stats.records_committed, kTasks * kRecords);
  // ~40 frames per transaction, ~20,000 frames (~80 MiB) in all: without the writer
  // finishing checkpoints the WAL starts over at most once or twice here and grows to
  // nearly all of it. With it, ~1.5 MiB on an idle machine; the bound leaves room for a
  // checkpointer starved of CPU by other tests (~12 MiB seen with six copies at once, and
  // once 40 MiB in a plain `ctest -j2` run on the shared VM, which failed a 24 MiB bound).
  EXPECT_GE(stats.wal_restarts, 5);
  const auto wal_bytes = std::filesystem::file_size(path_ + "-wal");
  EXPECT_LT(wal_bytes, std::uintmax_t{56} << 20) << "WAL grew to " << wal_bytes;
}

}  // namespace
}  // namespace causeloop::store

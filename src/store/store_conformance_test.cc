// The one conformance suite every Store backend must pass. Instantiated per backend with
// typed tests; PostgreSQL joins by adding a factory to the type list.

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"

namespace causeloop::store {
namespace {

namespace fs = std::filesystem;

struct SqliteFactory {
  static Result<std::unique_ptr<Store>> Open(const std::string& dir, const Clock& clock,
                                             Random& random) {
    return OpenSqliteStore(dir + "/causeloop.db", StoreOptions{}, clock, random);
  }
};

template <typename T>
Result<T> Wait(const std::function<void(Callback<T>)>& call) {
  std::promise<Result<T>> p;
  call([&](Result<T> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

model::IssueRecord Rec(std::string source, std::string ext, std::string title) {
  model::IssueRecord r;
  r.source = std::move(source);
  r.external_id = std::move(ext);
  r.title = std::move(title);
  return r;
}

template <typename Factory>
class StoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("causeloop-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reopen();
    ws_ = MakeWorkspace();
    other_ws_ = MakeWorkspace();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto s = Factory::Open(dir_.string(), clock_, random_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  std::string MakeWorkspace() {
    model::Organization org{NewId("org_", clock_.Now(), random_), "o", clock_.Now()};
    model::Workspace ws{NewId("ws_", clock_.Now(), random_), org.id, "w", clock_.Now()};
    EXPECT_TRUE(store_->CreateOrganization(org, ws));
    return ws.id;
  }
  std::vector<UpsertOutcome> Ingest(const std::string& ws, std::vector<model::IssueRecord> recs) {
    IngestJob job{NewId("ing_job_", clock_.Now(), random_),
                  ws,
                  "completed",
                  static_cast<long long>(recs.size()),
                  0,
                  clock_.Now(),
                  {}};
    auto r = Wait<std::vector<UpsertOutcome>>(
        [&](auto cb) { store_->Ingest(ws, std::move(recs), job, cb); });
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : std::vector<UpsertOutcome>{};
  }

  static inline int counter_ = 0;
  fs::path dir_;
  FakeClock clock_{FromUnixMillis(1'700'000'000'000)};
  SeededRandom random_{42};
  std::unique_ptr<Store> store_;
  std::string ws_, other_ws_;
};

using Backends = ::testing::Types<SqliteFactory>;
TYPED_TEST_SUITE(StoreConformanceTest, Backends);

TYPED_TEST(StoreConformanceTest, IsReadyAfterOpen) { EXPECT_TRUE(this->store_->Ready()); }

TYPED_TEST(StoreConformanceTest, ReadsSeeEveryCommittedWrite) {
  // Every read connection is used once so that a stale snapshot anywhere would show.
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(*this->store_->HasOrganizations());
    EXPECT_TRUE(this->store_->GetWorkspace(this->ws_));
  }
  std::string ws = this->MakeWorkspace();
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(this->store_->GetWorkspace(ws)) << i;
}

TYPED_TEST(StoreConformanceTest, ResentKeyUpdatesOneIssueAndCountsOccurrences) {
  auto first = this->Ingest(this->ws_, {Rec("jira", "K-1", "Disk full")});
  this->clock_.Advance(Millis(5000));
  auto r = Rec("jira", "K-1", "Disk full on db-7");
  r.severity = model::Severity::kP1;
  auto second = this->Ingest(this->ws_, {r});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_FALSE(first[0].deduplicated);
  EXPECT_TRUE(second[0].deduplicated);
  EXPECT_EQ(first[0].issue_id, second[0].issue_id);
  auto issue = this->store_->GetIssue(this->ws_, first[0].issue_id);
  ASSERT_TRUE(issue);
  EXPECT_EQ(issue->occurrences, 2);
  EXPECT_EQ(issue->title, "Disk full on db-7");
  EXPECT_EQ(issue->severity, model::Severity::kP1);
  EXPECT_EQ(issue->last_seen_at - issue->first_seen_at, Millis(5000));
}

TYPED_TEST(StoreConformanceTest, SameKeyInOtherSourceOrWorkspaceIsAnotherIssue) {
  auto a = this->Ingest(this->ws_, {Rec("jira", "K-1", "x"), Rec("github", "K-1", "x")});
  auto b = this->Ingest(this->other_ws_, {Rec("jira", "K-1", "x")});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_NE(a[0].issue_id, a[1].issue_id);
  EXPECT_NE(a[0].issue_id, b[0].issue_id);
  EXPECT_FALSE(b[0].deduplicated);
}

TYPED_TEST(StoreConformanceTest, RepeatedKeyWithinOneBatchDedupsAgainstTheEarlierRecord) {
  auto out = this->Ingest(this->ws_, {Rec("jira", "K-9", "a"), Rec("jira", "K-9", "b")});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].issue_id, out[1].issue_id);
  EXPECT_TRUE(out[1].deduplicated);
  EXPECT_EQ(this->store_->GetIssue(this->ws_, out[0].issue_id)->occurrences, 2);
}

TYPED_TEST(StoreConformanceTest, OtherWorkspacesObjectsAreNotFound) {
  auto a = this->Ingest(this->ws_, {Rec("jira", "K-1", "x")});
  auto got = this->store_->GetIssue(this->other_ws_, a[0].issue_id);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  auto patched = Wait<model::Issue>([&](auto cb) {
    this->store_->PatchIssue(this->other_ws_, a[0].issue_id, IssuePatch{.assignee = "eve"}, cb);
  });
  ASSERT_FALSE(patched);
  EXPECT_EQ(patched.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->ListIssues(this->other_ws_, IssueQuery{})->total, 0);
}

TYPED_TEST(StoreConformanceTest, EventsAreGapFreePerWorkspaceAndInOrder) {
  this->Ingest(this->ws_, {Rec("jira", "1", "a"), Rec("jira", "2", "b")});
  this->Ingest(this->other_ws_, {Rec("jira", "1", "a")});
  this->Ingest(this->ws_, {Rec("jira", "1", "a again")});
  auto events = this->store_->ListEvents(this->ws_, 0, 100);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].sequence, (long long)i + 1);
  EXPECT_EQ((*events)[0].type, "issue.created");
  EXPECT_EQ((*events)[2].type, "issue.updated");
  EXPECT_EQ(this->store_->ListEvents(this->other_ws_, 0, 100)->size(), 1u);
  EXPECT_EQ(this->store_->ListEvents(this->ws_, 2, 100)->size(), 1u);
  EXPECT_EQ(*this->store_->LastSequence(this->ws_), 3);
}

TYPED_TEST(StoreConformanceTest, FailedWriteLeavesNoEventAndNoSequenceGap) {
  this->Ingest(this->ws_, {Rec("jira", "1", "a")});
  // A manual create of an existing key fails inside the transaction…
  auto conflict = Wait<model::Issue>(
      [&](auto cb) { this->store_->CreateIssue(this->ws_, Rec("jira", "1", "dup"), cb); });
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict);
  ASSERT_FALSE(conflict.error().details.empty());
  EXPECT_EQ(conflict.error().details[0].first, "issue_id");
  // …and the next event still gets the next number.
  this->Ingest(this->ws_, {Rec("jira", "2", "b")});
  auto events = this->store_->ListEvents(this->ws_, 0, 100);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].sequence, 2);
}

TYPED_TEST(StoreConformanceTest, AFailingWriteInAGroupLeavesTheOthersCommitted) {
  this->Ingest(this->ws_, {Rec("jira", "1", "a")});
  // Queue several writes at once so that they share a group transaction, one of them failing.
  std::vector<std::future<bool>> results;
  std::vector<std::shared_ptr<std::promise<bool>>> promises;
  for (int i = 0; i < 6; ++i) {
    auto p = std::make_shared<std::promise<bool>>();
    results.push_back(p->get_future());
    auto rec = i == 3 ? Rec("jira", "1", "dup") : Rec("jira", "n" + std::to_string(i), "x");
    this->store_->CreateIssue(this->ws_, rec,
                              [p](Result<model::Issue> r) { p->set_value(r.has_value()); });
  }
  for (int i = 0; i < 6; ++i) EXPECT_EQ(results[i].get(), i != 3) << i;
  auto events = this->store_->ListEvents(this->ws_, 0, 100);
  ASSERT_EQ(events->size(), 6u);
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].sequence, (long long)i + 1);
  EXPECT_EQ(this->store_->ListIssues(this->ws_, IssueQuery{})->total, 6);
}

TYPED_TEST(StoreConformanceTest, SequencesContinueAfterReopen) {
  this->Ingest(this->ws_, {Rec("jira", "1", "a")});
  this->Reopen();
  this->Ingest(this->ws_, {Rec("jira", "2", "b")});
  auto events = this->store_->ListEvents(this->ws_, 0, 100);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].sequence, 2);
}

TYPED_TEST(StoreConformanceTest, ConcurrentWritersAllCommitWithDistinctSequences) {
  constexpr int kThreads = 8, kPer = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        this->Ingest(this->ws_, {Rec("datadog", std::to_string(t) + "-" + std::to_string(i), "x")});
      }
    });
  }
  for (auto& th : threads) th.join();
  auto events = this->store_->ListEvents(this->ws_, 0, 1000);
  ASSERT_EQ(events->size(), size_t{kThreads * kPer});
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].sequence, (long long)i + 1);
  EXPECT_EQ(this->store_->ListIssues(this->ws_, IssueQuery{})->total, kThreads * kPer);
}

TYPED_TEST(StoreConformanceTest, KeysetPagesCoverEveryIssueOnce) {
  std::vector<model::IssueRecord> recs;
  for (int i = 0; i < 23; ++i) recs.push_back(Rec("jira", "k" + std::to_string(i), "t"));
  this->Ingest(this->ws_, recs);
  std::set<std::string> seen;
  IssueQuery q;
  q.limit = 5;
  for (int page = 0; page < 10; ++page) {
    auto p = this->store_->ListIssues(this->ws_, q);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->total, 23);
    for (const auto& i : p->items) EXPECT_TRUE(seen.insert(i.id).second) << "duplicate " << i.id;
    if (!p->has_more) break;
    q.after_value = std::to_string(ToUnixMillis(p->items.back().created_at));
    q.after_id = p->items.back().id;
  }
  EXPECT_EQ(seen.size(), 23u);
}

TYPED_TEST(StoreConformanceTest, FiltersAndFullTextSearch) {
  auto a = Rec("jira", "1", "Disk full on db-7");
  a.service = "db";
  a.body = "the volume /var/lib/postgres is at 100%";
  auto b = Rec("github", "2", "Checkout fails");
  b.service = "web";
  b.severity = model::Severity::kP1;
  this->Ingest(this->ws_, {a, b});
  IssueQuery q;
  q.q = "postgres volume";
  auto p = this->store_->ListIssues(this->ws_, q);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->items.size(), 1u);
  EXPECT_EQ(p->items[0].external_id, "1");
  q = IssueQuery{};
  q.severity = model::Severity::kP1;
  EXPECT_EQ(this->store_->ListIssues(this->ws_, q)->items.at(0).external_id, "2");
  q = IssueQuery{};
  q.service = "db";
  EXPECT_EQ(this->store_->ListIssues(this->ws_, q)->total, 1);
  q = IssueQuery{};
  q.q = "\"unbalanced AND (";  // never FTS syntax
  EXPECT_TRUE(this->store_->ListIssues(this->ws_, q));
}

TYPED_TEST(StoreConformanceTest, ResolveRecordsTheFixAndEmitsResolved) {
  auto a = this->Ingest(this->ws_, {Rec("jira", "1", "x")});
  auto r = Wait<model::Issue>([&](auto cb) {
    this->store_->ResolveIssue(this->ws_, a[0].issue_id,
                               model::Resolution{.summary = "s", .fix = "raised the limit"}, cb);
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, model::IssueStatus::kResolved);
  ASSERT_TRUE(r->resolution);
  EXPECT_EQ(r->resolution->fix, "raised the limit");
  EXPECT_TRUE(r->resolved_at);
  auto events = this->store_->ListEvents(this->ws_, 0, 10);
  EXPECT_EQ(events->back().type, "issue.resolved");
}

TYPED_TEST(StoreConformanceTest, BulkUpdateReportsUnknownIds) {
  auto a = this->Ingest(this->ws_, {Rec("jira", "1", "x"), Rec("jira", "2", "y")});
  auto out = Wait<BulkOutcome>([&](auto cb) {
    this->store_->BulkUpdateIssues(this->ws_, {a[0].issue_id, a[1].issue_id, "iss_nope"},
                                   IssuePatch{.assignee = "ann"}, cb);
  });
  ASSERT_TRUE(out);
  EXPECT_EQ(out->updated.size(), 2u);
  EXPECT_EQ(out->not_found, std::vector<std::string>{"iss_nope"});
  EXPECT_EQ(this->store_->GetIssue(this->ws_, a[1].issue_id)->assignee, "ann");
}

TYPED_TEST(StoreConformanceTest, TokensAreFoundByHashUntilRevokedAndRotationKeepsGrace) {
  model::ApiToken t;
  t.id = "tok_1";
  t.workspace_id = this->ws_;
  t.name = "ci";
  t.scopes = {"issues:read", "ingest:write"};
  t.hash_hex = "h1";
  t.prefix = "clp_x";
  t.created_at = this->clock_.Now();
  ASSERT_TRUE(this->store_->InsertToken(t));
  auto found = this->store_->FindTokenByHash("h1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->scopes, t.scopes);
  auto rotated = this->store_->RotateToken(this->ws_, "tok_1", "h2", "clp_y",
                                           this->clock_.Now() + std::chrono::seconds(60));
  ASSERT_TRUE(rotated);
  EXPECT_TRUE(*this->store_->FindTokenByHash("h2"));
  EXPECT_TRUE(*this->store_->FindTokenByHash("h1"));  // grace
  this->clock_.Advance(std::chrono::seconds(61));
  EXPECT_FALSE(*this->store_->FindTokenByHash("h1"));
  EXPECT_FALSE(this->store_->RotateToken(this->other_ws_, "tok_1", "h3", "p", std::nullopt));
  ASSERT_TRUE(this->store_->RevokeToken(this->ws_, "tok_1", this->clock_.Now()));
  auto revoked = this->store_->FindTokenByHash("h2");
  ASSERT_TRUE(revoked && *revoked);
  EXPECT_TRUE((*revoked)->revoked_at);
}

TYPED_TEST(StoreConformanceTest, IdempotentResponsesAreFoundWithinTheirWindow) {
  std::promise<Status> saved;
  this->store_->SaveIdempotent(this->ws_, "k", "POST", "/v1/x",
                               StoredResponse{"hash", 202, "{\"a\":1}", "application/json"},
                               [&](Status s) { saved.set_value(s); });
  ASSERT_TRUE(saved.get_future().get());
  auto hit = this->store_->FindIdempotent(this->ws_, "k", "POST", "/v1/x",
                                          this->clock_.Now() - std::chrono::hours(24));
  ASSERT_TRUE(hit && *hit);
  EXPECT_EQ((*hit)->body, "{\"a\":1}");
  EXPECT_FALSE(*this->store_->FindIdempotent(this->other_ws_, "k", "POST", "/v1/x",
                                             this->clock_.Now() - std::chrono::hours(24)));
  EXPECT_FALSE(*this->store_->FindIdempotent(this->ws_, "k", "POST", "/v1/x",
                                             this->clock_.Now() + std::chrono::hours(1)));
}

TYPED_TEST(StoreConformanceTest, IngestJobIsRecorded) {
  IngestJob job{"ing_job_1", this->ws_, "partial", 1, 2, this->clock_.Now(), {}};
  auto r = Wait<std::vector<UpsertOutcome>>(
      [&](auto cb) { this->store_->Ingest(this->ws_, {Rec("jira", "1", "x")}, job, cb); });
  ASSERT_TRUE(r);
  auto got = this->store_->GetIngestJob(this->ws_, "ing_job_1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, "partial");
  EXPECT_EQ(got->rejected, 2);
  EXPECT_FALSE(this->store_->GetIngestJob(this->other_ws_, "ing_job_1"));
}

TYPED_TEST(StoreConformanceTest, CloseDrainsQueuedWrites) {
  std::atomic<int> committed{0};
  for (int i = 0; i < 50; ++i) {
    IngestJob job{NewId("ing_job_", this->clock_.Now(), this->random_),
                  this->ws_,
                  "completed",
                  1,
                  0,
                  this->clock_.Now(),
                  {}};
    this->store_->Ingest(this->ws_, {Rec("jira", std::to_string(i), "x")}, job,
                         [&](auto r) { committed += r ? 1 : 0; });
  }
  this->store_->Close();
  EXPECT_EQ(committed.load(), 50);
  this->Reopen();
  EXPECT_EQ(this->store_->ListIssues(this->ws_, IssueQuery{})->total, 50);
}

}  // namespace
}  // namespace causeloop::store

// The one conformance suite every Store backend must pass. Instantiated per backend with
// typed tests; PostgreSQL joins by adding a factory to the type list.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
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

// A stand-in for the clustering engine: one cluster per exact title, its state the title.
class TitleAssigner final : public PatternAssigner {
 public:
  std::shared_ptr<const Prepared> Prepare(const model::IssueRecord& /*record*/) override {
    ++prepared;
    return nullptr;
  }
  Result<PatternChoice> Assign(const std::string& ws, const model::IssueRecord& r,
                               const Prepared* /*prepared*/) override {
    if (on_assign) on_assign(r.title);  // on the writer thread, inside its transaction
    std::lock_guard lock(mu_);
    ++assigned;
    PatternChoice c;
    c.fingerprint = Fingerprint(r.title);
    if (auto it = overrides[ws].find(c.fingerprint); it != overrides[ws].end()) {
      c.pattern_id = Live(ws, it->second);
      c.manual = true;
      return c;
    }
    auto& clusters = clusters_[ws];
    auto it = clusters.find(r.title);
    if (it == clusters.end()) {
      long long id = static_cast<long long>(clusters.size()) + 1;
      it = clusters
               .emplace(r.title, std::pair{id, "pat_" + ws.substr(3, 6) + "_" + std::to_string(id)})
               .first;
    }
    c.cluster = it->second.first;
    c.cluster_state = "state:" + r.title;
    c.template_text = "<*> " + r.title;
    c.pattern_id = Live(ws, it->second.second);
    return c;
  }
  std::string Fingerprint(const model::Issue& issue) override { return Fingerprint(issue.title); }
  void OnOverride(const std::string& ws, const std::string& fp, const std::string& p) override {
    std::lock_guard lock(mu_);
    overrides[ws][fp] = p;
  }
  void OnMerge(const std::string& ws, const std::string& from, const std::string& into) override {
    std::lock_guard lock(mu_);
    merged[ws][from] = into;
  }
  void Reload(const std::string& /*ws*/) override { ++reloads; }

  static std::string Fingerprint(const std::string& title) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016zx", std::hash<std::string>{}(title));
    return buf;
  }
  std::string Live(const std::string& ws, std::string id) {
    while (merged[ws].count(id)) id = merged[ws][id];
    return id;
  }

  std::mutex mu_;
  std::map<std::string, std::map<std::string, std::pair<long long, std::string>>> clusters_;
  std::map<std::string, std::map<std::string, std::string>> overrides, merged;
  std::atomic<int> assigned{0}, reloads{0}, prepared{0};
  std::function<void(const std::string& title)> on_assign;  // set before the first write
};

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
  // Returns once every committed issue is searchable.
  void SettleSearch() {
    std::promise<void> settled;
    store_->SettleSearchIndex([&] { settled.set_value(); });
    settled.get_future().get();
  }
  // Returns once every committed issue is counted in its pattern's row.
  void SettleCounters() {
    std::promise<void> settled;
    store_->SettlePatternCounters([&] { settled.set_value(); });
    settled.get_future().get();
  }

  // The job row of an ingest of `records` records into `ws`, all accepted.
  IngestJob CompletedJob(const std::string& ws, long long records) {
    return IngestJob{
        NewId("ing_job_", clock_.Now(), random_), ws, "completed", records, 0, clock_.Now(), {}};
  }
  std::vector<UpsertOutcome> Ingest(const std::string& ws, std::vector<model::IssueRecord> recs) {
    IngestJob job = CompletedJob(ws, static_cast<long long>(recs.size()));
    auto r = Wait<std::vector<UpsertOutcome>>(
        [&](auto cb) { store_->Ingest(ws, std::move(recs), job, cb); });
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : std::vector<UpsertOutcome>{};
  }
  // An inbound delivery: an ingest carrying the receiver's delivery id.
  Result<std::vector<UpsertOutcome>> Deliver(const std::string& ws, const std::string& receiver,
                                             const std::string& delivery_id,
                                             std::vector<model::IssueRecord> recs) {
    IngestJob job = CompletedJob(ws, static_cast<long long>(recs.size()));
    job.delivery_receiver = receiver;
    job.delivery_id = delivery_id;
    return Wait<std::vector<UpsertOutcome>>(
        [&](auto cb) { store_->Ingest(ws, std::move(recs), job, cb); });
  }
  Status Record(const std::string& ws, const std::string& receiver, SystemTime at, bool ok,
                const std::string& reason = "") {
    std::promise<Status> p;
    store_->RecordReceiverDelivery(ws, receiver, at, ok, reason,
                                   [&](Status s) { p.set_value(std::move(s)); });
    return p.get_future().get();
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

TYPED_TEST(StoreConformanceTest, CommitObserversSeeEveryCommittedEventOnceInOrder) {
  struct Recorder : CommitObserver {
    std::mutex mu;
    std::vector<model::Event> seen;
    void OnCommitted(const std::vector<model::Event>& events) override {
      std::lock_guard lock(mu);
      seen.insert(seen.end(), events.begin(), events.end());
    }
  } recorder;
  this->store_->AddCommitObserver(&recorder);
  this->Ingest(this->ws_, {Rec("jira", "1", "a"), Rec("jira", "2", "b")});
  // A failed write (a duplicate manual create) is not observed.
  auto conflict = Wait<model::Issue>(
      [&](auto cb) { this->store_->CreateIssue(this->ws_, Rec("jira", "1", "dup"), cb); });
  ASSERT_FALSE(conflict);
  this->Ingest(this->ws_, {Rec("jira", "3", "c")});
  auto logged = this->store_->ListEvents(this->ws_, 0, 100);
  ASSERT_TRUE(logged);
  this->store_->Close();  // the observer must not be called after this
  std::lock_guard lock(recorder.mu);
  ASSERT_EQ(recorder.seen.size(), logged->size());
  for (size_t i = 0; i < logged->size(); ++i) {
    EXPECT_EQ(recorder.seen[i].id, (*logged)[i].id);
    EXPECT_EQ(recorder.seen[i].sequence, (*logged)[i].sequence);
    EXPECT_EQ(recorder.seen[i].type, (*logged)[i].type);
    EXPECT_EQ(recorder.seen[i].data_json, (*logged)[i].data_json);
    EXPECT_EQ(recorder.seen[i].timestamp, (*logged)[i].timestamp);
    EXPECT_EQ(recorder.seen[i].workspace_id, this->ws_);
  }
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

// Every sort, both directions, pages of four: many ties (one clock tick per ingest, three
// severities), another workspace's issues stored in between, and re-sent keys that move
// their issues' last_seen_at. Each list holds the workspace's issues once each, in order.
TYPED_TEST(StoreConformanceTest, KeysetPagesCoverEveryIssueOnceInEverySortAndDirection) {
  const std::vector<model::Severity> severities = {model::Severity::kP1, model::Severity::kP2,
                                                   model::Severity::kP4};
  int n = 0;
  for (int round = 0; round < 4; ++round) {
    std::vector<model::IssueRecord> mine, theirs;
    for (int i = 0; i < 6; ++i, ++n) {
      mine.push_back(Rec("jira", "k" + std::to_string(n), "t"));
      mine.back().severity = severities[n % 3];
      theirs.push_back(Rec("jira", "k" + std::to_string(n), "t"));
    }
    this->Ingest(this->ws_, mine);
    this->Ingest(this->other_ws_, theirs);
    this->clock_.Advance(Millis(1000));
  }
  this->Ingest(this->ws_, {Rec("jira", "k1", "t"), Rec("jira", "k13", "t")});  // re-sent
  const auto value = [](IssueSort sort, const model::Issue& i) -> long long {
    switch (sort) {
      case IssueSort::kCreatedAt:
        return ToUnixMillis(i.created_at);
      case IssueSort::kLastSeenAt:
        return ToUnixMillis(i.last_seen_at);
      default:
        return static_cast<long long>(i.severity);
    }
  };
  for (IssueSort sort : {IssueSort::kCreatedAt, IssueSort::kLastSeenAt, IssueSort::kSeverity}) {
    for (bool descending : {true, false}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(sort)) + (descending ? " desc" : " asc"));
      std::set<std::string> seen;
      IssueQuery q;
      q.sort = sort;
      q.descending = descending;
      q.limit = 4;
      std::optional<long long> last;
      for (int page = 0; page < 20; ++page) {
        auto p = this->store_->ListIssues(this->ws_, q);
        ASSERT_TRUE(p) << p.error().message;
        EXPECT_EQ(p->total, n);
        for (const auto& i : p->items) {
          EXPECT_EQ(i.workspace_id, this->ws_);
          EXPECT_TRUE(seen.insert(i.id).second) << "duplicate " << i.id;
          if (last) {
            EXPECT_TRUE(descending ? value(sort, i) <= *last : value(sort, i) >= *last);
          }
          last = value(sort, i);
        }
        if (!p->has_more) break;
        q.after_value = std::to_string(value(sort, p->items.back()));
        q.after_id = p->items.back().id;
      }
      EXPECT_EQ(seen.size(), static_cast<size_t>(n));
    }
  }
}

TYPED_TEST(StoreConformanceTest, FiltersAndFullTextSearch) {
  auto a = Rec("jira", "1", "Disk full on db-7");
  a.service = "db";
  a.body = "the volume /var/lib/postgres is at 100%";
  auto b = Rec("github", "2", "Checkout fails");
  b.service = "web";
  b.severity = model::Severity::kP1;
  this->Ingest(this->ws_, {a, b});
  this->SettleSearch();
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

// Jobs answer for 7 days (docs/api-choices.md); later ingest calls forget older ones.
TYPED_TEST(StoreConformanceTest, IngestJobsAreForgottenAfterSevenDays) {
  auto ingest = [this](const std::string& key) {
    IngestJob job = this->CompletedJob(this->ws_, 1);
    auto r = Wait<std::vector<UpsertOutcome>>(
        [&](auto cb) { this->store_->Ingest(this->ws_, {Rec("jira", key, "x")}, job, cb); });
    EXPECT_TRUE(r);
    return job.id;
  };
  std::string old_job = ingest("1");
  this->clock_.Advance(std::chrono::hours(6 * 24));
  std::string recent_job = ingest("2");
  ASSERT_TRUE(this->store_->GetIngestJob(this->ws_, old_job)) << "6 days old";
  this->clock_.Advance(std::chrono::hours(24) + Millis(1));
  std::string new_job = ingest("3");
  EXPECT_FALSE(this->store_->GetIngestJob(this->ws_, old_job)) << "7 days and 1 ms old";
  EXPECT_TRUE(this->store_->GetIngestJob(this->ws_, recent_job));
  EXPECT_TRUE(this->store_->GetIngestJob(this->ws_, new_job));
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

// --- Patterns ------------------------------------------------------------------------------

std::vector<model::Event> EventsOfType(Store& store, const std::string& ws, const char* type) {
  std::vector<model::Event> out;
  auto events = store.ListEvents(ws, 0, 10000);
  EXPECT_TRUE(events);
  if (!events) return out;
  for (auto& e : *events) {
    if (e.type == type) out.push_back(e);
  }
  return out;
}

TYPED_TEST(StoreConformanceTest, NewIssuesJoinPatternsWithCountsStatusAndEvents) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  auto out = this->Ingest(this->ws_, {Rec("jira", "1", "disk full"), Rec("jira", "2", "disk full"),
                                      Rec("jira", "3", "oom")});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FALSE(out[0].pattern_id.empty());
  EXPECT_EQ(out[0].pattern_id, out[1].pattern_id);
  EXPECT_NE(out[0].pattern_id, out[2].pattern_id);
  EXPECT_EQ(this->store_->GetIssue(this->ws_, out[0].issue_id)->pattern_id, out[0].pattern_id);
  auto disk = this->store_->GetPattern(this->ws_, out[0].pattern_id);
  ASSERT_TRUE(disk) << disk.error().message;
  EXPECT_EQ(disk->issue_count, 2);
  EXPECT_EQ(disk->status, model::PatternStatus::kEmerging);
  EXPECT_EQ(disk->title, "disk full");
  EXPECT_EQ(disk->template_text, "<*> disk full");
  EXPECT_EQ(disk->engine_cluster, 1);
  EXPECT_EQ(EventsOfType(*this->store_, this->ws_, "pattern.detected").size(), 2u);

  this->clock_.Advance(Millis(60'000));
  auto third = this->Ingest(this->ws_, {Rec("datadog", "4", "disk full")});
  disk = this->store_->GetPattern(this->ws_, out[0].pattern_id);
  EXPECT_EQ(disk->issue_count, 3);
  EXPECT_EQ(disk->status, model::PatternStatus::kActive);
  EXPECT_EQ(disk->last_seen_at - disk->first_seen_at, Millis(60'000));
  auto updated = EventsOfType(*this->store_, this->ws_, "pattern.updated");
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_NE(updated[0].data_json.find(third[0].issue_id), std::string::npos);
  // Other workspaces see none of it.
  EXPECT_FALSE(this->store_->GetPattern(this->other_ws_, out[0].pattern_id));
  EXPECT_EQ(this->store_->ListPatterns(this->other_ws_, PatternQuery{})->total, 0);
}

// Enough issues that the store lists some batches of them under their patterns while
// others still wait (SQLite: MoveMembers, every 8192 rows): every issue is found by its
// pattern, in pages, whichever state it is in.
TYPED_TEST(StoreConformanceTest, ThousandsOfNewIssuesAreAllFoundByTheirPattern) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  const char* titles[] = {"disk full", "oom", "tls expired"};
  std::map<std::string, long long> expected;  // pattern id -> issues
  std::map<std::string, std::string> some_issue;
  int key = 0;
  for (int request = 0; request < 5; ++request) {
    std::vector<model::IssueRecord> recs;
    // Uneven shares per pattern.
    for (int i = 0; i < 2500; ++i) {
      recs.push_back(Rec("jira", std::to_string(key++), titles[i % 7 % 3]));
    }
    auto out = this->Ingest(this->ws_, std::move(recs));
    ASSERT_EQ(out.size(), 2500u);
    for (const auto& o : out) {
      ++expected[o.pattern_id];
      some_issue[o.pattern_id] = o.issue_id;
    }
    // Read between requests, with the writer's lists in whatever state they are.
    for (const auto& [pattern, n] : expected) {
      IssueQuery q;
      q.pattern_id = pattern;
      q.limit = 1;
      auto page = this->store_->ListIssues(this->ws_, q);
      ASSERT_TRUE(page) << page.error().message;
      EXPECT_EQ(page->total, n) << "after request " << request;
    }
  }
  ASSERT_EQ(expected.size(), 3u);
  for (const auto& [pattern, n] : expected) {
    IssueQuery q;
    q.pattern_id = pattern;
    q.limit = 200;
    long long seen = 0;
    std::set<std::string> ids;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = this->store_->ListIssues(this->ws_, q);
      ASSERT_TRUE(page) << page.error().message;
      for (const auto& i : page->items) {
        EXPECT_EQ(i.pattern_id, pattern);
        ids.insert(i.id);
        ++seen;
      }
      if (!page->has_more) break;
      q.after_value = std::to_string(ToUnixMillis(page->items.back().created_at));
      q.after_id = page->items.back().id;
    }
    EXPECT_EQ(seen, n);
    EXPECT_EQ(static_cast<long long>(ids.size()), n);
    EXPECT_EQ(ids.count(some_issue[pattern]), 1u);
  }
}

TYPED_TEST(StoreConformanceTest, ARepeatedIssueMovesLastSeenButNotTheCount) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  auto first = this->Ingest(this->ws_, {Rec("jira", "1", "disk full")});
  this->clock_.Advance(Millis(5000));
  this->Ingest(this->ws_, {Rec("jira", "1", "disk full")});
  auto p = this->store_->GetPattern(this->ws_, first[0].pattern_id);
  EXPECT_EQ(p->issue_count, 1);
  EXPECT_EQ(p->last_seen_at - p->first_seen_at, Millis(5000));
  EXPECT_EQ(engine.assigned.load(), 1) << "a repeat keeps its issue's pattern";
}

TYPED_TEST(StoreConformanceTest, StatesAndOverridesLoadBackInClusterOrder) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  auto out = this->Ingest(this->ws_, {Rec("jira", "1", "b"), Rec("jira", "2", "a")});
  this->Reopen();
  auto states = this->store_->LoadPatternStates(this->ws_);
  ASSERT_TRUE(states);
  ASSERT_EQ(states->size(), 2u);
  EXPECT_EQ((*states)[0].cluster, 1);
  EXPECT_EQ((*states)[0].state, "state:b");
  EXPECT_EQ((*states)[1].pattern_id, out[1].pattern_id);
  EXPECT_TRUE(this->store_->LoadPatternOverrides(this->ws_)->empty());
  EXPECT_TRUE(this->store_->LoadPatternStates(this->other_ws_)->empty());
}

TYPED_TEST(StoreConformanceTest, LinkUnlinkAndMergeMoveIssuesAndTellTheEngine) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  auto out = this->Ingest(this->ws_, {Rec("jira", "1", "disk"), Rec("jira", "2", "queue"),
                                      Rec("jira", "3", "tls"), Rec("jira", "4", "tls")});
  const std::string disk = out[0].pattern_id, queue = out[1].pattern_id, tls = out[2].pattern_id;

  auto linked = Wait<model::Issue>(
      [&](auto cb) { this->store_->LinkIssue(this->ws_, out[0].issue_id, queue, cb); });
  ASSERT_TRUE(linked) << linked.error().message;
  EXPECT_EQ(linked->pattern_id, queue);
  EXPECT_EQ(this->store_->GetPattern(this->ws_, queue)->issue_count, 2);
  EXPECT_EQ(this->store_->GetPattern(this->ws_, disk)->issue_count, 0);
  auto overrides = this->store_->LoadPatternOverrides(this->ws_);
  EXPECT_EQ((*overrides)[TitleAssigner::Fingerprint("disk")], queue);
  EXPECT_EQ(engine.overrides[this->ws_][TitleAssigner::Fingerprint("disk")], queue);
  // A later "disk" issue follows the override.
  auto later = this->Ingest(this->ws_, {Rec("jira", "5", "disk")});
  EXPECT_EQ(later[0].pattern_id, queue);

  auto unlinked = Wait<model::Issue>(
      [&](auto cb) { this->store_->LinkIssue(this->ws_, later[0].issue_id, "", cb); });
  ASSERT_TRUE(unlinked);
  EXPECT_NE(unlinked->pattern_id, queue);
  auto own = this->store_->GetPattern(this->ws_, unlinked->pattern_id);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->issue_count, 1);
  EXPECT_EQ(own->engine_cluster, 0);

  auto merged = Wait<model::Pattern>(
      [&](auto cb) { this->store_->MergePatterns(this->ws_, tls, queue, cb); });
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->id, queue);
  EXPECT_EQ(merged->issue_count, 4);  // queue + linked disk + two tls
  EXPECT_EQ(this->store_->GetIssue(this->ws_, out[3].issue_id)->pattern_id, queue);
  EXPECT_EQ(this->store_->GetPattern(this->ws_, tls)->merged_into, queue);
  EXPECT_EQ(engine.merged[this->ws_][tls], queue);
  PatternQuery q;
  auto visible = this->store_->ListPatterns(this->ws_, q);
  for (const auto& p : visible->items) EXPECT_NE(p.id, tls);
  q.include_merged = true;
  EXPECT_EQ(this->store_->ListPatterns(this->ws_, q)->total, visible->total + 1);
  // Linking to a merged pattern lands in the one it was merged into.
  auto relinked = Wait<model::Issue>(
      [&](auto cb) { this->store_->LinkIssue(this->ws_, unlinked->id, tls, cb); });
  ASSERT_TRUE(relinked);
  EXPECT_EQ(relinked->pattern_id, queue);

  auto self = Wait<model::Pattern>(
      [&](auto cb) { this->store_->MergePatterns(this->ws_, queue, queue, cb); });
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().code, ErrorCode::kValidation);
  auto again =
      Wait<model::Pattern>([&](auto cb) { this->store_->MergePatterns(this->ws_, tls, disk, cb); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kValidation);
  auto foreign = Wait<model::Pattern>(
      [&](auto cb) { this->store_->MergePatterns(this->other_ws_, disk, queue, cb); });
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
  auto missing = Wait<model::Issue>(
      [&](auto cb) { this->store_->LinkIssue(this->ws_, out[1].issue_id, "pat_nope", cb); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(StoreConformanceTest, PatternListFiltersSortsAndPages) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  std::vector<model::IssueRecord> recs;
  for (int i = 0; i < 7; ++i) {
    for (int k = 0; k <= i; ++k) {
      auto r = Rec(i % 2 ? "datadog" : "jira", std::to_string(i) + "-" + std::to_string(k),
                   "failure " + std::to_string(i));
      r.service = i < 3 ? "api" : "db";
      recs.push_back(r);
    }
  }
  this->Ingest(this->ws_, recs);
  PatternQuery q;
  q.sort = PatternSort::kIssueCount;
  q.limit = 3;
  std::vector<long long> counts;
  for (int page = 0; page < 5; ++page) {
    auto p = this->store_->ListPatterns(this->ws_, q);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->total, 7);
    for (const auto& item : p->items) counts.push_back(item.issue_count);
    if (!p->has_more) break;
    q.after_value = std::to_string(p->items.back().issue_count);
    q.after_id = p->items.back().id;
  }
  EXPECT_EQ(counts, (std::vector<long long>{7, 6, 5, 4, 3, 2, 1}));
  PatternQuery f;
  f.service = "api";
  EXPECT_EQ(this->store_->ListPatterns(this->ws_, f)->total, 3);
  f.source = "datadog";
  EXPECT_EQ(this->store_->ListPatterns(this->ws_, f)->total, 1);
  PatternQuery s;
  s.status = model::PatternStatus::kEmerging;
  EXPECT_EQ(this->store_->ListPatterns(this->ws_, s)->total, 2);
  PatternQuery text;
  text.q = "failure 6";
  EXPECT_EQ(this->store_->ListPatterns(this->ws_, text)->total, 1);
  text.q = "100%";
  EXPECT_EQ(this->store_->ListPatterns(this->ws_, text)->total, 0) << "LIKE wildcards are literal";
}

TYPED_TEST(StoreConformanceTest, ARolledBackGroupAsksTheEngineToReload) {
  TitleAssigner engine;
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  bool gated = false;  // writer thread only
  engine.on_assign = [&entered, &gated, released](const std::string& title) {
    if (title != "gate" || gated) return;
    gated = true;
    entered.set_value();
    released.wait();
  };
  this->store_->SetPatternAssigner(&engine);
  this->Ingest(this->ws_, {Rec("jira", "1", "a")});
  // The writer is held inside a transaction (the engine waits on "gate") while seven requests
  // queue behind it, so the next group holds all seven: good ones first, then a duplicate,
  // whose failure rolls back a group that already assigned patterns.
  std::promise<bool> gate_done;
  this->store_->Ingest(this->ws_, {Rec("datadog", "g", "gate")}, this->CompletedJob(this->ws_, 1),
                       [&](auto r) { gate_done.set_value(r.has_value()); });
  entered.get_future().wait();
  std::vector<std::future<bool>> results;
  auto good = [](int i) { return i == 0 || i % 2 == 1; };  // g g d g d g d
  for (int i = 0; i < 7; ++i) {
    auto p = std::make_shared<std::promise<bool>>();
    results.push_back(p->get_future());
    auto rec = good(i) ? Rec("jira", "n" + std::to_string(i), "x") : Rec("jira", "1", "dup");
    this->store_->CreateIssue(this->ws_, rec,
                              [p](Result<model::Issue> r) { p->set_value(r.has_value()); });
  }
  release.set_value();
  EXPECT_TRUE(gate_done.get_future().get());
  for (int i = 0; i < 7; ++i) EXPECT_EQ(results[i].get(), good(i)) << i;
  EXPECT_GE(engine.reloads.load(), 1);
  // Every committed issue's pattern exists and counts it (once waiting counters are written).
  this->SettleCounters();
  long long counted = 0;
  auto page = this->store_->ListPatterns(this->ws_, PatternQuery{});
  ASSERT_TRUE(page);
  for (const auto& p : page->items) {
    counted += p.issue_count;
  }
  EXPECT_EQ(counted, 1 + 1 + 4);
}

TYPED_TEST(StoreConformanceTest, ABusyPatternsCountersWaitWhileWritesAreQueued) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  // Forty requests of 500 issues of one pattern, queued behind a large write, need three
  // transactions (at most 8192 records each): the first creates the pattern; the others,
  // busy (more writes queued, or many requests per transaction) and with the row written
  // "just now" (the clock does not move), keep their counters waiting, and one later
  // transaction writes them all at once: when the writer has been idle for a moment, or when
  // a reader settles the counters, whichever comes first.
  std::vector<model::IssueRecord> bulk;
  for (int i = 0; i < 8000; ++i) bulk.push_back(Rec("datadog", "b" + std::to_string(i), "bulk"));
  std::vector<std::vector<model::IssueRecord>> requests(40);
  for (int r = 0; r < 40; ++r) {
    for (int i = 0; i < 500; ++i) {
      requests[r].push_back(Rec("sentry", "x" + std::to_string(r * 500 + i), "x"));
    }
  }
  std::vector<std::future<Result<std::vector<UpsertOutcome>>>> done;
  auto submit = [&](std::vector<model::IssueRecord> recs) {
    auto p = std::make_shared<std::promise<Result<std::vector<UpsertOutcome>>>>();
    done.push_back(p->get_future());
    long long n = static_cast<long long>(recs.size());
    this->store_->Ingest(this->ws_, std::move(recs), this->CompletedJob(this->ws_, n),
                         [p](auto r) { p->set_value(std::move(r)); });
  };
  submit(std::move(bulk));
  for (auto& r : requests) submit(std::move(r));
  std::string pattern_id;
  for (auto& f : done) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message;
    if (r->front().title == "x") pattern_id = r->front().pattern_id;
  }
  this->SettleCounters();
  auto p = this->store_->GetPattern(this->ws_, pattern_id);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->issue_count, 20000);

  // Its events add up to every issue: detected with the first transaction's, then one
  // pattern.updated with all the others.
  long long detected = 0, joined = 0;
  int updates = 0;
  simdjson::dom::parser parser;
  for (long long after = 0;;) {
    auto page = this->store_->ListEvents(this->ws_, after, 1000);
    ASSERT_TRUE(page);
    if (page->empty()) break;
    for (const auto& e : *page) {
      after = e.sequence;
      if (e.type != "pattern.detected" && e.type != "pattern.updated") continue;
      simdjson::dom::element data = parser.parse(e.data_json);
      if (std::string_view(data["pattern"]["id"].get_string().value()) != pattern_id) continue;
      if (e.type == "pattern.detected") {
        detected += data["pattern"]["issue_count"].get_int64().value();
      } else {
        ++updates;
        joined += data["joined"].get_int64().value();
        EXPECT_EQ(data["pattern"]["issue_count"].get_int64().value(), 20000);
      }
    }
  }
  EXPECT_EQ(detected + joined, 20000);
  EXPECT_EQ(updates, 1) << "a pattern.updated per transaction would make 2";
}

TYPED_TEST(StoreConformanceTest, WaitingCountersAreWrittenOnceTheWriterIsIdle) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  // Twenty requests queued behind a large write: the later ones are committed while the
  // writer is busy, so their pattern's counters wait. Nobody settles them here; the writer
  // writes them by itself once nothing more arrives.
  std::vector<std::future<bool>> done;
  auto submit = [&](std::vector<model::IssueRecord> recs) {
    auto p = std::make_shared<std::promise<bool>>();
    done.push_back(p->get_future());
    auto n = static_cast<long long>(recs.size());
    this->store_->Ingest(this->ws_, std::move(recs), this->CompletedJob(this->ws_, n),
                         [p](auto r) { p->set_value(r.has_value()); });
  };
  std::vector<model::IssueRecord> bulk;
  for (int i = 0; i < 8000; ++i) bulk.push_back(Rec("datadog", "b" + std::to_string(i), "bulk"));
  submit(std::move(bulk));
  for (int r = 0; r < 20; ++r) {
    std::vector<model::IssueRecord> recs;
    for (int i = 0; i < 500; ++i) {
      recs.push_back(Rec("sentry", "y" + std::to_string(r * 500 + i), "y"));
    }
    submit(std::move(recs));
  }
  for (auto& f : done) ASSERT_TRUE(f.get());
  auto page = this->store_->ListPatterns(this->ws_, PatternQuery{});
  ASSERT_TRUE(page);
  std::string pattern_id;
  for (const auto& p : page->items) {
    if (p.title == "y") pattern_id = p.id;
  }
  ASSERT_FALSE(pattern_id.empty());
  long long count = 0;
  for (int i = 0; i < 500 && count != 10000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto p = this->store_->GetPattern(this->ws_, pattern_id);
    ASSERT_TRUE(p) << p.error().message;
    count = p->issue_count;
  }
  EXPECT_EQ(count, 10000);
}

TYPED_TEST(StoreConformanceTest, PatternDetailListsServicesSourcesAndADailyHistogram) {
  TitleAssigner engine;
  this->store_->SetPatternAssigner(&engine);
  auto r1 = Rec("jira", "1", "x");
  r1.service = "api";
  auto out = this->Ingest(this->ws_, {r1});
  this->clock_.Advance(Millis(2LL * 86'400'000));
  auto r2 = Rec("sentry", "2", "x");
  r2.service = "web";
  this->Ingest(this->ws_, {r2, Rec("sentry", "3", "x")});
  auto d = this->store_->GetPatternDetail(this->ws_, out[0].pattern_id, 7, this->clock_.Now());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->services, (std::vector<std::string>{"api", "web"}));
  EXPECT_EQ(d->sources, (std::vector<std::string>{"jira", "sentry"}));
  ASSERT_EQ(d->occurrences.size(), 7u);
  EXPECT_EQ(d->occurrences[6].second, 2);
  EXPECT_EQ(d->occurrences[4].second, 1);
  EXPECT_EQ(d->occurrences[5].second, 0);
}

// --- Outbound webhooks ---------------------------------------------------------------

model::WebhookEndpoint Endpoint(const std::string& ws, const std::string& id, SystemTime now) {
  model::WebhookEndpoint e;
  e.id = id;
  e.workspace_id = ws;
  e.url = "https://hooks.example.com/" + id;
  e.event_types = {"issue.created"};
  e.secrets = {{"sealed-secret", std::nullopt}};
  e.created_at = now;
  e.updated_at = now;
  return e;
}

model::WebhookDelivery Delivery(const model::WebhookEndpoint& e, const model::Event& ev,
                                SystemTime now) {
  model::WebhookDelivery d;
  d.id = "whd_" + e.id + "_" + std::to_string(ev.sequence);
  d.workspace_id = e.workspace_id;
  d.endpoint_id = e.id;
  d.event_id = ev.id;
  d.event_sequence = ev.sequence;
  d.event_type = ev.type;
  d.payload = model::EncodeEvent(ev);
  d.order_key = "k";
  d.next_attempt_at = now;
  d.created_at = now;
  d.updated_at = now;
  return d;
}

TYPED_TEST(StoreConformanceTest, WebhookEndpointsAreWorkspaceScopedAndCursorStartsAtCreation) {
  this->Ingest(this->ws_, {Rec("jira", "1", "before the endpoint")});
  auto now = this->clock_.Now();
  auto created = Wait<model::WebhookEndpoint>(
      [&](auto cb) { this->store_->CreateWebhookEndpoint(Endpoint(this->ws_, "whe_a", now), cb); });
  ASSERT_TRUE(created) << created.error().message;
  // The cursor starts at the last event: earlier events are not the endpoint's business.
  auto cursors = this->store_->ListDispatchCursors();
  ASSERT_TRUE(cursors);
  ASSERT_EQ(cursors->size(), 1u);
  EXPECT_EQ((*cursors)[0], (std::pair<std::string, long long>{this->ws_, 1}));

  auto got = this->store_->GetWebhookEndpoint(this->ws_, "whe_a");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->url, "https://hooks.example.com/whe_a");
  EXPECT_EQ((*got)->secrets.size(), 1u);
  EXPECT_EQ((*got)->event_types, std::vector<std::string>{"issue.created"});
  auto other = this->store_->GetWebhookEndpoint(this->other_ws_, "whe_a");
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
  EXPECT_EQ(this->store_->ListWebhookEndpoints(this->other_ws_)->size(), 0u);
  EXPECT_EQ(this->store_->ListWebhookEndpoints("")->size(), 1u);

  model::WebhookEndpoint changed = **got;
  changed.url = "https://hooks.example.com/new";
  changed.workspace_id = this->other_ws_;  // another workspace's id: not found
  auto wrong = Wait<model::WebhookEndpoint>(
      [&](auto cb) { this->store_->UpdateWebhookEndpoint(changed, cb); });
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kNotFound);
  auto gone = Wait<bool>(
      [&](auto cb) { this->store_->DeleteWebhookEndpoint(this->other_ws_, "whe_a", cb); });
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(StoreConformanceTest, DeliveriesAreFannedOutOnceAndAttemptsRecorded) {
  auto now = this->clock_.Now();
  model::WebhookEndpoint e = Endpoint(this->ws_, "whe_b", now);
  ASSERT_TRUE(
      Wait<model::WebhookEndpoint>([&](auto cb) { this->store_->CreateWebhookEndpoint(e, cb); }));
  this->Ingest(this->ws_, {Rec("jira", "1", "a"), Rec("jira", "2", "b")});
  auto events = this->store_->ListEvents(this->ws_, 0, 100);
  ASSERT_TRUE(events);
  std::vector<model::WebhookDelivery> ds;
  for (const auto& ev : *events) ds.push_back(Delivery(e, ev, now));
  auto added = Wait<size_t>(
      [&](auto cb) { this->store_->AddDeliveries(this->ws_, ds, events->back().sequence, cb); });
  ASSERT_TRUE(added);
  EXPECT_EQ(*added, ds.size());
  // The same fan-out again (a crash between send and cursor): nothing doubles.
  auto again = Wait<size_t>(
      [&](auto cb) { this->store_->AddDeliveries(this->ws_, ds, events->back().sequence, cb); });
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ((*this->store_->ListDispatchCursors())[0].second, events->back().sequence);
  auto pending = this->store_->ListPendingDeliveries(0, 100);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), ds.size());
  EXPECT_EQ((*pending)[0].second.payload, ds[0].payload);

  // A retryable failure, then the endpoint is disabled: the event is in the log.
  store::AttemptRecord r;
  r.workspace_id = this->ws_;
  r.endpoint_id = e.id;
  r.delivery_id = ds[0].id;
  r.attempt = {1, now, 503, 12, "", "busy"};
  r.status = model::DeliveryStatus::kPending;
  r.cycle_attempts = 1;
  r.next_attempt_at = now + std::chrono::seconds(5);
  auto first = Wait<model::WebhookDelivery>([&](auto cb) { this->store_->RecordAttempt(r, cb); });
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ((*this->store_->GetWebhookEndpoint(this->ws_, e.id))->failing_since, now);
  r.attempt = {2, now, 410, 3, "", ""};
  r.status = model::DeliveryStatus::kFailed;
  r.cycle_attempts = 2;
  r.disable_reason = "gone";
  auto second = Wait<model::WebhookDelivery>([&](auto cb) { this->store_->RecordAttempt(r, cb); });
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, model::DeliveryStatus::kFailed);
  auto endpoint = *this->store_->GetWebhookEndpoint(this->ws_, e.id);
  EXPECT_FALSE(endpoint->enabled);
  EXPECT_EQ(endpoint->disabled_reason, "gone");
  auto log = this->store_->ListEvents(this->ws_, events->back().sequence, 10);
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].type, "webhook.endpoint_disabled");

  auto one = this->store_->GetDelivery(this->ws_, e.id, ds[0].id);
  ASSERT_TRUE(one && *one);
  ASSERT_EQ((*one)->attempt_log.size(), 2u);
  EXPECT_EQ((*one)->attempt_log[0].status_code, 503);
  EXPECT_EQ((*one)->attempt_log[1].status_code, 410);
  auto listed = this->store_->ListDeliveries(this->ws_, e.id, "", 1);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  auto next = this->store_->ListDeliveries(this->ws_, e.id, (*listed)[0].id, 10);
  ASSERT_EQ(next->size(), ds.size() - 1);

  // Recover: failed deliveries since a time are pending again, due now, schedule restarted.
  auto requeued = Wait<std::vector<model::WebhookDelivery>>([&](auto cb) {
    this->store_->RequeueDeliveries(this->ws_, e.id, "", now - std::chrono::seconds(1), cb);
  });
  ASSERT_TRUE(requeued);
  ASSERT_EQ(requeued->size(), 1u);
  EXPECT_EQ((*requeued)[0].status, model::DeliveryStatus::kPending);
  EXPECT_EQ((*requeued)[0].cycle_attempts, 0);
  // Redelivering one delivery, even a pending one, makes it due now.
  this->clock_.Advance(Millis(1000));
  auto one_more = Wait<std::vector<model::WebhookDelivery>>([&](auto cb) {
    this->store_->RequeueDeliveries(this->ws_, e.id, ds[1].id, SystemTime{}, cb);
  });
  ASSERT_TRUE(one_more);
  ASSERT_EQ(one_more->size(), 1u);
  EXPECT_EQ((*one_more)[0].next_attempt_at, this->clock_.Now());

  auto deleted =
      Wait<bool>([&](auto cb) { this->store_->DeleteWebhookEndpoint(this->ws_, e.id, cb); });
  ASSERT_TRUE(deleted);
  EXPECT_EQ(this->store_->ListPendingDeliveries(0, 100)->size(), 0u);
}

// --- Connectors and inbound receivers ------------------------------------------------

model::Connector Connector(const std::string& ws, const std::string& id, SystemTime now) {
  model::Connector c;
  c.id = id;
  c.workspace_id = ws;
  c.type = "alertmanager";
  c.display_name = "Prod alerts";
  c.config_json = R"({"project":"OPS"})";
  c.schedule_json = R"({"interval_minutes":30})";
  c.backfill_days = 30;
  c.credentials_sealed = "sealed-credentials";
  c.inbound_enabled = true;
  c.inbound_secrets = {{"sealed-new", std::nullopt}, {"sealed-old", now + std::chrono::hours(1)}};
  c.created_at = now;
  c.updated_at = now;
  return c;
}

TYPED_TEST(StoreConformanceTest, ConnectorsRoundTripAndAreWorkspaceScoped) {
  auto now = this->clock_.Now();
  model::Connector first = Connector(this->ws_, "con_a", now);
  auto created = Wait<model::Connector>([&](auto cb) { this->store_->CreateConnector(first, cb); });
  ASSERT_TRUE(created) << created.error().message;
  this->clock_.Advance(Millis(1000));
  model::Connector second = Connector(this->ws_, "con_b", this->clock_.Now());
  second.credentials_sealed = "";
  second.inbound_secrets = {};
  ASSERT_TRUE(Wait<model::Connector>([&](auto cb) { this->store_->CreateConnector(second, cb); }));
  this->Reopen();  // what was read back is what was stored

  auto got = this->store_->GetConnector(this->ws_, "con_a");
  ASSERT_TRUE(got && *got);
  const model::Connector& a = **got;
  EXPECT_EQ(a.workspace_id, this->ws_);
  EXPECT_EQ(a.type, "alertmanager");
  EXPECT_EQ(a.display_name, "Prod alerts");
  EXPECT_EQ(a.status, "inbound_only");
  EXPECT_EQ(a.config_json, first.config_json);
  EXPECT_EQ(a.schedule_json, first.schedule_json);
  EXPECT_EQ(a.backfill_days, 30);
  EXPECT_EQ(a.credentials_sealed, "sealed-credentials");
  EXPECT_TRUE(a.inbound_enabled);
  ASSERT_EQ(a.inbound_secrets.size(), 2u);
  EXPECT_EQ(a.inbound_secrets[0].sealed, "sealed-new");
  EXPECT_FALSE(a.inbound_secrets[0].expires_at);
  EXPECT_EQ(a.inbound_secrets[1].sealed, "sealed-old");
  EXPECT_EQ(a.inbound_secrets[1].expires_at, now + std::chrono::hours(1));
  EXPECT_EQ(a.created_at, now);
  EXPECT_TRUE((*this->store_->GetConnector(this->ws_, "con_b"))->inbound_secrets.empty());

  auto listed = this->store_->ListConnectors(this->ws_);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, "con_a");
  EXPECT_EQ((*listed)[1].id, "con_b");

  // Another workspace sees nothing; the receiver's lookup by id alone finds the owner.
  auto other = this->store_->GetConnector(this->other_ws_, "con_a");
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
  EXPECT_TRUE(this->store_->ListConnectors(this->other_ws_)->empty());
  auto found = this->store_->FindConnector("con_a");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->workspace_id, this->ws_);
  EXPECT_FALSE(*this->store_->FindConnector("con_nope"));
}

TYPED_TEST(StoreConformanceTest, ConnectorUpdatesReplaceMutableFieldsAndDeletesAreScoped) {
  auto now = this->clock_.Now();
  model::Connector con = Connector(this->ws_, "con_u", now);
  ASSERT_TRUE(Wait<model::Connector>([&](auto cb) { this->store_->CreateConnector(con, cb); }));
  this->clock_.Advance(Millis(5000));
  model::Connector changed = con;
  changed.display_name = "Renamed";
  changed.status = "paused";
  changed.config_json = "{}";
  changed.backfill_days = 7;
  changed.credentials_sealed = "";
  changed.inbound_enabled = false;
  changed.inbound_secrets = {{"sealed-rotated", std::nullopt}};
  changed.updated_at = this->clock_.Now();
  changed.type = "jira";              // not a mutable field
  changed.created_at = SystemTime{};  // nor this
  auto updated =
      Wait<model::Connector>([&](auto cb) { this->store_->UpdateConnector(changed, cb); });
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->type, "alertmanager");
  EXPECT_EQ(updated->created_at, now);
  auto got = **this->store_->GetConnector(this->ws_, "con_u");
  EXPECT_EQ(got.display_name, "Renamed");
  EXPECT_EQ(got.status, "paused");
  EXPECT_EQ(got.config_json, "{}");
  EXPECT_EQ(got.backfill_days, 7);
  EXPECT_EQ(got.credentials_sealed, "");
  EXPECT_FALSE(got.inbound_enabled);
  ASSERT_EQ(got.inbound_secrets.size(), 1u);
  EXPECT_EQ(got.inbound_secrets[0].sealed, "sealed-rotated");
  EXPECT_EQ(got.updated_at, this->clock_.Now());
  EXPECT_EQ(got.type, "alertmanager");

  changed.workspace_id = this->other_ws_;
  auto foreign =
      Wait<model::Connector>([&](auto cb) { this->store_->UpdateConnector(changed, cb); });
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
  auto foreign_delete =
      Wait<bool>([&](auto cb) { this->store_->DeleteConnector(this->other_ws_, "con_u", cb); });
  ASSERT_FALSE(foreign_delete);
  EXPECT_EQ(foreign_delete.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(*this->store_->GetConnector(this->ws_, "con_u"));

  ASSERT_TRUE(Wait<bool>([&](auto cb) { this->store_->DeleteConnector(this->ws_, "con_u", cb); }));
  EXPECT_FALSE(*this->store_->GetConnector(this->ws_, "con_u"));
  EXPECT_FALSE(*this->store_->FindConnector("con_u"));
  auto again = Wait<bool>([&](auto cb) { this->store_->DeleteConnector(this->ws_, "con_u", cb); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(StoreConformanceTest, AlertWebhookSettingsAreDefaultsUntilSaved) {
  auto defaults = this->store_->GetAlertWebhookSettings(this->ws_);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->workspace_id, this->ws_);
  EXPECT_TRUE(defaults->secrets.empty());
  EXPECT_TRUE(defaults->require_signature.empty());
  EXPECT_FALSE(defaults->updated_at);

  model::AlertWebhookSettings s;
  s.workspace_id = this->ws_;
  s.secrets = {{"sealed-2", std::nullopt}, {"sealed-1", this->clock_.Now() + Millis(60'000)}};
  s.require_signature = {{"grafana", false}, {"datadog", true}};
  auto saved = Wait<model::AlertWebhookSettings>(
      [&](auto cb) { this->store_->SaveAlertWebhookSettings(s, cb); });
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_EQ(saved->updated_at, this->clock_.Now());

  auto got = this->store_->GetAlertWebhookSettings(this->ws_);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->secrets.size(), 2u);
  EXPECT_EQ(got->secrets[0].sealed, "sealed-2");
  EXPECT_EQ(got->secrets[1].expires_at, this->clock_.Now() + Millis(60'000));
  EXPECT_EQ(got->require_signature, s.require_signature);
  EXPECT_EQ(got->updated_at, this->clock_.Now());

  // Saving again replaces the whole row.
  this->clock_.Advance(Millis(1000));
  s.secrets = {{"sealed-3", std::nullopt}};
  s.require_signature = {};
  ASSERT_TRUE(Wait<model::AlertWebhookSettings>(
      [&](auto cb) { this->store_->SaveAlertWebhookSettings(s, cb); }));
  got = this->store_->GetAlertWebhookSettings(this->ws_);
  ASSERT_EQ(got->secrets.size(), 1u);
  EXPECT_EQ(got->secrets[0].sealed, "sealed-3");
  EXPECT_TRUE(got->require_signature.empty());
  EXPECT_EQ(got->updated_at, this->clock_.Now());
  EXPECT_FALSE(this->store_->GetAlertWebhookSettings(this->other_ws_)->updated_at);
}

TYPED_TEST(StoreConformanceTest, ARepeatedDeliveryIsRefusedAndWritesNothing) {
  const std::string receiver = "connector:con_r";
  auto first = this->Deliver(this->ws_, receiver, "dlv-1", {Rec("alertmanager", "a1", "down")});
  ASSERT_TRUE(first) << first.error().message;
  // 72 hours later the id is still remembered.
  this->clock_.Advance(std::chrono::hours(72));
  auto second = this->Deliver(this->ws_, receiver, "dlv-1", {Rec("alertmanager", "a1", "down")});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  ASSERT_EQ(second.error().details.size(), 1u);
  EXPECT_EQ(second.error().details[0],
            (std::pair<std::string, std::string>{"delivery_id", "dlv-1"}));
  EXPECT_EQ(this->store_->ListEvents(this->ws_, 0, 100)->size(), 1u);
  EXPECT_EQ(this->store_->GetIssue(this->ws_, (*first)[0].issue_id)->occurrences, 1);

  // The id is per receiver and per workspace.
  ASSERT_TRUE(this->Deliver(this->ws_, "alert:grafana", "dlv-1", {Rec("alertmanager", "a1", "x")}));
  ASSERT_TRUE(this->Deliver(this->other_ws_, receiver, "dlv-1", {Rec("alertmanager", "a1", "x")}));
  EXPECT_EQ(this->store_->GetIssue(this->ws_, (*first)[0].issue_id)->occurrences, 2);
  // Ingests without a delivery id are never refused.
  this->Ingest(this->ws_, {Rec("alertmanager", "a1", "x")});
  this->Ingest(this->ws_, {Rec("alertmanager", "a1", "x")});
  EXPECT_EQ(this->store_->GetIssue(this->ws_, (*first)[0].issue_id)->occurrences, 4);
}

TYPED_TEST(StoreConformanceTest, ConcurrentCopiesOfOneDeliveryCommitOnce) {
  // Queued together so that they likely share a group transaction.
  constexpr int kCopies = 6;
  std::vector<std::future<Result<std::vector<UpsertOutcome>>>> results;
  for (int i = 0; i < kCopies; ++i) {
    auto p = std::make_shared<std::promise<Result<std::vector<UpsertOutcome>>>>();
    results.push_back(p->get_future());
    IngestJob job{"ing_job_" + std::to_string(i),
                  this->ws_,
                  "completed",
                  1,
                  0,
                  this->clock_.Now(),
                  {},
                  "alert:datadog",
                  "dlv-x"};
    this->store_->Ingest(this->ws_, {Rec("datadog", "m1", "cpu")}, job,
                         [p](auto r) { p->set_value(std::move(r)); });
  }
  int accepted = 0;
  for (auto& f : results) {
    auto r = f.get();
    if (r) {
      ++accepted;
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kConflict);
    }
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(this->store_->ListEvents(this->ws_, 0, 100)->size(), 1u);
}

TYPED_TEST(StoreConformanceTest, UpdateOnlyRecordsNeverCreateIssues) {
  auto known = this->Ingest(this->ws_, {Rec("grafana", "known", "latency high")});
  auto unknown = Rec("grafana", "never-seen", "latency high");
  unknown.update_only = true;
  unknown.status = model::IssueStatus::kResolved;
  auto update = Rec("grafana", "known", "latency high");
  update.update_only = true;
  update.status = model::IssueStatus::kResolved;
  auto out = this->Ingest(this->ws_, {unknown, update});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].issue_id.empty());
  EXPECT_TRUE(out[0].pattern_id.empty());
  EXPECT_FALSE(out[0].deduplicated);
  EXPECT_EQ(out[0].status, model::IssueStatus::kResolved);
  EXPECT_EQ(out[0].title, "latency high");
  EXPECT_EQ(out[1].issue_id, known[0].issue_id);
  EXPECT_TRUE(out[1].deduplicated);

  EXPECT_EQ(this->store_->ListIssues(this->ws_, IssueQuery{})->total, 1);
  auto issue = this->store_->GetIssue(this->ws_, known[0].issue_id);
  ASSERT_TRUE(issue);
  EXPECT_EQ(issue->status, model::IssueStatus::kResolved);
  EXPECT_EQ(issue->occurrences, 2);
  auto events = this->store_->ListEvents(this->ws_, 0, 100);
  ASSERT_EQ(events->size(), 2u);  // created, then resolved: nothing for the unknown key
  EXPECT_EQ((*events)[1].type, "issue.resolved");
}

TYPED_TEST(StoreConformanceTest, ReceiverStatsCountTheLast24HourBuckets) {
  const std::string receiver = "alert:grafana";
  auto now = this->clock_.Now();
  auto never = this->store_->GetReceiverStats(this->ws_, receiver, now);
  ASSERT_TRUE(never);
  EXPECT_EQ(never->receiver, receiver);
  EXPECT_EQ(never->deliveries_24h, 0);
  EXPECT_EQ(never->signature_failures_24h, 0);
  EXPECT_FALSE(never->last_delivery_at);
  EXPECT_FALSE(never->last_failure_at);

  // The window is the 24 hour buckets ending with the one holding `now`.
  auto hour = std::chrono::time_point_cast<Millis>(std::chrono::floor<std::chrono::hours>(now));
  ASSERT_TRUE(this->Record(this->ws_, receiver, hour - std::chrono::hours(23), true));
  ASSERT_TRUE(this->Record(this->ws_, receiver, hour - std::chrono::hours(23) - Millis(1), true));
  ASSERT_TRUE(this->Record(this->ws_, receiver, now - std::chrono::hours(2), true));
  // A write with no callback still counts (the next one commits after it).
  this->store_->RecordReceiverDelivery(this->ws_, receiver, now, true, "", {});
  ASSERT_TRUE(this->Record(this->ws_, receiver, now, true));
  ASSERT_TRUE(this->Record(this->ws_, receiver, now - std::chrono::hours(1), false, "bad mac"));
  // An older failure recorded late does not replace the latest one.
  ASSERT_TRUE(this->Record(this->ws_, receiver, now - std::chrono::hours(3), false, "expired"));
  ASSERT_TRUE(this->Record(this->other_ws_, receiver, now, false, "elsewhere"));

  auto stats = this->store_->GetReceiverStats(this->ws_, receiver, now);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->workspace_id, this->ws_);
  EXPECT_EQ(stats->deliveries_24h, 4);
  EXPECT_EQ(stats->signature_failures_24h, 2);
  EXPECT_EQ(stats->last_delivery_at, now);
  EXPECT_EQ(stats->last_failure_at, now - std::chrono::hours(1));
  EXPECT_EQ(stats->last_failure_reason, "bad mac");
  EXPECT_EQ(this->store_->GetReceiverStats(this->ws_, "alert:datadog", now)->deliveries_24h, 0);

  // A day later the window is empty; the last outcomes stay.
  auto later = this->store_->GetReceiverStats(this->ws_, receiver, now + std::chrono::hours(24));
  ASSERT_TRUE(later);
  EXPECT_EQ(later->deliveries_24h, 0);
  EXPECT_EQ(later->signature_failures_24h, 0);
  EXPECT_EQ(later->last_delivery_at, now);
  EXPECT_EQ(later->last_failure_reason, "bad mac");
}

TYPED_TEST(StoreConformanceTest, DeletingAConnectorDeletesItsReceiverStats) {
  auto now = this->clock_.Now();
  ASSERT_TRUE(Wait<model::Connector>(
      [&](auto cb) { this->store_->CreateConnector(Connector(this->ws_, "con_s", now), cb); }));
  ASSERT_TRUE(this->Record(this->ws_, "connector:con_s", now, true));
  ASSERT_TRUE(this->Record(this->ws_, "connector:con_s", now, false, "bad mac"));
  ASSERT_TRUE(this->Record(this->ws_, "connector:con_keep", now, true));
  ASSERT_EQ(this->store_->GetReceiverStats(this->ws_, "connector:con_s", now)->deliveries_24h, 1);

  ASSERT_TRUE(Wait<bool>([&](auto cb) { this->store_->DeleteConnector(this->ws_, "con_s", cb); }));
  auto stats = this->store_->GetReceiverStats(this->ws_, "connector:con_s", now);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->deliveries_24h, 0);
  EXPECT_EQ(stats->signature_failures_24h, 0);
  EXPECT_FALSE(stats->last_delivery_at);
  EXPECT_FALSE(stats->last_failure_at);
  EXPECT_EQ(stats->last_failure_reason, "");
  EXPECT_EQ(this->store_->GetReceiverStats(this->ws_, "connector:con_keep", now)->deliveries_24h,
            1);
}

}  // namespace

}  // namespace causeloop::store

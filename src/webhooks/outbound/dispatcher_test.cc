// The delivery engine against the real SQLite store, a fake clock and a fake HTTP client:
// retry timing, jitter, Retry-After, 410, the 5-day rule, restarts and ordering, without
// sleeping.

#include "webhooks/outbound/dispatcher.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <future>
#include <thread>

#include "auth/crypto.h"
#include "auth/secretbox.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/outbound/signing.h"

namespace causeloop::webhooks {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

template <typename T>
Result<T> Wait(const std::function<void(store::Callback<T>)>& call) {
  std::promise<Result<T>> p;
  call([&](Result<T> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

// Records requests; the test answers them.
class FakeClient final : public net::HttpClient {
 public:
  struct Pending {
    net::HttpRequest request;
    Callback done;
  };
  void Send(net::HttpRequest request, Callback done) override {
    std::lock_guard lock(mu_);
    pending_.push_back({std::move(request), std::move(done)});
  }
  void Stop() override {}
  [[nodiscard]] size_t in_flight() const override {
    std::lock_guard lock(mu_);
    return pending_.size();
  }
  size_t Count() const { return in_flight(); }
  net::HttpRequest Front() const {
    std::lock_guard lock(mu_);
    return pending_.front().request;
  }
  // Answers the oldest request.
  void Answer(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
    Pending p;
    {
      std::lock_guard lock(mu_);
      p = std::move(pending_.front());
      pending_.pop_front();
    }
    net::HttpResult r;
    r.status = status;
    r.headers = std::move(headers);
    r.latency = std::chrono::microseconds(1500);
    if (status == 0) r.error = "connection refused";
    p.done(std::move(r));
  }

 private:
  mutable std::mutex mu_;
  std::deque<Pending> pending_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("causeloop-dispatch-" + NewId("t", clock_.Now(), random_));
    fs::create_directories(dir_);
    auto s = store::OpenSqliteStore((dir_ / "db").string(), {}, clock_, random_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    model::Organization org{"org_1", "o", clock_.Now()};
    model::Workspace ws{"ws_1", org.id, "w", clock_.Now()};
    ASSERT_TRUE(store_->CreateOrganization(org, ws));
    options_.secret_key = std::string(32, 'k');
    options_.version = "9.9.9";
    StartDispatcher();
  }
  void TearDown() override {
    dispatcher_.reset();
    store_->Close();
    store_.reset();
    fs::remove_all(dir_);
  }
  void StartDispatcher() {
    dispatcher_ = std::make_unique<Dispatcher>(*store_, client_, clock_, random_, options_);
    if (!observing_) {
      store_->AddCommitObserver(&relay_);
      observing_ = true;
    }
    relay_.target = dispatcher_.get();
    ASSERT_TRUE(dispatcher_->Load());
  }
  model::WebhookEndpoint AddEndpoint(std::vector<std::string> types = {"*"}) {
    model::WebhookEndpoint e;
    e.id = NewId("whe_", clock_.Now(), random_);
    e.workspace_id = "ws_1";
    e.url = "https://receiver.example.com/hook";
    e.event_types = std::move(types);
    e.secrets = {{auth::Seal(options_.secret_key, secret_, random_), std::nullopt}};
    e.created_at = clock_.Now();
    e.updated_at = clock_.Now();
    auto r = Wait<model::WebhookEndpoint>([&](auto cb) { store_->CreateWebhookEndpoint(e, cb); });
    EXPECT_TRUE(r);
    dispatcher_->EndpointsChanged("ws_1");
    return e;
  }
  model::Issue NewIssue(const std::string& title) {
    model::IssueRecord r;
    r.source = "custom_api";
    r.external_id = NewId("x", clock_.Now(), random_);
    r.title = title;
    auto i = Wait<model::Issue>([&](auto cb) { store_->CreateIssue("ws_1", r, cb); });
    EXPECT_TRUE(i);
    return *i;
  }
  std::vector<model::WebhookDelivery> Deliveries(const std::string& endpoint) {
    return *store_->ListDeliveries("ws_1", endpoint, "", 100);
  }
  // Answers, then waits until the outcome is recorded.
  void Answer(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
    client_.Answer(status, std::move(headers));
    // Recorded once the only attempts in flight are those the client still holds.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (dispatcher_->Stats().in_flight != client_.Count()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the outcome was never recorded";
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  // Forwards commits to whichever dispatcher is current (restart tests replace it).
  struct Relay : store::CommitObserver {
    Dispatcher* target = nullptr;
    void OnCommitted(const std::vector<model::Event>& events) override {
      if (target != nullptr) target->OnCommitted(events);
    }
  } relay_;
  bool observing_ = false;
  FakeClock clock_{FromUnixMillis(1'750'000'000'000)};
  FastRandom random_;
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  FakeClient client_;
  DispatcherOptions options_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::string secret_ = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
};

TEST_F(DispatcherTest, DeliversASignedEventOnce) {
  auto e = AddEndpoint({"issue.created"});
  model::Issue issue = NewIssue("Disk full on db-1");
  dispatcher_->RunOnce();
  ASSERT_EQ(client_.Count(), 1u);
  net::HttpRequest req = client_.Front();
  EXPECT_EQ(req.url, e.url);
  EXPECT_EQ(req.pool_key, e.id);
  EXPECT_NE(req.body.find(issue.id), std::string::npos);
  std::map<std::string, std::string> h(req.headers.begin(), req.headers.end());
  auto events = *store_->ListEvents("ws_1", 0, 10);
  EXPECT_EQ(h["webhook-id"], events[0].id);
  EXPECT_EQ(h["x-causeloop-event"], "issue.created");
  int64_t ts = std::stoll(h["webhook-timestamp"]);
  EXPECT_EQ(ts, ToUnixMillis(clock_.Now()) / 1000);
  EXPECT_EQ(h["webhook-signature"], StandardSignature(secret_, h["webhook-id"], ts, req.body));
  EXPECT_EQ(h["x-causeloop-signature"], auth::HmacSha256Hex(secret_, req.body));
  Answer(204);
  auto ds = Deliveries(e.id);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].status, model::DeliveryStatus::kDelivered);
  ASSERT_EQ(ds[0].attempt_log.size(), 1u);
  EXPECT_EQ(ds[0].attempt_log[0].status_code, 204);
  dispatcher_->RunOnce();
  EXPECT_EQ(client_.Count(), 0u);  // nothing sent twice
}

TEST_F(DispatcherTest, RetriesOnTheScheduleWithJitterThenFails) {
  auto e = AddEndpoint();
  NewIssue("Checkout 500s");
  const std::vector<seconds> schedule = {seconds(5), minutes(5), minutes(30), hours(2),
                                         hours(5),   hours(10),  hours(10)};
  dispatcher_->RunOnce();
  for (size_t i = 0; i <= schedule.size(); ++i) {
    ASSERT_EQ(client_.Count(), 1u) << "attempt " << i + 1;
    SystemTime sent = clock_.Now();
    Answer(500);
    auto d = Deliveries(e.id)[0];
    if (i == schedule.size()) {
      EXPECT_EQ(d.status, model::DeliveryStatus::kFailed);
      EXPECT_EQ(d.attempts, 8);
      break;
    }
    ASSERT_EQ(d.status, model::DeliveryStatus::kPending);
    auto gap = d.next_attempt_at - sent;
    EXPECT_GE(gap, schedule[i] * 8 / 10) << i;
    EXPECT_LE(gap, schedule[i] * 12 / 10) << i;
    // Not a moment early.
    clock_.Set(d.next_attempt_at - Millis(1));
    dispatcher_->RunOnce();
    EXPECT_EQ(client_.Count(), 0u);
    clock_.Set(d.next_attempt_at);
    dispatcher_->RunOnce();
  }
}

TEST_F(DispatcherTest, JitterVaries) {
  auto e = AddEndpoint();
  std::set<long long> gaps;
  for (int i = 0; i < 6; ++i) NewIssue("storm " + std::to_string(i));
  dispatcher_->RunOnce();
  SystemTime sent = clock_.Now();
  while (client_.Count() > 0) Answer(503);
  for (const auto& d : Deliveries(e.id))
    gaps.insert(ToUnixMillis(d.next_attempt_at) - ToUnixMillis(sent));
  EXPECT_GT(gaps.size(), 1u) << "six retries scheduled at the same instant: no jitter";
}

TEST_F(DispatcherTest, HonoursRetryAfter) {
  auto e = AddEndpoint();
  NewIssue("rate limited");
  dispatcher_->RunOnce();
  SystemTime sent = clock_.Now();
  Answer(429, {{"retry-after", "120"}});
  auto d = Deliveries(e.id)[0];
  EXPECT_EQ(d.status, model::DeliveryStatus::kPending);
  EXPECT_GE(d.next_attempt_at - sent, seconds(120));
}

TEST_F(DispatcherTest, GoneDisablesTheEndpointAndSaysSo) {
  auto e = AddEndpoint();
  NewIssue("first");
  dispatcher_->RunOnce();
  Answer(410);
  auto endpoint = **store_->GetWebhookEndpoint("ws_1", e.id);
  EXPECT_FALSE(endpoint.enabled);
  EXPECT_EQ(endpoint.disabled_reason, "gone");
  auto events = *store_->ListEvents("ws_1", 0, 10);
  EXPECT_EQ(events.back().type, "webhook.endpoint_disabled");
  // Later events are not sent to a disabled endpoint.
  NewIssue("second");
  dispatcher_->RunOnce();
  EXPECT_EQ(client_.Count(), 0u);
}

TEST_F(DispatcherTest, FiveDaysOfFailureDisable) {
  auto e = AddEndpoint();
  for (int day = 0; day <= 5; ++day) {
    NewIssue("day " + std::to_string(day));
    dispatcher_->RunOnce();
    while (client_.Count() > 0) Answer(0);
    auto endpoint = **store_->GetWebhookEndpoint("ws_1", e.id);
    if (day < 5) {
      ASSERT_TRUE(endpoint.enabled) << day;
    } else {
      EXPECT_FALSE(endpoint.enabled);
      EXPECT_EQ(endpoint.disabled_reason, "failing");
    }
    clock_.Advance(std::chrono::duration_cast<Millis>(hours(24)) + Millis(1));
  }
}

TEST_F(DispatcherTest, ASuccessEndsTheFailingStreak) {
  auto e = AddEndpoint();
  NewIssue("a");
  dispatcher_->RunOnce();
  Answer(500);
  EXPECT_TRUE((**store_->GetWebhookEndpoint("ws_1", e.id)).failing_since);
  clock_.Advance(std::chrono::duration_cast<Millis>(seconds(7)));
  dispatcher_->RunOnce();
  Answer(200);
  EXPECT_FALSE((**store_->GetWebhookEndpoint("ws_1", e.id)).failing_since);
}

TEST_F(DispatcherTest, PendingWorkSurvivesARestart) {
  auto e = AddEndpoint();
  NewIssue("before the crash");
  dispatcher_->RunOnce();
  Answer(503);  // a retry is scheduled in ~5 s
  // Events committed while no dispatcher runs are fanned out by the next one.
  relay_.target = nullptr;
  dispatcher_.reset();
  NewIssue("while down");
  clock_.Advance(std::chrono::duration_cast<Millis>(minutes(10)));  // the retry fell due
  StartDispatcher();
  dispatcher_->RunOnce();
  ASSERT_EQ(client_.Count(), 2u);
  Answer(200);
  Answer(200);
  auto ds = Deliveries(e.id);
  ASSERT_EQ(ds.size(), 2u);
  for (const auto& d : ds) EXPECT_EQ(d.status, model::DeliveryStatus::kDelivered) << d.id;
}

TEST_F(DispatcherTest, OneOrderKeyAtATime) {
  auto e = AddEndpoint({"issue.created", "issue.updated"});
  model::Issue issue = NewIssue("flapping");
  store::IssuePatch patch;
  patch.status = model::IssueStatus::kInProgress;
  ASSERT_TRUE(
      Wait<model::Issue>([&](auto cb) { store_->PatchIssue("ws_1", issue.id, patch, cb); }));
  NewIssue("unrelated");
  dispatcher_->RunOnce();
  // The issue's two events share a key: only the first goes; the unrelated one goes too.
  ASSERT_EQ(client_.Count(), 2u);
  EXPECT_NE(client_.Front().body.find("issue.created"), std::string::npos);
  Answer(200);
  Answer(200);
  dispatcher_->RunOnce();
  ASSERT_EQ(client_.Count(), 1u);
  EXPECT_NE(client_.Front().body.find("issue.updated"), std::string::npos);
  Answer(200);
  for (const auto& d : Deliveries(e.id)) EXPECT_EQ(d.status, model::DeliveryStatus::kDelivered);
}

TEST_F(DispatcherTest, TypeFilterAndCreationTime) {
  NewIssue("before the endpoint existed");
  auto e = AddEndpoint({"issue.resolved"});
  NewIssue("created, not resolved");
  dispatcher_->RunOnce();
  EXPECT_EQ(client_.Count(), 0u);
  EXPECT_TRUE(Deliveries(e.id).empty());
}

}  // namespace
}  // namespace causeloop::webhooks

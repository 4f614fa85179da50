// Idempotency-Key (SPEC §4): a repeat replays the stored response without running the
// handler again; the same key with a different body is 422.

#include <mutex>
#include <set>
#include <thread>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

class IdempotencyTest : public ServerTest<IdempotencyTest> {
 protected:
  static int64_t CountEvents(const Http& http, const std::string& type) {
    HttpResponse r = http.Get("/v1/events?after=0&limit=100");
    Json j = Json::Parse(r.body);
    int64_t n = 0;
    if (auto data = j.At("/data"); data && data->is_array()) {
      for (auto e : Elements(*data)) n += StrOf(e, "/type") == type ? 1 : 0;
    }
    return n;
  }
};

TEST_F(IdempotencyTest, SameKeyAndBodyReplaysTheResponseAndRecordsOneOccurrence) {
  Http ws = FreshWorkspace();
  const Headers key = {{"Idempotency-Key", "ingest-" + UniqueSuffix()}};
  const std::string body =
      R"({"source":"datadog","external_id":"dd-)" + UniqueSuffix() + R"(","title":"Disk full"})";

  HttpResponse first = ws.Post("/v1/ingest/events", body, key);
  HttpResponse second = ws.Post("/v1/ingest/events", body, key);

  ASSERT_TRUE(HasStatus(first, 202));
  EXPECT_NE(first.Header("idempotency-replayed"), "true");
  ASSERT_TRUE(HasStatus(second, 202));
  EXPECT_EQ(second.Header("idempotency-replayed"), "true");
  EXPECT_EQ(second.body, first.body);
  const std::string id = Json::Parse(first.body).Str("/issue_id").value_or("");
  Json issue = Json::Parse(ws.Get("/v1/issues/" + id).body);
  EXPECT_EQ(issue.Int("/occurrences"), 1) << "the handler ran again";
  EXPECT_EQ(Json::Parse(ws.Get("/v1/issues").body).Raw("/page/total"), "1");
  EXPECT_EQ(CountEvents(ws, "issue.created"), 1);
  EXPECT_EQ(CountEvents(ws, "issue.updated"), 0) << "the replay must not emit events";
}

TEST_F(IdempotencyTest, ReplayOfABatchDoesNotStoreItsRecordsTwice) {
  Http ws = FreshWorkspace();
  const Headers key = {{"Idempotency-Key", "batch-" + UniqueSuffix()}};
  const std::string body = R"({"records":[{"title":"a"},{"title":"b"}]})";

  HttpResponse first = ws.Post("/v1/ingest/batch", body, key);
  HttpResponse second = ws.Post("/v1/ingest/batch", body, key);

  ASSERT_TRUE(HasStatus(first, 202));
  ASSERT_TRUE(HasStatus(second, 202));
  EXPECT_EQ(second.Header("idempotency-replayed"), "true");
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(CountEvents(ws, "issue.updated"), 0);
  EXPECT_EQ(CountEvents(ws, "issue.created"), 2);
}

TEST_F(IdempotencyTest, SameKeyWithADifferentBodyIs422AndStoresNothing) {
  Http ws = FreshWorkspace();
  const Headers key = {{"Idempotency-Key", "conflict-" + UniqueSuffix()}};
  ASSERT_TRUE(HasStatus(ws.Post("/v1/ingest/events", R"({"title":"first"})", key), 202));

  HttpResponse r = ws.Post("/v1/ingest/events", R"({"title":"second"})", key);

  EXPECT_TRUE(IsErrorEnvelope(r, 422, "unprocessable"));
  EXPECT_EQ(Json::Parse(ws.Get("/v1/issues").body).Raw("/page/total"), "1");
}

TEST_F(IdempotencyTest, KeysAreScopedToTheWorkspace) {
  Http a = FreshWorkspace();
  Http b = FreshWorkspace();
  const Headers key = {{"Idempotency-Key", "shared-" + UniqueSuffix()}};
  const std::string body = R"({"title":"same body in two workspaces"})";

  HttpResponse in_a = a.Post("/v1/ingest/events", body, key);
  HttpResponse in_b = b.Post("/v1/ingest/events", body, key);

  ASSERT_TRUE(HasStatus(in_a, 202));
  ASSERT_TRUE(HasStatus(in_b, 202));
  EXPECT_NE(in_b.Header("idempotency-replayed"), "true");
  EXPECT_NE(Json::Parse(in_a.body).Str("/issue_id"), Json::Parse(in_b.body).Str("/issue_id"));
}

TEST_F(IdempotencyTest, ConcurrentRequestsWithOneKeyRunTheHandlerOnce) {
  Http ws = FreshWorkspace();
  const Headers key = {{"Idempotency-Key", "race-" + UniqueSuffix()}};
  const std::string body = R"({"source":"sentry","external_id":"race-1","title":"Race"})";
  std::mutex mu;
  std::vector<HttpResponse> responses;

  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 6; ++i) {
      threads.emplace_back([&] {
        HttpResponse r = ws.Post("/v1/ingest/events", body, key);
        std::lock_guard lock(mu);
        responses.push_back(std::move(r));
      });
    }
  }

  std::set<std::string> issue_ids;
  for (const HttpResponse& r : responses) {
    EXPECT_TRUE(r.status == 202 || r.status == 409) << r.Describe();
    if (r.status == 202) issue_ids.insert(Json::Parse(r.body).Str("/issue_id").value_or(""));
  }
  ASSERT_EQ(issue_ids.size(), 1u);
  Json issue = Json::Parse(ws.Get("/v1/issues/" + *issue_ids.begin()).body);
  EXPECT_EQ(issue.Int("/occurrences"), 1) << "the handler ran more than once";
}

}  // namespace
}  // namespace causeloop::e2e

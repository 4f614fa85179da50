// Patterns end to end (SPEC §10, §5.3): assignment inside the ingest call, the patterns API,
// manual corrections respected by later issues, restart and concurrency consistency,
// similar issues and explanations.

#include <atomic>
#include <set>
#include <thread>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

struct Ingested {
  std::string issue_id;
  std::string pattern_id;
};

Ingested Ingest(const Http& http, const std::string& body) {
  HttpResponse r = http.Post("/v1/ingest/events", body);
  EXPECT_TRUE(HasStatus(r, 202)) << body;
  Json j = Json::Parse(r.body);
  return {j.Str("/issue_id").value_or(""), j.Str("/pattern_id").value_or("")};
}

std::string Event(const std::string& title, const std::string& extra = "") {
  return R"({"title":)" + Quote(title) + R"(,"external_id":")" + UniqueSuffix() + "\"" + extra +
         "}";
}

Json GetJson(const Http& http, const std::string& path) {
  HttpResponse r = http.Get(path);
  EXPECT_TRUE(HasStatus(r, 200)) << path;
  return Json::Parse(r.body);
}

class PatternsTest : public ServerTest<PatternsTest> {};

TEST_F(PatternsTest, IngestAnswersCarryThePatternAndTheSameFailureSharesIt) {
  Http http = FreshWorkspace();
  Ingested a = Ingest(http, Event("Connection refused to db-7.prod.internal:5432 after 3000 ms"));
  Ingested b = Ingest(http, Event("Connection refused to db-19.prod.internal:6432 after 120 ms"));
  Ingested c = Ingest(http, Event("Certificate for payments.example.com expires in 3 days"));

  EXPECT_EQ(a.pattern_id.rfind("pat_", 0), 0u) << a.pattern_id;
  EXPECT_EQ(a.pattern_id, b.pattern_id);
  EXPECT_NE(a.pattern_id, c.pattern_id);
  // The issue itself carries it too, and the batch answer has one per record.
  EXPECT_EQ(GetJson(http, "/v1/issues/" + a.issue_id).Str("/pattern_id"), a.pattern_id);
  HttpResponse batch = http.Post(
      "/v1/ingest/batch",
      R"({"records":[{"title":"Connection refused to db-3.prod.internal:5432 after 9 ms"},)"
      R"({"title":"Certificate for auth.example.com expires in 12 days"}]})");
  ASSERT_TRUE(HasStatus(batch, 202));
  Json bj = Json::Parse(batch.body);
  EXPECT_EQ(bj.Str("/results/0/pattern_id"), a.pattern_id) << batch.body;
  EXPECT_EQ(bj.Str("/results/1/pattern_id"), c.pattern_id) << batch.body;
}

TEST_F(PatternsTest, PatternDetailHasCountsStatusHistogramServicesSourcesAndSamples) {
  Http http = FreshWorkspace();
  Ingested first =
      Ingest(http, Event("Replication lag 340s on pg-replica-2", R"(,"service":"orders-db")"));
  std::string pattern = first.pattern_id;
  Json p = GetJson(http, "/v1/patterns/" + pattern);
  EXPECT_EQ(p.Int("/issue_count"), 1);
  EXPECT_EQ(p.Str("/status"), "emerging");

  Ingest(http, Event("Replication lag 1200s on pg-replica-7",
                     R"(,"service":"billing-db","source":"datadog")"));
  Ingest(http, Event("Replication lag 61s on pg-replica-1", R"(,"service":"orders-db")"));
  // A repeat of an existing issue is an occurrence, not a new issue of the pattern.
  HttpResponse again = http.Post(
      "/v1/ingest/events",
      R"({"title":"Replication lag 340s on pg-replica-2","external_id":"dup-)" + pattern + "\"}");
  ASSERT_TRUE(HasStatus(again, 202));
  HttpResponse again2 = http.Post(
      "/v1/ingest/events",
      R"({"title":"Replication lag 341s on pg-replica-2","external_id":"dup-)" + pattern + "\"}");
  ASSERT_TRUE(HasStatus(again2, 202));
  EXPECT_EQ(Json::Parse(again2.body).Bool("/deduplicated"), true);

  p = GetJson(http, "/v1/patterns/" + pattern);
  EXPECT_EQ(p.Int("/issue_count"), 4) << p.Raw("");
  EXPECT_EQ(p.Str("/status"), "active");
  EXPECT_NE(p.Str("/template").value_or("").find("<*>"), std::string::npos) << p.Raw("");
  EXPECT_EQ(p.Raw("/services"), R"(["billing-db","orders-db"])");
  EXPECT_EQ(p.Raw("/sources"), R"(["custom_api","datadog"])");
  EXPECT_EQ(p.Size("/occurrences"), 30u);
  EXPECT_EQ(p.Int("/occurrences/29/count"), 4) << "today's bucket: " << p.Raw("/occurrences");
  EXPECT_EQ(p.Size("/sample_issues"), 4u);
  EXPECT_TRUE(p.IsNull("/merged_into"));

  std::optional<std::vector<std::string>> issues =
      ListAll(http, "/v1/patterns/" + pattern + "/issues", 2);
  ASSERT_TRUE(issues);
  EXPECT_EQ(issues->size(), 4u);
  for (const auto& i : *issues) EXPECT_NE(i.find(pattern), std::string::npos) << i;
}

TEST_F(PatternsTest, ListFiltersSortsAndPages) {
  Http http = FreshWorkspace();
  for (int i = 0; i < 3; ++i) {
    Ingest(http, Event("Pod checkout-" + std::to_string(7000 + i) + " CrashLoopBackOff",
                       R"(,"service":"checkout","source":"alertmanager")"));
  }
  Ingest(http, Event("Queue orders-events depth 90000 above 50000", R"(,"service":"orders")"));
  Ingest(http, Event("Deploy of search v1.2.3 failed health checks", R"(,"service":"search")"));

  Json all = GetJson(http, "/v1/patterns?sort=-issue_count");
  EXPECT_EQ(all.Int("/page/total"), 3) << all.Raw("");
  EXPECT_EQ(all.Int("/data/0/issue_count"), 3);
  EXPECT_EQ(GetJson(http, "/v1/patterns?status=active").Int("/page/total"), 1);
  EXPECT_EQ(GetJson(http, "/v1/patterns?status=emerging").Int("/page/total"), 2);
  EXPECT_EQ(GetJson(http, "/v1/patterns?service=orders").Int("/page/total"), 1);
  EXPECT_EQ(GetJson(http, "/v1/patterns?source=alertmanager").Int("/page/total"), 1);
  EXPECT_EQ(GetJson(http, "/v1/patterns?q=CrashLoop").Int("/page/total"), 1);
  EXPECT_TRUE(IsErrorEnvelope(http.Get("/v1/patterns?status=bogus"), 400, "validation_error"));
  EXPECT_TRUE(IsErrorEnvelope(http.Get("/v1/patterns?sort=title"), 400, "validation_error"));

  std::optional<std::vector<std::string>> paged = ListAll(http, "/v1/patterns?sort=issue_count", 1);
  ASSERT_TRUE(paged);
  EXPECT_EQ(paged->size(), 3u);
  Json first_page = GetJson(http, "/v1/patterns?limit=1");
  std::string cursor = first_page.Str("/page/next_cursor").value_or("");
  ASSERT_FALSE(cursor.empty());
  EXPECT_TRUE(IsErrorEnvelope(http.Get("/v1/patterns?limit=1&status=active&cursor=" + cursor), 400,
                              "validation_error"));
}

TEST_F(PatternsTest, PatchRenamesAndSetsStatus) {
  Http http = FreshWorkspace();
  Ingested a = Ingest(http, Event("Disk full on node-4 (/var/lib/kafka 98%)"));
  HttpResponse r = http.Request("PATCH", "/v1/patterns/" + a.pattern_id,
                                R"({"title":"Kafka disks fill up","status":"watching"})");
  ASSERT_TRUE(HasStatus(r, 200));
  Json p = Json::Parse(r.body);
  EXPECT_EQ(p.Str("/title"), "Kafka disks fill up");
  EXPECT_EQ(p.Str("/status"), "watching");
  // A later issue joins without renaming it or changing the explicit status.
  Ingested b = Ingest(http, Event("Disk full on node-9 (/var/lib/kafka 99%)"));
  EXPECT_EQ(b.pattern_id, a.pattern_id);
  p = GetJson(http, "/v1/patterns/" + a.pattern_id);
  EXPECT_EQ(p.Str("/title"), "Kafka disks fill up");
  EXPECT_EQ(p.Str("/status"), "watching");
  EXPECT_TRUE(
      IsErrorEnvelope(http.Request("PATCH", "/v1/patterns/" + a.pattern_id, R"({"status":"gone"})"),
                      400, "validation_error"));
  EXPECT_TRUE(IsErrorEnvelope(http.Request("PATCH", "/v1/patterns/pat_nope", R"({"title":"x"})"),
                              404, "not_found"));
}

TEST_F(PatternsTest, ManualLinkUnlinkAndMergeAreRespectedByLaterIssues) {
  Http http = FreshWorkspace();
  Ingested disk = Ingest(http, Event("Disk full on host-1 (/var/log 97%)"));
  Ingested queue = Ingest(http, Event("Queue payments-events depth 120000 above 50000"));
  ASSERT_NE(disk.pattern_id, queue.pattern_id);

  // Link: the disk issue belongs with the queue pattern, and so do later ones like it.
  HttpResponse link = http.Post("/v1/issues/" + disk.issue_id + "/link-pattern",
                                R"({"pattern_id":")" + queue.pattern_id + "\"}");
  ASSERT_TRUE(HasStatus(link, 200));
  EXPECT_EQ(Json::Parse(link.body).Str("/pattern_id"), queue.pattern_id);
  Ingested disk2 = Ingest(http, Event("Disk full on host-8 (/var/log 99%)"));
  EXPECT_EQ(disk2.pattern_id, queue.pattern_id);
  Json why = GetJson(http, "/v1/issues/" + disk2.issue_id + "/pattern-explanation");
  EXPECT_EQ(why.Str("/method"), "manual") << why.Raw("");
  EXPECT_EQ(GetJson(http, "/v1/patterns/" + queue.pattern_id).Int("/issue_count"), 3);

  // Unlink: it gets a pattern of its own, which later ones join.
  HttpResponse unlink = http.Post("/v1/issues/" + disk2.issue_id + "/unlink-pattern", "");
  ASSERT_TRUE(HasStatus(unlink, 200));
  std::string own = Json::Parse(unlink.body).Str("/pattern_id").value_or("");
  EXPECT_NE(own, queue.pattern_id);
  EXPECT_NE(own, disk.pattern_id);
  Ingested disk3 = Ingest(http, Event("Disk full on host-3 (/var/log 96%)"));
  EXPECT_EQ(disk3.pattern_id, own);
  EXPECT_EQ(GetJson(http, "/v1/patterns/" + queue.pattern_id).Int("/issue_count"), 2);

  // Merge: a TLS pattern merged into the queue pattern takes its later issues there.
  Ingested tls = Ingest(http, Event("TLS handshake timeout to api-3.internal after 10s"));
  HttpResponse merge = http.Post("/v1/patterns/" + tls.pattern_id + "/merge",
                                 R"({"into":")" + queue.pattern_id + "\"}");
  ASSERT_TRUE(HasStatus(merge, 200));
  EXPECT_EQ(Json::Parse(merge.body).Str("/id"), queue.pattern_id);
  EXPECT_EQ(GetJson(http, "/v1/issues/" + tls.issue_id).Str("/pattern_id"), queue.pattern_id);
  Ingested tls2 = Ingest(http, Event("TLS handshake timeout to api-9.internal after 30s"));
  EXPECT_EQ(tls2.pattern_id, queue.pattern_id);
  Json gone = GetJson(http, "/v1/patterns/" + tls.pattern_id);
  EXPECT_EQ(gone.Str("/merged_into"), queue.pattern_id);
  EXPECT_EQ(gone.Int("/issue_count"), 0);
  Json merged = GetJson(http, "/v1/patterns/" + queue.pattern_id);
  EXPECT_EQ(merged.Int("/issue_count"), 4) << merged.Raw("");
  Json list = GetJson(http, "/v1/patterns");
  EXPECT_EQ(list.Raw("").find(tls.pattern_id), std::string::npos) << "merged patterns are hidden";
  EXPECT_NE(GetJson(http, "/v1/patterns?include_merged=true").Raw("").find(tls.pattern_id),
            std::string::npos);
  Json via = GetJson(http, "/v1/issues/" + tls2.issue_id + "/pattern-explanation");
  EXPECT_EQ(via.Str("/method"), "engine") << via.Raw("");
  EXPECT_EQ(via.Str("/merged_from"), tls.pattern_id) << via.Raw("");

  // Bad merges.
  EXPECT_TRUE(IsErrorEnvelope(http.Post("/v1/patterns/" + queue.pattern_id + "/merge",
                                        R"({"into":")" + queue.pattern_id + "\"}"),
                              400, "validation_error"));
  EXPECT_TRUE(IsErrorEnvelope(
      http.Post("/v1/patterns/" + tls.pattern_id + "/merge", R"({"into":")" + own + "\"}"), 400,
      "validation_error"));
  EXPECT_TRUE(IsErrorEnvelope(
      http.Post("/v1/patterns/" + own + "/merge", R"({"into":"pat_missing"})"), 404, "not_found"));
  EXPECT_TRUE(IsErrorEnvelope(http.Post("/v1/patterns/" + own + "/merge", R"({})"), 400,
                              "validation_error"));
}

TEST_F(PatternsTest, ConcurrentIdenticalNewFailuresMakeOnePattern) {
  Http http = FreshWorkspace();
  const std::string marker = "zq" + std::to_string(::getpid());
  constexpr int kThreads = 12;
  std::vector<std::string> patterns(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      patterns[t] = Ingest(http, Event("Unhandled " + marker + "Error in ledger reconcile job " +
                                       std::to_string(1000 + t)))
                        .pattern_id;
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct(patterns.begin(), patterns.end());
  EXPECT_EQ(distinct.size(), 1u);
  EXPECT_FALSE(patterns[0].empty());
  Json list = GetJson(http, "/v1/patterns?q=" + marker);
  EXPECT_EQ(list.Int("/page/total"), 1) << list.Raw("");
  EXPECT_EQ(list.Int("/data/0/issue_count"), kThreads);
}

TEST_F(PatternsTest, SearchFindsEveryAcknowledgedIssueWhileTheWriterIsBusy) {
  // Twelve single-event senders keep the writer busy with small transactions, so new
  // issues wait for the full-text index; a search right after an issue's answer first has
  // the waiting issues indexed (docs/api-choices.md, "Search under load").
  Http http = FreshWorkspace();
  const std::string marker = "sx" + std::to_string(::getpid());
  std::atomic<bool> stop{false};
  std::atomic<int> background{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 12; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        HttpResponse r = http.Post(
            "/v1/ingest/events", Event("Backup stalled on volume " + std::to_string(t * 1000 + i)));
        if (HasStatus(r, 202)) ++background;
      }
    });
  }
  while (background.load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int found = 0;
  constexpr int kSearches = 20;
  for (int k = 0; k < kSearches; ++k) {
    const std::string word = marker + "n" + std::to_string(k);
    Ingest(http, Event("Replica " + word + " lost its primary"));
    found += GetJson(http, "/v1/issues?q=" + word).Int("/page/total").value_or(0) == 1 ? 1 : 0;
  }
  stop = true;
  for (auto& t : senders) t.join();
  EXPECT_EQ(found, kSearches);
}

TEST_F(PatternsTest, ReadsCountEveryAcknowledgedIssueWhileTheWriterIsBusy) {
  // Eight senders keep the single writer busy, so the pattern's counters wait in memory
  // between its row writes; a read right after the last answer still counts every issue.
  Http http = FreshWorkspace();
  const std::string marker = "qv" + std::to_string(::getpid());
  constexpr int kSenders = 8, kBatches = 6, kRecords = 250;
  std::vector<std::thread> senders;
  std::atomic<int> accepted{0};
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::string body = R"({"records":[)";
        for (int i = 0; i < kRecords; ++i) {
          if (i > 0) body += ',';
          body += R"({"title":"Ledger )" + marker + " lock wait timeout on shard " +
                  std::to_string(t * 1000 + b * kRecords + i) + R"(","external_id":")" +
                  UniqueSuffix() + "\"}";
        }
        body += "]}";
        HttpResponse r = http.Post("/v1/ingest/batch", body);
        if (HasStatus(r, 202)) accepted += Json::Parse(r.body).Int("/accepted").value_or(0);
      }
    });
  }
  for (auto& t : senders) t.join();
  ASSERT_EQ(accepted.load(), kSenders * kBatches * kRecords);
  Json list = GetJson(http, "/v1/patterns?q=" + marker);
  ASSERT_EQ(list.Int("/page/total"), 1) << list.Raw("");
  EXPECT_EQ(list.Int("/data/0/issue_count"), kSenders * kBatches * kRecords);
  std::string id = list.Str("/data/0/id").value_or("");
  EXPECT_EQ(GetJson(http, "/v1/patterns/" + id).Int("/issue_count"),
            kSenders * kBatches * kRecords);
}

TEST_F(PatternsTest, PatternEventsAreInTheLog) {
  Http http = FreshWorkspace();
  Ingested a = Ingest(http, Event("Certificate for shop.example.com expires in 5 days"));
  Ingest(http, Event("Certificate for www.example.com expires in 9 days"));
  Json events = GetJson(http, "/v1/events?after=0&limit=100");
  int detected = 0, updated = 0;
  for (auto e : Elements(*events.At("/data"))) {
    std::string type = StrOf(e, "/type").value_or("");
    if (StrOf(e, "/data/pattern/id") != a.pattern_id) continue;
    if (type == "pattern.detected") ++detected;
    if (type == "pattern.updated") {
      ++updated;
      EXPECT_EQ(IntOf(e, "/data/pattern/issue_count"), 2);
    }
  }
  EXPECT_EQ(detected, 1) << events.Raw("");
  EXPECT_EQ(updated, 1) << events.Raw("");
}

TEST_F(PatternsTest, SimilarIssuesRankTheSameFailureFirst) {
  Http http = FreshWorkspace();
  const std::string npe_body =
      "java.lang.NullPointerException: Cannot invoke \\\"Card.token()\\\" because \\\"card\\\" "
      "is null\\n\\tat com.shop.payments.ChargeService.charge(ChargeService.java:88)\\n\\tat "
      "com.shop.payments.CheckoutController.pay(CheckoutController.java:41)";
  Ingested target = Ingest(http, Event("NullPointerException in ChargeService.charge",
                                       R"(,"service":"payments","body":")" + npe_body + "\""));
  Ingested same =
      Ingest(http, Event("Payments failing with NPE at checkout",
                         R"(,"service":"payments","source":"jira","body":")" + npe_body + "\""));
  Ingest(http, Event("IllegalStateException in ChargeService.refund",
                     R"(,"service":"payments","body":"java.lang.IllegalStateException: refund )"
                     R"(window closed\n\tat com.shop.payments.RefundService.refund(RefundService)"
                     ".java:19)\""));
  Ingest(http, Event("Disk full on web-3 (/var/log 99%)", R"(,"service":"web")"));

  Json similar = GetJson(http, "/v1/issues/" + target.issue_id + "/similar?limit=3");
  ASSERT_EQ(similar.Size("/data"), 3u) << similar.Raw("");
  EXPECT_EQ(similar.Str("/data/0/issue/id"), same.issue_id) << similar.Raw("");
  // Scores are in [0, 1] and descending.
  double prev = 1.0;
  for (size_t i = 0; i < similar.Size("/data").value_or(0); ++i) {
    double s = similar.Num("/data/" + std::to_string(i) + "/similarity").value_or(-1);
    EXPECT_GE(s, 0.0);
    EXPECT_LE(s, prev);
    prev = s;
  }
  EXPECT_TRUE(IsErrorEnvelope(http.Get("/v1/issues/" + target.issue_id + "/similar?limit=0"), 400,
                              "validation_error"));
}

TEST_F(PatternsTest, ExplanationNamesTheTemplateScoreAndTokens) {
  Http http = FreshWorkspace();
  Ingest(http, Event("High latency on search-api: p99 4200 ms"));
  Ingested b = Ingest(http, Event("High latency on search-api: p99 880 ms"));
  Json why = GetJson(http, "/v1/issues/" + b.issue_id + "/pattern-explanation");
  EXPECT_EQ(why.Str("/method"), "engine") << why.Raw("");
  EXPECT_EQ(why.Str("/pattern_id"), b.pattern_id);
  EXPECT_NE(why.Str("/template").value_or("").find("latency"), std::string::npos) << why.Raw("");
  EXPECT_GT(why.Size("/matched_tokens").value_or(0), 2u) << why.Raw("");
  std::optional<int64_t> fp_len = static_cast<int64_t>(why.Str("/fingerprint").value_or("").size());
  EXPECT_EQ(fp_len, 16);
  double score = why.Num("/score").value_or(-1);
  EXPECT_GT(score, 0.0);
  EXPECT_LE(score, 1.0);
}

// Assignments after a kill -9 and restart are exactly those of a server that never stopped:
// the engine state is persisted with every assignment.
TEST(PatternsRestartTest, RestartGivesIdenticalAssignments) {
  std::vector<std::string> titles;
  const char* shapes[] = {"Connection refused to db-%d.prod:5432",
                          "Disk full on node-%d (/var/lib/kafka)",
                          "Pod checkout-%d CrashLoopBackOff",
                          "High latency on api-%d: p99 %d ms",
                          "Queue orders-%d depth %d above limit",
                          "Certificate for shop-%d.example.com expires in %d days",
                          "Replication lag %ds on pg-replica-%d",
                          "Deploy of search v1.%d.%d failed health checks"};
  for (int i = 0; i < 64; ++i) {
    char buf[160];
    std::snprintf(buf, sizeof buf, shapes[(i * 5 + i / 8) % 8], 1 + i * 7 % 23, 10 + i * 37 % 900);
    titles.emplace_back(buf);
  }
  // The partition of titles[k] into patterns, as first-occurrence indexes.
  auto run = [&](bool restart_midway) {
    ServerProcess server;
    EXPECT_TRUE(server.Start());
    std::optional<Credentials> c = server.Bootstrap();
    EXPECT_TRUE(c);
    std::vector<int> partition;
    std::map<std::string, int> first;
    for (size_t k = 0; k < titles.size(); ++k) {
      if (restart_midway && k == titles.size() / 2) {
        EXPECT_TRUE(server.Restart());
      }
      Http http(server.BaseUrl(), c ? c->token : "");
      std::string id = Ingest(http, Event(titles[k])).pattern_id;
      partition.push_back(first.emplace(id, static_cast<int>(k)).first->second);
    }
    return partition;
  };
  std::vector<int> straight = run(false);
  std::vector<int> restarted = run(true);
  EXPECT_EQ(straight, restarted);
  std::set<int> groups(straight.begin(), straight.end());
  EXPECT_GT(groups.size(), 4u);
  EXPECT_LT(groups.size(), 20u);
}

}  // namespace
}  // namespace causeloop::e2e

// Ingestion through POST /v1/ingest/events and /v1/ingest/batch, read back through the
// issue API (SPEC §5.1, §5.2).

#include <set>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

class IngestTest : public ServerTest<IngestTest> {
 protected:
  Json GetIssue(const Http& http, const std::string& id) {
    HttpResponse r = http.Get("/v1/issues/" + id);
    EXPECT_TRUE(HasStatus(r, 200)) << "GET /v1/issues/" << id;
    return Json::Parse(r.body);
  }
  static std::string Total(const Http& http) {
    return Json::Parse(http.Get("/v1/issues").body).Raw("/page/total");
  }
};

TEST_F(IngestTest, SingleEventAnswers202WithTheIssueJobAndPattern) {
  const std::string ext = "pd-" + UniqueSuffix();

  HttpResponse r = http_.Post("/v1/ingest/events",
                              R"({"source":"pagerduty","external_id":")" + ext +
                                  R"(","title":"Checkout API 5xx spike","severity":"high"})");

  ASSERT_TRUE(HasStatus(r, 202));
  Json j = Json::Parse(r.body);
  EXPECT_EQ(j.Int("/accepted"), 1);
  EXPECT_EQ(j.Size("/rejected"), 0u);
  EXPECT_EQ(j.Str("/issue_id").value_or("").rfind("iss_", 0), 0u) << r.body;
  EXPECT_EQ(j.Str("/job_id").value_or("").rfind("ing_job_", 0), 0u) << r.body;
  EXPECT_EQ(j.Bool("/deduplicated"), false);
  ASSERT_TRUE(j.Has("/pattern_id")) << r.body;
  EXPECT_TRUE(j.IsNull("/pattern_id") || j.Str("/pattern_id").value_or("").rfind("pat_", 0) == 0)
      << r.body;
}

TEST_F(IngestTest, SingleEventIsReadBackWithNormalizedFields) {
  const std::string ext = "pd-" + UniqueSuffix();
  const std::string id = IngestEvent(
      http_, R"({"source":"pagerduty","external_id":")" + ext +
                 R"(","title":"Checkout API 5xx spike","body":"upstream timed out after 30s",)"
                 R"("severity":"high","service":"checkout","environment":"prod","team":"payments",)"
                 R"("labels":{"region":"eu-west-1"},"external_url":"https://pd.example/i/1"})");
  ASSERT_FALSE(id.empty());

  Json issue = GetIssue(http_, id);

  EXPECT_EQ(issue.Str("/id"), id);
  EXPECT_EQ(issue.Str("/source"), "pagerduty");
  EXPECT_EQ(issue.Str("/external_id"), ext);
  EXPECT_EQ(issue.Str("/title"), "Checkout API 5xx spike");
  EXPECT_EQ(issue.Str("/body"), "upstream timed out after 30s");
  EXPECT_EQ(issue.Str("/severity"), "p2");
  EXPECT_EQ(issue.Str("/status"), "open");
  EXPECT_EQ(issue.Str("/service"), "checkout");
  EXPECT_EQ(issue.Str("/environment"), "prod");
  EXPECT_EQ(issue.Str("/team"), "payments");
  EXPECT_EQ(issue.Str("/labels/region"), "eu-west-1");
  EXPECT_EQ(issue.Str("/external_url"), "https://pd.example/i/1");
  EXPECT_EQ(issue.Int("/occurrences"), 1);
  EXPECT_EQ(issue.Bool("/title_truncated"), false);
}

TEST_F(IngestTest, SeverityVocabulariesMapToCanonicalLevels) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("critical")", "p1"}, {R"("high")", "p2"}, {R"("medium")", "p3"}, {R"("low")", "p4"},
      {R"("info")", "p4"},     {R"("P1")", "p1"},   {"2", "p2"},           {R"("p4")", "p4"}};
  for (const auto& [input, expected] : cases) {
    const std::string id =
        IngestEvent(http_, R"({"title":"sev )" + UniqueSuffix() + R"(","severity":)" + input + "}");
    ASSERT_FALSE(id.empty()) << input;
    EXPECT_EQ(GetIssue(http_, id).Str("/severity"), expected) << "severity " << input;
  }
  const std::string plain =
      IngestEvent(http_, R"({"title":"no severity )" + UniqueSuffix() + "\"}");
  EXPECT_EQ(GetIssue(http_, plain).Str("/severity"), "p3") << "the default";
}

TEST_F(IngestTest, UnknownSourceIsStoredAsCustomApiKeepingTheOriginalInSourceRaw) {
  const std::string id =
      IngestEvent(http_, R"({"source":"homegrown-monitor","external_id":"hg-)" + UniqueSuffix() +
                             R"(","title":"Disk almost full"})");
  ASSERT_FALSE(id.empty());

  Json issue = GetIssue(http_, id);

  EXPECT_EQ(issue.Str("/source"), "custom_api");
  EXPECT_EQ(issue.Str("/source_raw"), "homegrown-monitor");
}

TEST_F(IngestTest, OverlongTitleIsTruncatedTo300CharactersAndFlagged) {
  std::string title;
  for (int i = 0; i < 45; ++i) title += "0123456789";  // 450 chars

  const std::string id = IngestEvent(http_, R"({"title":")" + title + "\"}");
  ASSERT_FALSE(id.empty());
  Json issue = GetIssue(http_, id);

  EXPECT_EQ(issue.Str("/title"), title.substr(0, 300));
  EXPECT_EQ(issue.Bool("/title_truncated"), true);
}

TEST_F(IngestTest, TitleFallsBackToTheExternalId) {
  const std::string ext = "only-ext-" + UniqueSuffix();

  const std::string id = IngestEvent(http_, R"({"source":"github","external_id":")" + ext + "\"}");
  ASSERT_FALSE(id.empty());

  EXPECT_EQ(GetIssue(http_, id).Str("/title"), ext);
}

TEST_F(IngestTest, ResentSourceAndExternalIdUpdatesTheSameIssue) {
  Http ws = FreshWorkspace();
  const std::string ext = "gh-" + UniqueSuffix();
  const std::string first =
      IngestEvent(ws, R"({"source":"github","external_id":")" + ext +
                          R"(","title":"Flaky test in CI","severity":"low","service":"ci"})");
  ASSERT_FALSE(first.empty());

  HttpResponse r = ws.Post(
      "/v1/ingest/events",
      R"({"source":"github","external_id":")" + ext +
          R"j(","title":"Flaky test in CI (again)","severity":"critical","service":"ci"})j");

  ASSERT_TRUE(HasStatus(r, 202));
  Json j = Json::Parse(r.body);
  EXPECT_EQ(j.Str("/issue_id"), first);
  EXPECT_EQ(j.Bool("/deduplicated"), true);
  Json issue = GetIssue(ws, first);
  EXPECT_EQ(issue.Int("/occurrences"), 2);
  EXPECT_EQ(issue.Str("/title"), "Flaky test in CI (again)");
  EXPECT_EQ(issue.Str("/severity"), "p1");
  EXPECT_EQ(Total(ws), "1") << "the re-send must not create a second issue";
}

TEST_F(IngestTest, SameExternalIdFromAnotherSourceIsADifferentIssue) {
  const std::string ext = "shared-" + UniqueSuffix();
  const std::string a =
      IngestEvent(http_, R"({"source":"jira","external_id":")" + ext + R"(","title":"a"})");
  const std::string b =
      IngestEvent(http_, R"({"source":"sentry","external_id":")" + ext + R"(","title":"b"})");

  EXPECT_FALSE(a.empty());
  EXPECT_NE(a, b);
}

TEST_F(IngestTest, BatchStoresEveryRecordAndEachIsReadBack) {
  const std::string s = UniqueSuffix();
  HttpResponse r = http_.Post(
      "/v1/ingest/batch",
      R"({"records":[{"source":"datadog","external_id":"dd-)" + s +
          R"(","title":"CPU high on web-1","severity":"critical"},)"
          R"({"source":"sentry","external_id":"se-)" +
          s +
          R"(","title":"NullPointerException in Cart","severity":"low","labels":{"release":"1.2.3"}},)"
          R"({"title":"Manual report )" +
          s + R"(","severity":"high","source":"acme-tool"}]})");

  ASSERT_TRUE(HasStatus(r, 202));
  Json j = Json::Parse(r.body);
  EXPECT_EQ(j.Int("/accepted"), 3);
  EXPECT_EQ(j.Size("/rejected"), 0u);
  EXPECT_EQ(j.Str("/job_id").value_or("").rfind("ing_job_", 0), 0u) << r.body;
  ASSERT_EQ(j.Size("/results"), 3u) << r.body;
  const std::vector<std::tuple<std::string, std::string, std::string>> expected = {
      {"CPU high on web-1", "p1", "datadog"},
      {"NullPointerException in Cart", "p4", "sentry"},
      {"Manual report " + s, "p2", "custom_api"}};
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const std::string p = "/results/" + std::to_string(i);
    ASSERT_EQ(j.Int(p + "/index"), i) << r.body;
    const std::string id = j.Str(p + "/issue_id").value_or("");
    ids.insert(id);
    Json issue = GetIssue(http_, id);
    EXPECT_EQ(issue.Str("/title"), std::get<0>(expected[i]));
    EXPECT_EQ(issue.Str("/severity"), std::get<1>(expected[i]));
    EXPECT_EQ(issue.Str("/source"), std::get<2>(expected[i]));
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(GetIssue(http_, j.Str("/results/2/issue_id").value_or("")).Str("/source_raw"),
            "acme-tool");
  EXPECT_EQ(GetIssue(http_, j.Str("/results/1/issue_id").value_or("")).Str("/labels/release"),
            "1.2.3");
}

TEST_F(IngestTest, BatchRejectsExactlyTheBadRecordsWithIndexReasonAndFieldAndStoresTheRest) {
  Http ws = FreshWorkspace();
  const std::string s = UniqueSuffix();
  const std::string body =
      R"({"records":[)"
      R"({"title":"good zero )" +
      s +
      R"("},)"               // 0 ok
      R"("not an object",)"  // 1
      R"({"title":42},)"     // 2 title
      R"({"title":"good three )" +
      s +
      R"(","severity":"p1"},)"                                            // 3 ok
      R"({"title":"bad labels","labels":"env=prod"},)"                    // 4 labels
      R"({"title":"bad label value","labels":{"env":5}},)"                // 5 labels
      R"({"title":"bad severity","severity":"catastrophic"},)"            // 6 severity
      R"({"title":"bad time","source_created_at":"yesterday at noon"},)"  // 7 timestamp
      R"({"body":"no title, no external id","source":"jira"},)"           // 8 title/external_id
      R"({"source":"jira","external_id":"good-nine-)" +
      s + R"("}]})";  // 9 ok

  HttpResponse r = ws.Post("/v1/ingest/batch", body);

  ASSERT_TRUE(HasStatus(r, 202));
  Json j = Json::Parse(r.body);
  EXPECT_EQ(j.Int("/accepted"), 3) << r.body;
  const std::map<int64_t, std::vector<std::string>> expected_fields = {
      {1, {}},
      {2, {"title"}},
      {4, {"labels"}},
      {5, {"labels", "labels.env", "labels/env", "labels[env]"}},
      {6, {"severity"}},
      {7, {"source_created_at"}},
      {8, {"title", "external_id"}}};
  auto rejected = j.At("/rejected");
  ASSERT_TRUE(rejected && rejected->is_array()) << r.body;
  std::set<int64_t> rejected_indexes;
  for (auto item : Elements(*rejected)) {
    const int64_t index = IntOf(item, "/index").value_or(-1);
    rejected_indexes.insert(index);
    EXPECT_FALSE(StrOf(item, "/reason").value_or("").empty()) << RawOf(item);
    auto it = expected_fields.find(index);
    if (it == expected_fields.end()) {
      ADD_FAILURE() << "a good record was rejected: " << RawOf(item);
      continue;
    }
    if (!it->second.empty()) {
      const std::string field = StrOf(item, "/field").value_or("<missing>");
      EXPECT_NE(std::find(it->second.begin(), it->second.end(), field), it->second.end())
          << "record " << index << " rejected with field '" << field << "': " << RawOf(item);
    }
  }
  EXPECT_EQ(rejected_indexes, (std::set<int64_t>{1, 2, 4, 5, 6, 7, 8})) << r.body;
  ASSERT_EQ(j.Size("/results"), 3u) << r.body;
  const std::vector<std::pair<int64_t, std::string>> stored = {
      {0, "good zero " + s}, {3, "good three " + s}, {9, "good-nine-" + s}};
  for (size_t i = 0; i < stored.size(); ++i) {
    const std::string p = "/results/" + std::to_string(i);
    EXPECT_EQ(j.Int(p + "/index"), stored[i].first) << r.body;
    HttpResponse got = ws.Get("/v1/issues/" + j.Str(p + "/issue_id").value_or("none"));
    ASSERT_TRUE(HasStatus(got, 200));
    EXPECT_EQ(Json::Parse(got.body).Str("/title"), stored[i].second);
  }
  EXPECT_EQ(Total(ws), "3") << "rejected records must not be stored";
}

TEST_F(IngestTest, EmptyBatchIsRejectedWith400) {
  Http ws = FreshWorkspace();

  HttpResponse r = ws.Post("/v1/ingest/batch", R"({"records":[]})");

  EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error"));
}

TEST_F(IngestTest, BatchOf501RecordsIsRejectedWith400AndStoresNothing) {
  Http ws = FreshWorkspace();
  std::string body = R"({"records":[)";
  for (int i = 0; i < 501; ++i) {
    body += (i ? "," : "") + std::string(R"({"title":"r)") + std::to_string(i) + "\"}";
  }
  body += "]}";

  HttpResponse r = ws.Post("/v1/ingest/batch", body);

  EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error"));
  EXPECT_EQ(Total(ws), "0");
}

TEST_F(IngestTest, BatchOf500RecordsIsAccepted) {
  Http ws = FreshWorkspace();
  const std::string s = UniqueSuffix();
  std::string body = R"({"records":[)";
  for (int i = 0; i < 500; ++i) {
    body += (i ? "," : "") + std::string(R"({"title":"r)") + std::to_string(i) + " " + s + "\"}";
  }
  body += "]}";

  HttpResponse r = ws.Post("/v1/ingest/batch", body);

  ASSERT_TRUE(HasStatus(r, 202));
  EXPECT_EQ(Json::Parse(r.body).Int("/accepted"), 500);
  EXPECT_EQ(Total(ws), "500");
}

TEST_F(IngestTest, IngestStatusReportsTheJobOfABatch) {
  HttpResponse r = http_.Post(
      "/v1/ingest/batch", R"({"records":[{"title":"ok )" + UniqueSuffix() + R"("},{"title":7}]})");
  ASSERT_TRUE(HasStatus(r, 202));
  const std::string job = Json::Parse(r.body).Str("/job_id").value_or("");

  HttpResponse status = http_.Get("/v1/ingest/status/" + job);

  ASSERT_TRUE(HasStatus(status, 200));
  Json j = Json::Parse(status.body);
  EXPECT_EQ(j.Str("/id"), job);
  EXPECT_EQ(j.Str("/status"), "partial");
  EXPECT_EQ(j.Int("/accepted"), 1);
  // `rejected` is a count or the list of rejections.
  EXPECT_TRUE(j.Int("/rejected") == 1 || j.Size("/rejected") == 1u) << status.body;
}

}  // namespace
}  // namespace causeloop::e2e

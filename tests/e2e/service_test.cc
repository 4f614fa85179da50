// Running the service (SPEC §2): probes, metrics, the admin CLI against a live server, and a
// graceful stop.

#include <fstream>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

class ServiceTest : public ServerTest<ServiceTest> {};

TEST_F(ServiceTest, HealthIs200WithoutAToken) {
  HttpResponse r = suite_->AnonymousHttp().Get("/health");

  EXPECT_TRUE(HasStatus(r, 200));
  EXPECT_FALSE(r.Header("x-request-id").empty());
}

TEST_F(ServiceTest, ReadyIs200WithoutAToken) {
  EXPECT_TRUE(HasStatus(suite_->AnonymousHttp().Get("/ready"), 200));
}

TEST_F(ServiceTest, MetricsExposeHttpRequestsTotalInPrometheusFormat) {
  http_.Get("/v1/issues");  // at least one counted request

  HttpResponse r = suite_->AnonymousHttp().Get("/metrics");

  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(r.Header("content-type").rfind("text/plain", 0), 0u) << r.Header("content-type");
  EXPECT_NE(r.body.find("\nhttp_requests_total"), std::string::npos) << r.body.substr(0, 2000);
  EXPECT_NE(r.body.find("# TYPE http_requests_total counter"), std::string::npos);
}

TEST_F(ServiceTest, MetricsNeverContainATokenSecret) {
  http_.Get("/v1/issues");

  HttpResponse r = suite_->AnonymousHttp().Get("/metrics");

  EXPECT_EQ(r.body.find(admin().token), std::string::npos);
}

TEST_F(ServiceTest, BootstrapWhileTheServerRunsCreatesAWorkspaceWhoseTokenWorksAtOnce) {
  std::optional<Credentials> fresh = server().Bootstrap();
  ASSERT_TRUE(fresh);

  HttpResponse r = http_.WithToken(fresh->token).Get("/v1/issues");

  EXPECT_EQ(fresh->organization_id.rfind("org_", 0), 0u) << fresh->organization_id;
  EXPECT_EQ(fresh->workspace_id.rfind("ws_", 0), 0u) << fresh->workspace_id;
  EXPECT_EQ(fresh->token.rfind("clp_", 0), 0u);
  EXPECT_NE(fresh->organization_id, admin().organization_id);
  EXPECT_NE(fresh->workspace_id, admin().workspace_id);
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json::Parse(r.body).Int("/page/total"), 0);
  EXPECT_TRUE(HasStatus(http_.Get("/v1/issues"), 200)) << "the first token still works";
}

TEST_F(ServiceTest, BootstrapTokenHasEveryScope) {
  std::optional<Credentials> fresh = server().Bootstrap();
  ASSERT_TRUE(fresh);
  Http http = http_.WithToken(fresh->token);

  EXPECT_TRUE(HasStatus(http.Get("/v1/api-tokens"), 200));
  EXPECT_TRUE(HasStatus(http.Get("/v1/events?after=0"), 200));
  EXPECT_TRUE(HasStatus(http.Post("/v1/ingest/events", R"({"title":"scoped"})"), 202));
}

TEST_F(ServiceTest, CreateTokenWhileTheServerRunsGrantsExactlyTheGivenScopes) {
  std::optional<CreatedToken> t =
      server().CreateToken(admin().workspace_id, {"issues:read", "events:read"}, "cli");
  ASSERT_TRUE(t);
  Http http = http_.WithToken(t->token);

  EXPECT_EQ(t->id.rfind("tok_", 0), 0u) << t->id;
  EXPECT_TRUE(HasStatus(http.Get("/v1/issues"), 200));
  EXPECT_TRUE(HasStatus(http.Get("/v1/events?after=0"), 200));
  EXPECT_TRUE(
      IsErrorEnvelope(http.Post("/v1/ingest/events", R"({"title":"x"})"), 403, "forbidden"));
}

TEST(ServiceLifecycleTest, FirstStartOnAnEmptyDataDirCreatesAWorkspaceAndPrintsAToken) {
  ServerProcess server;

  ASSERT_TRUE(server.Start());

  EXPECT_TRUE(HasStatus(Http(server.BaseUrl()).Get("/ready"), 200));
  EXPECT_NE(server.LogTail(100000).find("clp_"), std::string::npos)
      << "no one-time admin token printed on first start:\n"
      << server.LogTail();
}

TEST(ServiceLifecycleTest, SigtermStopsGracefullyWithExitZeroAndDataSurvivesARestart) {
  ServerProcess server;
  std::optional<Credentials> c = server.Bootstrap();
  ASSERT_TRUE(c);
  ASSERT_TRUE(server.Start());
  const std::string id = IngestEvent(Http(server.BaseUrl(), c->token), R"({"title":"survivor"})");
  ASSERT_FALSE(id.empty());

  EXPECT_TRUE(server.Terminate(15s));
  ASSERT_TRUE(server.Start());

  HttpResponse r = Http(server.BaseUrl(), c->token).Get("/v1/issues/" + id);
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json::Parse(r.body).Str("/title"), "survivor");
}

TEST(ServiceLifecycleTest, ImportLoadsJsonlReportsBadLinesAndTheServerServesTheIssues) {
  ServerProcess server;
  std::optional<Credentials> c = server.Bootstrap();
  ASSERT_TRUE(c);
  const std::string file = server.root_dir() + "/issues.jsonl";
  {
    std::ofstream out(file);
    out << R"({"source":"jira","external_id":"OPS-1","title":"Disk full on db-7"})"
        << "\n";
    out << "\n";  // blank lines are skipped
    out << R"({"source":"jira","external_id":"OPS-2","title":"Checkout 500s","severity":"high"})"
        << "\n";
    out << R"({"source":"jira","external_id":"OPS-1","title":"Disk full on db-7 again"})"
        << "\n";
    out << R"({"title": 42})"
        << "\n";          // rejected: non-string title
    out << "not json\n";  // rejected: malformed
  }
  ProcessResult r =
      RunCli({"import", file, "--data-dir", server.data_dir(), "--workspace", c->workspace_id});
  EXPECT_EQ(r.exit_code, 3) << r.stderr_text;  // 3: some lines were rejected
  Json summary = Json::Parse(r.stdout_text);
  EXPECT_EQ(summary.Int("/lines"), 5);
  EXPECT_EQ(summary.Int("/accepted"), 3);
  EXPECT_EQ(summary.Int("/rejected"), 2);
  EXPECT_EQ(summary.Int("/created"), 2);
  EXPECT_EQ(summary.Int("/deduplicated"), 1);
  EXPECT_NE(r.stderr_text.find("line 5 rejected"), std::string::npos) << r.stderr_text;

  ASSERT_TRUE(server.Start());
  HttpResponse list = Http(server.BaseUrl(), c->token).Get("/v1/issues?source=jira");
  ASSERT_TRUE(HasStatus(list, 200));
  Json page = Json::Parse(list.body);
  EXPECT_EQ(page.Int("/page/total"), 2);
}

}  // namespace
}  // namespace causeloop::e2e

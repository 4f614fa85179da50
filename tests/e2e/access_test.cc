// Tenancy and scopes (SPEC §3): another workspace's objects are 404 on every route that takes
// an id, and every route refuses a token without its scope with 403. The routes are a table.

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

const std::vector<std::string> kAllScopes = {
    "issues:read",      "issues:write",         "patterns:read",         "patterns:write",
    "predictions:read", "recommendations:read", "recommendations:write", "ingest:write",
    "connectors:read",  "connectors:admin",     "webhooks:read",         "webhooks:admin",
    "events:read",      "tokens:admin",         "workspace:admin"};

// Placeholders in paths and bodies: {issue}, {job}, {token}, {pattern} (the issue's pattern),
// {pattern2} (another pattern) — ids of objects the test owns — and {unique} (a fresh suffix).
struct Route {
  std::string method;
  std::string path;
  std::string scope;  // the scope the route requires
  std::string body;   // "" for none
};

const char* kJiraIssue =
    R"({"id":"{unique}","key":"OPS-{unique}","self":"https://acme.atlassian.net/rest/api/3/issue/1",
  "fields":{"summary":"Login page returns 500","description":"Stack trace attached",
  "issuetype":{"name":"Bug"},"priority":{"name":"High"},
  "status":{"name":"Open","statusCategory":{"key":"new"}},
  "created":"2024-05-01T10:00:00.000+0000","updated":"2024-05-01T10:05:00.000+0000"}})";

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/v1/issues", "issues:read", ""},
      {"POST", "/v1/issues", "issues:write",
       R"({"title":"manual {unique}","source":"custom_api","external_id":"manual-{unique}"})"},
      {"GET", "/v1/issues/{issue}", "issues:read", ""},
      {"PATCH", "/v1/issues/{issue}", "issues:write", R"({"status":"in_progress"})"},
      {"POST", "/v1/issues/{issue}/resolve", "issues:write",
       R"({"summary":"fixed","fix":"restarted the pool","fix_url":"https://example.com/pr/1"})"},
      {"POST", "/v1/issues/bulk", "issues:write", R"({"ids":["{issue}"],"status":"in_progress"})"},
      {"POST", "/v1/ingest/events", "ingest:write", R"({"title":"event {unique}"})"},
      {"POST", "/v1/ingest/batch", "ingest:write", R"({"records":[{"title":"batch {unique}"}]})"},
      {"GET", "/v1/ingest/status/{job}", "ingest:write", ""},
      {"POST", "/v1/ingest/jira/issues", "ingest:write", kJiraIssue},
      {"GET", "/v1/issues/{issue}/similar", "issues:read", ""},
      {"GET", "/v1/issues/{issue}/pattern-explanation", "issues:read", ""},
      {"POST", "/v1/issues/{issue}/link-pattern", "issues:write", R"({"pattern_id":"{pattern2}"})"},
      {"POST", "/v1/issues/{issue}/unlink-pattern", "issues:write", ""},
      {"GET", "/v1/patterns", "patterns:read", ""},
      {"GET", "/v1/patterns/{pattern}", "patterns:read", ""},
      {"GET", "/v1/patterns/{pattern}/issues", "patterns:read", ""},
      {"PATCH", "/v1/patterns/{pattern}", "patterns:write", R"({"title":"renamed {unique}"})"},
      {"POST", "/v1/patterns/{pattern}/merge", "patterns:write", R"({"into":"{pattern2}"})"},
      {"GET", "/v1/events?after=0", "events:read", ""},
      {"GET", "/v1/api-tokens", "tokens:admin", ""},
      {"GET", "/v1/api-tokens/scopes", "tokens:admin", ""},
      {"POST", "/v1/api-tokens", "tokens:admin",
       R"({"name":"made {unique}","scopes":["tokens:admin"]})"},
      {"POST", "/v1/api-tokens/{token}/rotate", "tokens:admin", R"({"grace_seconds":0})"},
      {"DELETE", "/v1/api-tokens/{token}", "tokens:admin", ""},
      {"POST", "/v1/webhooks", "webhooks:admin",
       R"({"url":"https://hooks.example.com/{unique}","event_types":["ping"]})"},
      {"POST", "/v1/webhook-subscriptions", "webhooks:admin",
       R"({"url":"https://hooks.example.com/s/{unique}","events":["ping"]})"},
      {"GET", "/v1/webhooks", "webhooks:read", ""},
      {"GET", "/v1/webhooks/{webhook}", "webhooks:read", ""},
      {"PATCH", "/v1/webhooks/{webhook}", "webhooks:admin", R"({"description":"d {unique}"})"},
      {"POST", "/v1/webhooks/{webhook}/test", "webhooks:admin", ""},
      {"GET", "/v1/webhooks/{webhook}/deliveries", "webhooks:read", ""},
      {"POST", "/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver", "webhooks:admin", ""},
      {"POST", "/v1/webhooks/{webhook}/recover", "webhooks:admin",
       R"({"since":"2020-01-01T00:00:00Z"})"},
      {"POST", "/v1/webhooks/{webhook}/rotate-secret", "webhooks:admin", R"({"grace_seconds":60})"},
      {"DELETE", "/v1/webhooks/{webhook}", "webhooks:admin", ""},
      {"POST", "/v1/connectors", "connectors:admin",
       R"({"type":"alertmanager","display_name":"made {unique}"})"},
      {"GET", "/v1/connectors", "connectors:read", ""},
      {"GET", "/v1/connectors/{connector}", "connectors:read", ""},
      {"PATCH", "/v1/connectors/{connector}", "connectors:admin",
       R"({"display_name":"renamed {unique}"})"},
      {"POST", "/v1/connectors/{connector}/inbound", "connectors:admin", R"({"enabled":true})"},
      {"POST", "/v1/connectors/{connector}/inbound/rotate-secret", "connectors:admin",
       R"({"grace_seconds":60})"},
      {"DELETE", "/v1/connectors/{connector}", "connectors:admin", ""},
      {"GET", "/v1/settings/alert-webhooks", "workspace:admin", ""},
      {"PATCH", "/v1/settings/alert-webhooks", "workspace:admin",
       R"({"providers":{"datadog":{"require_signature":true}}})"},
      {"POST", "/v1/settings/alert-webhooks/rotate-secret", "workspace:admin",
       R"({"grace_seconds":60})"},
  };
  return routes;
}

std::string Fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    for (size_t at; (at = text.find(key)) != std::string::npos;)
      text.replace(at, key.size(), value);
  }
  return text;
}

// Every scope except `scope` and the ":admin" scope of its resource (which would imply it).
std::vector<std::string> AllScopesExcept(const std::string& scope) {
  const std::string admin_of_resource = scope.substr(0, scope.find(':')) + ":admin";
  std::vector<std::string> out;
  for (const auto& s : kAllScopes) {
    if (s != scope && s != admin_of_resource) out.push_back(s);
  }
  return out;
}

class AccessTest : public ServerTest<AccessTest> {
 protected:
  // Objects owned by workspace `http`: an issue, a batch job and a spare token.
  std::map<std::string, std::string> MakeObjects(const Http& http) {
    std::map<std::string, std::string> ids;
    const std::string u = UniqueSuffix();
    ids["{unique}"] = u;
    ids["{issue}"] = IngestEvent(http, R"({"title":"owned )" + u + R"(","severity":"low"})");
    ids["{pattern}"] =
        Json::Parse(http.Get("/v1/issues/" + ids["{issue}"]).body).Str("/pattern_id").value_or("");
    std::string other = IngestEvent(
        http,
        R"({"title":"Certificate for api.example.com expires soon","body":"x509 )" + u + R"("})");
    ids["{pattern2}"] =
        Json::Parse(http.Get("/v1/issues/" + other).body).Str("/pattern_id").value_or("");
    EXPECT_FALSE(ids["{pattern}"].empty());
    HttpResponse batch =
        http.Post("/v1/ingest/batch", R"({"records":[{"title":"job )" + u + "\"}]}");
    EXPECT_TRUE(HasStatus(batch, 202));
    ids["{job}"] = Json::Parse(batch.body).Str("/job_id").value_or("ing_job_missing");
    HttpResponse token =
        http.Post("/v1/api-tokens", R"({"name":"spare )" + u + R"(","scopes":["issues:read"]})");
    EXPECT_TRUE(HasStatus(token, 201));
    Json t = Json::Parse(token.body);
    ids["{token}"] = t.Str("/id").value_or("tok_missing");
    ids["{token_secret}"] = t.Str("/token").value_or("");
    HttpResponse hook = http.Post("/v1/webhooks", R"({"url":"https://hooks.example.com/)" + u +
                                                      R"(","event_types":["ping"]})");
    EXPECT_TRUE(HasStatus(hook, 201));
    ids["{webhook}"] = Json::Parse(hook.body).Str("/id").value_or("whe_missing");
    HttpResponse ping = http.Post("/v1/webhooks/" + ids["{webhook}"] + "/test", "");
    EXPECT_TRUE(HasStatus(ping, 202));
    ids["{delivery}"] = Json::Parse(ping.body).Str("/id").value_or("whd_missing");
    HttpResponse connector =
        http.Post("/v1/connectors", R"({"type":"github","display_name":"owned )" + u + "\"}");
    EXPECT_TRUE(HasStatus(connector, 201));
    ids["{connector}"] = Json::Parse(connector.body).Str("/id").value_or("con_missing");
    EXPECT_TRUE(HasStatus(
        http.Post("/v1/connectors/" + ids["{connector}"] + "/inbound", R"({"enabled":true})"),
        200));
    return ids;
  }
};

TEST_F(AccessTest, EveryRouteTakingAnIdAnswers404ToAnotherWorkspacesToken) {
  std::map<std::string, std::string> owned = MakeObjects(http_);
  Http other = FreshWorkspace();  // every scope, other workspace

  int checked = 0;
  for (const Route& route : Routes()) {
    if (route.path.find("{issue}") == std::string::npos &&
        route.path.find("{job}") == std::string::npos &&
        route.path.find("{token}") == std::string::npos &&
        route.path.find("{pattern}") == std::string::npos &&
        route.path.find("{webhook}") == std::string::npos &&
        route.path.find("{connector}") == std::string::npos) {
      continue;
    }
    ++checked;
    const std::string path = Fill(route.path, owned);
    HttpResponse r = other.Request(route.method, path, Fill(route.body, owned));
    EXPECT_TRUE(IsErrorEnvelope(r, 404, "not_found")) << route.method << " " << path;
  }
  EXPECT_EQ(checked, 27);

  // Nothing the other workspace tried took effect.
  Json issue = Json::Parse(http_.Get("/v1/issues/" + owned["{issue}"]).body);
  EXPECT_EQ(issue.Str("/status"), "open");
  EXPECT_FALSE(issue.Str("/resolved_at").has_value()) << issue.Raw("");
  EXPECT_TRUE(HasStatus(http_.WithToken(owned["{token_secret}"]).Get("/v1/issues"), 200))
      << "the other workspace rotated or revoked this workspace's token";
  Json connector = Json::Parse(http_.Get("/v1/connectors/" + owned["{connector}"]).body);
  EXPECT_EQ(connector.Str("/display_name"), "owned " + owned["{unique}"]) << connector.Raw("");
  EXPECT_FALSE(connector.Str("/inbound/previous_secret_expires_at").has_value())
      << "the other workspace rotated this workspace's inbound secret";
}

// The table covers every authenticated route the server documents, so a new route cannot
// skip these checks. (The live stream never ends a response: its scope is tested with it.)
TEST_F(AccessTest, TheRouteTableCoversEveryDocumentedRoute) {
  Json doc = Json::Parse(http_.Get("/openapi.json").body);
  // Path segments; a documented "{param}" segment matches any segment of the table's.
  auto segments = [](std::string path) {
    path = path.substr(0, path.find('?'));
    std::vector<std::string> out;
    for (size_t at = 0; at < path.size();) {
      size_t next = path.find('/', at + 1);
      out.push_back(path.substr(at, next - at));
      at = next == std::string::npos ? path.size() : next;
    }
    return out;
  };
  auto covered = [&](const std::string& method, const std::string& doc_path) {
    auto documented_path = segments(doc_path);
    for (const Route& r : Routes()) {
      auto mine = segments(r.path);
      if (r.method != method || mine.size() != documented_path.size()) continue;
      bool same = true;
      for (size_t i = 0; i < documented_path.size() && same; ++i) {
        same = documented_path[i] == mine[i] || documented_path[i].starts_with("/{");
      }
      if (same) return true;
    }
    return false;
  };
  simdjson::dom::object paths;
  ASSERT_EQ(doc.At("/paths")->get_object().get(paths), simdjson::SUCCESS);
  int documented = 0;
  for (auto [path, item] : paths) {
    simdjson::dom::object ops;
    if (item.get_object().get(ops) != simdjson::SUCCESS) continue;
    for (auto [method, op] : ops) {
      std::string_view scope;
      if (op["x-scope"].get(scope) != simdjson::SUCCESS) continue;  // public routes
      if (path == "/v1/notifications/stream") continue;
      std::string m(method);
      for (char& ch : m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      ++documented;
      EXPECT_TRUE(covered(m, std::string(path)))
          << m << " " << path << " is missing from the access table";
    }
  }
  EXPECT_GT(documented, 30);
}

TEST_F(AccessTest, BulkUpdateFromAnotherWorkspaceLeavesTheIssuesAlone) {
  std::map<std::string, std::string> owned = MakeObjects(http_);
  Http other = FreshWorkspace();

  HttpResponse r =
      other.Post("/v1/issues/bulk", R"({"ids":[")" + owned["{issue}"] +
                                        R"("],"status":"closed","assignee":"mallory"})");

  EXPECT_LT(r.status, 500) << r.Describe();
  Json issue = Json::Parse(http_.Get("/v1/issues/" + owned["{issue}"]).body);
  EXPECT_EQ(issue.Str("/status"), "open");
  EXPECT_NE(issue.Str("/assignee"), "mallory");
}

TEST_F(AccessTest, ListsShowOnlyTheCallersWorkspace) {
  std::map<std::string, std::string> owned = MakeObjects(http_);
  Http other = FreshWorkspace();

  std::optional<std::vector<std::string>> issues = ListAll(other, "/v1/issues");
  HttpResponse events = other.Get("/v1/events?after=0&limit=100");
  HttpResponse tokens = other.Get("/v1/api-tokens?limit=100");

  ASSERT_TRUE(issues);
  EXPECT_TRUE(issues->empty()) << "a new workspace sees " << issues->size() << " issues";
  ASSERT_TRUE(HasStatus(events, 200));
  EXPECT_EQ(Json::Parse(events.body).Size("/data"), 0u) << events.body;
  ASSERT_TRUE(HasStatus(tokens, 200));
  EXPECT_EQ(tokens.body.find(owned["{token}"]), std::string::npos) << tokens.body;
}

TEST_F(AccessTest, EveryRouteAnswers403ToATokenWithoutItsScopeAndChangesNothing) {
  Credentials ws;
  Http owner = FreshWorkspace(&ws);
  std::map<std::string, std::string> owned = MakeObjects(owner);
  const std::string issues_before = Json::Parse(owner.Get("/v1/issues").body).Raw("/page/total");
  std::map<std::string, std::string> token_without;  // scope -> token lacking it

  for (const Route& route : Routes()) {
    if (!token_without.count(route.scope)) {
      std::optional<CreatedToken> t =
          server().CreateToken(ws.workspace_id, AllScopesExcept(route.scope), "no-" + route.scope);
      ASSERT_TRUE(t);
      token_without[route.scope] = t->token;
    }
    const std::string path = Fill(route.path, owned);
    HttpResponse r = owner.WithToken(token_without[route.scope])
                         .Request(route.method, path, Fill(route.body, owned));
    EXPECT_TRUE(IsErrorEnvelope(r, 403, "forbidden"))
        << route.method << " " << path << " without " << route.scope;
  }

  EXPECT_EQ(Json::Parse(owner.Get("/v1/issues").body).Raw("/page/total"), issues_before);
  Json issue = Json::Parse(owner.Get("/v1/issues/" + owned["{issue}"]).body);
  EXPECT_EQ(issue.Str("/status"), "open") << "a forbidden PATCH/resolve/bulk took effect";
  EXPECT_TRUE(HasStatus(owner.WithToken(owned["{token_secret}"]).Get("/v1/issues"), 200))
      << "a forbidden rotate/delete took effect";
}

TEST_F(AccessTest, EveryRouteAcceptsATokenWithOnlyItsScope) {
  Credentials ws;
  Http owner = FreshWorkspace(&ws);
  std::map<std::string, std::string> token_with;  // scope -> token holding only it

  for (const Route& route : Routes()) {
    if (!token_with.count(route.scope)) {
      std::optional<CreatedToken> t =
          server().CreateToken(ws.workspace_id, {route.scope}, "only-" + route.scope);
      ASSERT_TRUE(t);
      token_with[route.scope] = t->token;
    }
    std::map<std::string, std::string> owned = MakeObjects(owner);  // fresh: routes mutate
    const std::string path = Fill(route.path, owned);
    HttpResponse r = owner.WithToken(token_with[route.scope])
                         .Request(route.method, path, Fill(route.body, owned));
    EXPECT_TRUE(r.status >= 200 && r.status < 300)
        << route.method << " " << path << " with only " << route.scope << ": " << r.Describe();
  }
}

}  // namespace
}  // namespace causeloop::e2e

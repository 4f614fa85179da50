// The OpenAPI document (SPEC §4) is kept true: it parses, it documents the contract's routes,
// and every documented operation exists and answers with a status it documents.

#include <algorithm>
#include <regex>
#include <set>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

// "/v1/issues/{issue_id}" -> "/v1/issues/{}"
std::string Shape(const std::string& path) {
  return std::regex_replace(path, std::regex("\\{[^}]*\\}"), "{}");
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct Operation {
  std::string method;              // upper case
  std::string path;                // as documented
  std::set<std::string> statuses;  // documented response keys ("200", "4XX", "default")
  std::string example_body;        // requestBody example, if any
};

std::vector<Operation> Operations(const Json& doc) {
  std::vector<Operation> ops;
  auto paths = doc.At("/paths");
  if (!paths || !paths->is_object()) return ops;
  simdjson::dom::object path_items;
  if (paths->get_object().get(path_items) != simdjson::SUCCESS) return ops;
  for (auto [path, item] : path_items) {
    simdjson::dom::object methods;
    if (item.get_object().get(methods) != simdjson::SUCCESS) continue;
    for (auto [method, op] : methods) {
      static const std::set<std::string_view> kMethods = {"get", "post", "put", "patch", "delete"};
      if (!kMethods.count(method)) continue;
      Operation o{Upper(std::string(method)), std::string(path), {}, ""};
      simdjson::dom::object responses;
      if (op["responses"].get_object().get(responses) == simdjson::SUCCESS) {
        for (auto [status, unused] : responses) {
          (void)unused;
          o.statuses.insert(std::string(status));
        }
      }
      auto example = op.at_pointer("/requestBody/content/application~1json/example");
      if (example.error() == simdjson::SUCCESS) o.example_body = RawOf(example.value_unsafe());
      ops.push_back(std::move(o));
    }
  }
  return ops;
}

bool Documents(const Operation& op, long status) {
  const std::string s = std::to_string(status);
  return op.statuses.count(s) || op.statuses.count(s.substr(0, 1) + "XX") ||
         op.statuses.count(s.substr(0, 1) + "xx") || op.statuses.count("default");
}

class OpenApiTest : public ServerTest<OpenApiTest> {
 protected:
  Json FetchDocument() {
    HttpResponse r = suite_->AnonymousHttp().Get("/openapi.json");
    if (r.status == 401) r = http_.Get("/openapi.json");
    EXPECT_TRUE(HasStatus(r, 200));
    Json doc = Json::Parse(r.body);
    EXPECT_TRUE(doc.ok()) << doc.error();
    return doc;
  }
};

TEST_F(OpenApiTest, DocumentIsOpenApi3WithPaths) {
  Json doc = FetchDocument();

  EXPECT_EQ(doc.Str("/openapi").value_or("").rfind("3.", 0), 0u) << doc.Raw("/openapi");
  EXPECT_FALSE(doc.Str("/info/title").value_or("").empty());
  EXPECT_GT(doc.Size("/paths").value_or(0), 10u);
}

TEST_F(OpenApiTest, DocumentsEveryRouteOfTheContract) {
  std::vector<Operation> ops = Operations(FetchDocument());
  std::set<std::string> documented;
  for (const auto& op : ops) documented.insert(op.method + " " + Shape(op.path));

  const std::vector<std::string> contract = {"GET /health",
                                             "GET /ready",
                                             "GET /metrics",
                                             "POST /v1/api-tokens",
                                             "GET /v1/api-tokens",
                                             "GET /v1/api-tokens/scopes",
                                             "POST /v1/api-tokens/{}/rotate",
                                             "DELETE /v1/api-tokens/{}",
                                             "POST /v1/ingest/events",
                                             "POST /v1/ingest/batch",
                                             "GET /v1/ingest/status/{}",
                                             "POST /v1/ingest/{}/issues",
                                             "GET /v1/issues",
                                             "POST /v1/issues",
                                             "GET /v1/issues/{}",
                                             "PATCH /v1/issues/{}",
                                             "POST /v1/issues/{}/resolve",
                                             "POST /v1/issues/bulk",
                                             "GET /v1/events"};
  for (const auto& route : contract)
    EXPECT_TRUE(documented.count(route)) << route << " is not documented";
}

TEST_F(OpenApiTest, EveryDocumentedOperationExistsAndAnswersADocumentedStatus) {
  std::vector<Operation> ops = Operations(FetchDocument());
  ASSERT_FALSE(ops.empty());
  // What "no such route" looks like, to tell it apart from "no such object".
  HttpResponse unknown = http_.Get("/v1/zz-no-such-route-" + UniqueSuffix());
  const std::string route_missing_message =
      Json::Parse(unknown.body).Str("/error/message").value_or("");
  ASSERT_EQ(unknown.status, 404);

  const std::string u = UniqueSuffix();
  const std::string issue = IngestEvent(http_, R"({"title":"openapi probe )" + u + "\"}");
  HttpResponse batch =
      http_.Post("/v1/ingest/batch", R"({"records":[{"title":"openapi job )" + u + "\"}]}");
  const std::string job = Json::Parse(batch.body).Str("/job_id").value_or("ing_job_missing");
  ASSERT_FALSE(issue.empty());

  // DELETEs last, so they cannot take away what later requests use.
  std::stable_sort(ops.begin(), ops.end(), [](const Operation& a, const Operation& b) {
    return (a.method == "DELETE") < (b.method == "DELETE");
  });
  for (const Operation& op : ops) {
    std::string path = op.path;
    bool dummy = false;
    std::smatch m;
    while (std::regex_search(path, m, std::regex("\\{([^}]*)\\}"))) {
      const std::string name = m[1].str();
      const std::string before = m.prefix().str();
      std::string value;
      if (name == "source" || name == "type") {
        value = "jira";
      } else if (name == "provider") {
        value = "custom";
      } else if (name == "workspace_id") {
        value = admin().workspace_id;
      } else if (before == "/v1/issues/") {
        value = issue;
      } else if (before == "/v1/ingest/status/") {
        value = job;
      } else if (before == "/v1/api-tokens/") {  // a token of its own, since it may be revoked
        HttpResponse t =
            http_.Post("/v1/api-tokens", R"({"name":"openapi","scopes":["issues:read"]})");
        value = Json::Parse(t.body).Str("/id").value_or("tok_missing");
      } else {
        value = "zz_no_such_object";
        dummy = true;
      }
      path = before + value + m.suffix().str();
    }
    const bool has_body = op.method == "POST" || op.method == "PUT" || op.method == "PATCH";
    const std::string body = has_body ? (op.example_body.empty() ? "{}" : op.example_body) : "";
    RequestOptions options{.timeout = 20s,
                           .headers_only = op.path.find("stream") != std::string::npos};
    HttpResponse r = http_.Request(op.method, path, body, {}, options);
    const std::string what = op.method + " " + path + " (documented as " + op.path + ")";

    ASSERT_NE(r.status, 0) << what << ": " << r.transport_error;
    EXPECT_NE(r.status, 405) << what << " is documented but the method is not routed";
    EXPECT_NE(r.status, 500) << what << ": " << r.Describe();
    if (r.status == 404) {
      const std::string message = Json::Parse(r.body).Str("/error/message").value_or("");
      EXPECT_NE(message, route_missing_message) << what << " is documented but not routed";
      EXPECT_TRUE(dummy || Documents(op, 404)) << what << " -> 404 " << r.body;
    } else {
      std::string listed;
      for (const auto& s : op.statuses) listed += s + " ";
      EXPECT_TRUE(Documents(op, r.status))
          << what << " -> " << r.status << ", documented: " << listed << "\n"
          << r.Describe();
    }
  }
}

}  // namespace
}  // namespace causeloop::e2e

// Inbound webhooks end to end (SPEC §6): the connector receiver (§6.1, signature only) and the
// alert-tool receiver (§6.2, API key and signature) fail closed — every forged, unsigned or
// misaddressed delivery is a 401 that stores nothing; each signature scheme verifies; both
// secrets verify during a rotation's grace period; a replayed delivery changes nothing; custom
// alerts answer 202 then 409; native alerts fire and resolve. Signatures are computed here with
// the project's own HMAC (auth/crypto.h) over the exact bytes sent.
//
// AlertmanagerTest drives the real Prometheus Alertmanager (Debian's prometheus-alertmanager,
// installed by scripts/test) against the server: it must deliver, deduplicate and resolve.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "auth/crypto.h"
#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The provider payload fixtures of the webhook parsers (testdata/webhooks at the repo root).
const std::string kWebhookFixtures =
    std::string(CAUSELOOP_E2E_TESTDATA) + "/../../../testdata/webhooks";
const char* const kAlertmanagerBinary = "/usr/bin/prometheus-alertmanager";

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A number no other test of this process uses (GitHub issue numbers, fingerprints).
long long UniqueNumber() {
  static std::atomic<long long> counter{0};
  return static_cast<long long>(getpid()) * 1000 + (++counter);
}

Headers Plus(Headers a, const Headers& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string Describe(const Headers& headers) {
  std::string out;
  for (const auto& [k, v] : headers) out += k + ": " + v.substr(0, 90) + "\n";
  return out;
}

// A well-formed secret that no receiver knows.
std::string StrangerSecret() {
  return "whsec_" + auth::Base64Encode("not a secret anyone issued " + UniqueSuffix());
}

// The Standard Webhooks key: the base64 decoding of the part after "whsec_".
std::string StandardWebhooksKey(const std::string& secret) {
  std::string_view s = secret;
  if (s.starts_with("whsec_")) s.remove_prefix(6);
  auto key = auth::Base64Decode(s);
  EXPECT_TRUE(key.has_value()) << "the secret's base64 part does not decode: " << secret;
  return key.value_or("");
}

// webhook-signature over "{id}.{timestamp}.{body}", keyed with `key` (raw bytes).
std::string StandardWebhooksSignatureWithKey(const std::string& key, const std::string& id,
                                             int64_t timestamp, std::string_view body) {
  std::string content = id + "." + std::to_string(timestamp) + "." + std::string(body);
  return "v1," + auth::Base64Encode(auth::AsChars(auth::HmacSha256(key, content)));
}

// Standard Webhooks headers for `body`, signed for `signed_id` but sent as `sent_id`.
Headers StandardWebhooks(const std::string& secret, const std::string& sent_id, int64_t timestamp,
                         std::string_view body, const std::string& signed_id = "") {
  const std::string& id_for_signature = signed_id.empty() ? sent_id : signed_id;
  return {
      {"webhook-id", sent_id},
      {"webhook-timestamp", std::to_string(timestamp)},
      {"webhook-signature", StandardWebhooksSignatureWithKey(StandardWebhooksKey(secret),
                                                             id_for_signature, timestamp, body)}};
}

Headers CauseloopSignature(const std::string& secret, std::string_view body) {
  return {{"X-Causeloop-Signature", auth::HmacSha256Hex(secret, body)}};
}

// SPEC §6.2's signature header, "sha256=<hex>".
Headers AlertSignature(const std::string& secret, std::string_view body) {
  return {{"X-Webhook-Signature", "sha256=" + auth::HmacSha256Hex(secret, body)}};
}

Headers ApiKey(const std::string& token) { return {{"X-API-Key", token}}; }

// The canonical ingest record a custom_api connector takes, compact, and the same JSON with
// other whitespace and key order.
struct CanonicalRecord {
  std::string title;
  std::string external_id;

  [[nodiscard]] std::string Compact() const {
    return R"({"title":)" + Quote(title) + R"(,"external_id":)" + Quote(external_id) +
           R"(,"body":"Upstream payment gateway did not answer within 10 s."})";
  }
  [[nodiscard]] std::string Reserialized() const {
    return "{\n  \"external_id\": " + Quote(external_id) +
           ",\n  \"body\": \"Upstream payment gateway did not answer within 10 s.\",\n"
           "  \"title\": " +
           Quote(title) + "\n}\n";
  }
};

CanonicalRecord NewRecord(const std::string& what = "Payment gateway timeout") {
  std::string u = UniqueSuffix();
  return {what + " " + u, "ext-" + u};
}

// SPEC §6.2's custom body.
struct CustomAlert {
  std::string title;
  std::string source_alert_id;

  [[nodiscard]] std::string Compact() const {
    return R"({"title":)" + Quote(title) +
           R"(,"description":"Queue depth above 10000 for 5 minutes","sourceAlertId":)" +
           Quote(source_alert_id) + R"(,"severity":"high","service":"billing-worker"})";
  }
  [[nodiscard]] std::string Reserialized() const {
    return "{ \"severity\": \"high\", \"sourceAlertId\": " + Quote(source_alert_id) +
           ", \"service\": \"billing-worker\", \"title\": " + Quote(title) +
           ", \"description\": \"Queue depth above 10000 for 5 minutes\" }";
  }
};

CustomAlert NewCustomAlert(const std::string& what = "Billing queue backlog") {
  std::string u = UniqueSuffix();
  return {what + " " + u, "alert-" + u};
}

// One alert of an Alertmanager webhook (version 4) notification.
struct AmAlert {
  std::string alertname;
  std::string fingerprint;
  bool resolved = false;
};

std::string AlertmanagerBody(const std::vector<AmAlert>& alerts) {
  bool all_resolved = true;
  std::string items;
  for (const auto& a : alerts) {
    all_resolved = all_resolved && a.resolved;
    if (!items.empty()) items += ",";
    items += R"({"status":)" + Quote(a.resolved ? "resolved" : "firing") +
             R"(,"labels":{"alertname":)" + Quote(a.alertname) +
             R"(,"instance":"checkout-api-1:8080","job":"checkout-api","service":"checkout-api",)"
             R"("severity":"critical"},"annotations":{"summary":)" +
             Quote(a.alertname + ": checkout API 5xx ratio above 5%") +
             R"(,"description":"5.8% of checkout requests failed over the last 5 minutes."},)"
             R"("startsAt":"2024-04-25T10:12:30.042Z","endsAt":)" +
             Quote(a.resolved ? "2024-04-25T10:42:30.042Z" : "0001-01-01T00:00:00Z") +
             R"(,"generatorURL":"http://prometheus.example:9090/graph?g0.expr=up","fingerprint":)" +
             Quote(a.fingerprint) + "}";
  }
  std::string name = alerts.empty() ? "none" : alerts.front().alertname;
  return R"({"receiver":"causeloop","status":)" + Quote(all_resolved ? "resolved" : "firing") +
         R"(,"alerts":[)" + items + R"(],"groupLabels":{"alertname":)" + Quote(name) +
         R"(},"commonLabels":{"alertname":)" + Quote(name) +
         R"(},"commonAnnotations":{},"externalURL":"http://alertmanager.example:9093",)"
         R"("version":"4","groupKey":)" +
         Quote("{}:{alertname=\"" + name + "\"}") + R"(,"truncatedAlerts":0})";
}

// A GitHub `issues` webhook payload for acme/<repo>#<number>.
std::string GitHubIssuesPayload(const std::string& action, const std::string& repo,
                                long long number, const std::string& title) {
  std::string n = std::to_string(number);
  return R"({"action":)" + Quote(action) +
         R"(,"issue":{"url":"https://api.github.com/repos/acme/)" + repo + "/issues/" + n +
         R"(","repository_url":"https://api.github.com/repos/acme/)" + repo +
         R"(","html_url":"https://github.com/acme/)" + repo + "/issues/" + n + R"(","id":)" + n +
         R"(,"number":)" + n + R"(,"title":)" + Quote(title) +
         R"(,"user":{"login":"mona","id":2,"type":"User"},"labels":[],"state":"open",)"
         R"("locked":false,"assignee":null,"assignees":[],"comments":0,)"
         R"("created_at":"2024-04-25T09:12:44Z","updated_at":"2024-04-25T09:12:44Z",)"
         R"("closed_at":null,"body":"About 2% of checkouts fail with a 502.","state_reason":null},)"
         R"("repository":{"id":652173843,"name":)" +
         Quote(repo) + R"(,"full_name":)" + Quote("acme/" + repo) +
         R"(,"private":true,"html_url":"https://github.com/acme/)" + repo +
         R"(","default_branch":"main"},"sender":{"login":"mona","id":2,"type":"User"}})";
}

// The headers of a provider fixture (<name>.headers.json), without its placeholder signature.
Headers FixtureHeaders(const std::string& name) {
  Headers out;
  std::string text = ReadFile(kWebhookFixtures + "/" + name + ".headers.json");
  if (text.empty()) return out;
  Json j = Json::Parse(text);
  simdjson::dom::object obj;
  if (!j.ok() || j.root().get(obj) != simdjson::SUCCESS) {
    ADD_FAILURE() << "fixture headers are not a JSON object: " << name;
    return out;
  }
  for (auto field : obj) {
    std::string key(field.key);
    std::string lower = key;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "x-hub-signature" || lower == "x-hub-signature-256" ||
        lower == "x-pagerduty-signature" || lower == "sentry-hook-signature") {
      continue;
    }
    std::string_view value;
    if (field.value.get(value) == simdjson::SUCCESS) out.emplace_back(key, std::string(value));
  }
  return out;
}

std::string FixtureBody(const std::string& name) {
  std::string body = ReadFile(kWebhookFixtures + "/" + name + ".input.json");
  EXPECT_FALSE(body.empty()) << "missing fixture " << kWebhookFixtures << "/" << name
                             << ".input.json";
  return body;
}

// A workspace of its own (counts are exact) with its every-scope admin client.
struct Workspace {
  Credentials creds;
  Http admin;
  [[nodiscard]] const std::string& id() const { return creds.workspace_id; }
};

struct Connector {
  std::string id;
  std::string secret;  // the inbound signing secret, when inbound delivery is on
};

class InboundTest : public ServerTest<InboundTest> {
 protected:
  Workspace NewWorkspace() {
    Workspace w;
    w.admin = FreshWorkspace(&w.creds);
    EXPECT_FALSE(w.creds.workspace_id.empty());
    return w;
  }
  // No credentials at all: the receivers authenticate by signature or by their own key header.
  static Http Anonymous() { return Http(server().BaseUrl()); }

  static HttpResponse PostInbound(const std::string& connector_id, std::string_view body,
                                  const Headers& headers) {
    return Anonymous().Post("/v1/webhooks/inbound/" + connector_id, body, headers);
  }
  static HttpResponse PostAlert(const std::string& workspace_id, const std::string& provider,
                                std::string_view body, const Headers& headers) {
    return Anonymous().Post("/v1/webhooks/" + workspace_id + "/" + provider, body, headers);
  }

  // POST /v1/connectors; with `enable`, inbound delivery is turned on and its secret kept.
  static Connector CreateConnector(const Http& http, const std::string& type, bool enable = true) {
    HttpResponse r =
        http.Post("/v1/connectors", R"({"type":)" + Quote(type) + R"(,"display_name":)" +
                                        Quote(type + " inbound " + UniqueSuffix()) + "}");
    EXPECT_TRUE(HasStatus(r, 201)) << type;
    Json j = Json::Parse(r.body);
    Connector c;
    c.id = j.Str("/id").value_or("");
    EXPECT_TRUE(c.id.starts_with("con_")) << r.body;
    EXPECT_EQ(j.Str("/type"), type) << r.body;
    EXPECT_EQ(j.Bool("/inbound/enabled"), false) << r.body;
    if (enable) c.secret = EnableInbound(http, c.id);
    return c;
  }

  static std::string EnableInbound(const Http& http, const std::string& id) {
    HttpResponse r = http.Post("/v1/connectors/" + id + "/inbound", R"({"enabled":true})");
    EXPECT_TRUE(HasStatus(r, 200));
    Json j = Json::Parse(r.body);
    std::string secret = j.Str("/inbound/inbound_signing_secret").value_or("");
    EXPECT_TRUE(secret.starts_with("whsec_")) << r.body;
    EXPECT_EQ(j.Bool("/inbound/enabled"), true) << r.body;
    EXPECT_TRUE(j.Str("/inbound/receiver_url").value_or("").ends_with("/v1/webhooks/inbound/" + id))
        << r.body;
    // Shown once: the connector never shows it again.
    HttpResponse again = http.Get("/v1/connectors/" + id);
    EXPECT_TRUE(HasStatus(again, 200));
    EXPECT_EQ(again.body.find(secret), std::string::npos) << again.body;
    return secret;
  }

  static void DisableInbound(const Http& http, const std::string& id) {
    HttpResponse r = http.Post("/v1/connectors/" + id + "/inbound", R"({"enabled":false})");
    EXPECT_TRUE(HasStatus(r, 200));
    EXPECT_EQ(Json::Parse(r.body).Bool("/inbound/enabled"), false) << r.body;
  }

  static std::string RotateConnectorSecret(const Http& http, const std::string& id, int grace) {
    HttpResponse r = http.Post("/v1/connectors/" + id + "/inbound/rotate-secret",
                               R"({"grace_seconds":)" + std::to_string(grace) + "}");
    EXPECT_TRUE(HasStatus(r, 200));
    Json j = Json::Parse(r.body);
    std::string secret = j.Str("/inbound/inbound_signing_secret").value_or("");
    EXPECT_TRUE(secret.starts_with("whsec_")) << r.body;
    if (grace > 0) {
      EXPECT_FALSE(j.Str("/inbound/previous_secret_expires_at").value_or("").empty()) << r.body;
    } else {
      EXPECT_TRUE(j.IsNull("/inbound/previous_secret_expires_at")) << r.body;
    }
    return secret;
  }

  static std::string RotateWorkspaceSecret(const Http& http, int grace) {
    HttpResponse r = http.Post("/v1/settings/alert-webhooks/rotate-secret",
                               R"({"grace_seconds":)" + std::to_string(grace) + "}");
    EXPECT_TRUE(HasStatus(r, 200));
    Json j = Json::Parse(r.body);
    std::string secret = j.Str("/webhook_secret").value_or("");
    EXPECT_TRUE(secret.starts_with("whsec_")) << r.body;
    EXPECT_TRUE(j.Has("/previous_expires_at")) << r.body;
    return secret;
  }

  static void RequireSignature(const Http& http, const std::string& provider, bool require) {
    HttpResponse r =
        http.Request("PATCH", "/v1/settings/alert-webhooks",
                     R"({"providers":{)" + Quote(provider) + R"(:{"require_signature":)" +
                         (require ? "true" : "false") + "}}}");
    ASSERT_TRUE(HasStatus(r, 200));
    EXPECT_EQ(Json::Parse(r.body).Bool("/providers/" + provider + "/require_signature"), require)
        << r.body;
  }

  // A token of the workspace with only ingest:write.
  static std::string IngestToken(const Workspace& w) {
    auto t = server().CreateToken(w.id(), {"ingest:write"}, "alert sender");
    return t ? t->token : "clp_create_token_failed";
  }

  // page.total of GET /v1/issues (with an optional filter query such as "source=github").
  static int64_t IssueTotal(const Http& http, const std::string& filter = "") {
    HttpResponse r = http.Get("/v1/issues?limit=1" + (filter.empty() ? "" : "&" + filter));
    EXPECT_TRUE(HasStatus(r, 200));
    return Json::Parse(r.body).Int("/page/total").value_or(-1);
  }

  // Every event of the workspace so far.
  static size_t EventCount(const Http& http) {
    HttpResponse r = http.Get("/v1/events?after=0&limit=1000");
    EXPECT_TRUE(HasStatus(r, 200));
    Json j = Json::Parse(r.body);
    EXPECT_NE(j.Bool("/page/has_more"), true) << "more than 1000 events";
    return j.Size("/data").value_or(0);
  }

  static Json GetIssue(const Http& http, const std::string& id) {
    HttpResponse r = http.Get("/v1/issues/" + id);
    EXPECT_TRUE(HasStatus(r, 200)) << id;
    return Json::Parse(r.body);
  }

  // A §6.1 202 answer: the ingest body with one stored issue; returns its id.
  static std::string AcceptedIssue(const HttpResponse& r) {
    EXPECT_TRUE(HasStatus(r, 202));
    Json j = Json::Parse(r.body);
    EXPECT_EQ(j.Int("/accepted"), 1) << r.body;
    EXPECT_EQ(j.Size("/rejected"), 0u) << r.body;
    EXPECT_FALSE(j.Str("/pattern_id").value_or("").empty()) << r.body;
    EXPECT_TRUE(j.Has("/deduplicated")) << r.body;
    EXPECT_TRUE(j.Str("/job_id").value_or("").starts_with("ing_job_")) << r.body;
    std::string id = j.Str("/issue_id").value_or("");
    EXPECT_TRUE(id.starts_with("iss_")) << r.body;
    return id;
  }

  // A §6.2 202 answer for one alert; returns the issue id.
  static std::string AcceptedAlert(const HttpResponse& r, const std::string& title = "") {
    EXPECT_TRUE(HasStatus(r, 202));
    Json j = Json::Parse(r.body);
    std::string id = j.Str("/issue_id").value_or("");
    EXPECT_TRUE(id.starts_with("iss_")) << r.body;
    EXPECT_EQ(j.Str("/incidentId"), id) << r.body;
    EXPECT_FALSE(j.Str("/pattern_id").value_or("").empty()) << r.body;
    EXPECT_FALSE(j.Str("/status").value_or("").empty()) << r.body;
    EXPECT_FALSE(j.Str("/severity").value_or("").empty()) << r.body;
    if (!title.empty()) {
      EXPECT_EQ(j.Str("/title"), title) << r.body;
    }
    return id;
  }
};

// --- 1. Fail closed ---------------------------------------------------------------------------

TEST_F(InboundTest, EveryForgedOrUnsignedDeliveryIs401AndStoresNothing) {
  Workspace a = NewWorkspace();
  Workspace b = NewWorkspace();      // another tenant, with a secret and a key of its own
  Workspace plain = NewWorkspace();  // never rotated a webhook secret
  ASSERT_FALSE(HasFailure());

  // §6.1 receivers of workspace a.
  Connector live = CreateConnector(a.admin, "custom_api");
  Connector sibling = CreateConnector(a.admin, "custom_api");
  Connector never = CreateConnector(a.admin, "custom_api", /*enable=*/false);
  Connector disabled = CreateConnector(a.admin, "custom_api");
  DisableInbound(a.admin, disabled.id);
  const std::string unknown_connector = "con_01J0000000000000000000ZZZZ";

  // §6.2: a's secret and key, b's secret and key, plain's key, a revoked key of a.
  const std::string a_secret = RotateWorkspaceSecret(a.admin, 0);
  const std::string b_secret = RotateWorkspaceSecret(b.admin, 0);
  const std::string a_key = IngestToken(a);
  const std::string b_key = IngestToken(b);
  const std::string plain_key = IngestToken(plain);
  HttpResponse made = a.admin.Post("/v1/api-tokens", R"({"name":"soon revoked )" + UniqueSuffix() +
                                                         R"(","scopes":["ingest:write"]})");
  ASSERT_TRUE(HasStatus(made, 201));
  const std::string revoked_key = Json::Parse(made.body).Str("/token").value_or("");
  HttpResponse revoke =
      a.admin.Request("DELETE", "/v1/api-tokens/" + Json::Parse(made.body).Str("/id").value_or(""));
  ASSERT_TRUE(revoke.status == 200 || revoke.status == 204) << revoke.Describe();
  RequireSignature(a.admin, "alertmanager", false);
  ASSERT_FALSE(HasFailure());

  const CanonicalRecord record = NewRecord();
  const std::string body = record.Compact();
  const CustomAlert alert = NewCustomAlert();
  const std::string alert_body = alert.Compact();
  const std::string am_body =
      AlertmanagerBody({{"DiskFull" + UniqueSuffix(), std::to_string(UniqueNumber()), false}});
  const int64_t now = UnixNow();
  const std::string swid = "msg_" + UniqueSuffix();
  const std::string a_url_ws = a.id();

  struct Case {
    std::string name;
    std::string path;  // receiver path
    std::string body;
    Headers headers;
  };
  const std::string inbound = "/v1/webhooks/inbound/";
  const std::string a_custom = "/v1/webhooks/" + a.id() + "/custom";
  const std::vector<Case> cases = {
      // §6.1
      {"6.1 no signature", inbound + live.id, body, {}},
      {"6.1 wrong x-causeloop-signature", inbound + live.id, body,
       CauseloopSignature(live.secret, body + " ")},
      {"6.1 malformed x-causeloop-signature",
       inbound + live.id,
       body,
       {{"X-Causeloop-Signature", "not-a-hex-digest"}}},
      {"6.1 signature over the re-serialized body", inbound + live.id, record.Reserialized(),
       CauseloopSignature(live.secret, body)},
      {"6.1 signed with another connector's secret",
       inbound + live.id,
       body,
       {{"X-Hub-Signature-256", "sha256=" + auth::HmacSha256Hex(sibling.secret, body)}}},
      {"6.1 signed with a secret nobody issued", inbound + live.id, body,
       CauseloopSignature(StrangerSecret(), body)},
      {"6.1 x-hub-signature with a sha1 digest",
       inbound + live.id,
       body,
       {{"X-Hub-Signature", "sha1=" + auth::HmacSha256Hex(live.secret, body).substr(0, 40)}}},
      {"6.1 x-pagerduty-signature matching nothing",
       inbound + live.id,
       body,
       {{"X-PagerDuty-Signature", "v1=" + auth::HmacSha256Hex(sibling.secret, body) +
                                      ",v1=" + auth::HmacSha256Hex(live.secret, "other")}}},
      {"6.1 wrong sentry-hook-signature",
       inbound + live.id,
       body,
       {{"Sentry-Hook-Signature", auth::HmacSha256Hex(sibling.secret, body)}}},
      {"6.1 hex scheme keyed with the decoded secret",
       inbound + live.id,
       body,
       {{"X-Causeloop-Signature", auth::HmacSha256Hex(StandardWebhooksKey(live.secret), body)}}},
      {"6.1 Standard Webhooks keyed with the secret string",
       inbound + live.id,
       body,
       {{"webhook-id", swid},
        {"webhook-timestamp", std::to_string(now)},
        {"webhook-signature", StandardWebhooksSignatureWithKey(live.secret, swid, now, body)}}},
      {"6.1 unknown connector", inbound + unknown_connector, body,
       CauseloopSignature(live.secret, body)},
      {"6.1 connector that never enabled inbound", inbound + never.id, body,
       CauseloopSignature(live.secret, body)},
      {"6.1 connector whose inbound was disabled (its old secret)", inbound + disabled.id, body,
       CauseloopSignature(disabled.secret, body)},
      {"6.1 stale Standard Webhooks timestamp (now-301 s)", inbound + live.id, body,
       StandardWebhooks(live.secret, swid, now - 301, body)},
      // 330 s, not 301: `now` was read before the cases before this one ran, which on a
      // loaded machine took more than a second (the server then saw +299 s and took it).
      {"6.1 future Standard Webhooks timestamp (now+330 s)", inbound + live.id, body,
       StandardWebhooks(live.secret, swid, now + 330, body)},
      {"6.1 Standard Webhooks signed for another webhook-id", inbound + live.id, body,
       StandardWebhooks(live.secret, swid, now, body, swid + "-other")},
      {"6.1 Standard Webhooks without webhook-timestamp",
       inbound + live.id,
       body,
       {{"webhook-id", swid},
        {"webhook-signature",
         StandardWebhooksSignatureWithKey(StandardWebhooksKey(live.secret), swid, now, body)}}},
      // §6.2
      {"6.2 no key", a_custom, alert_body, AlertSignature(a_secret, alert_body)},
      {"6.2 unknown key", a_custom, alert_body,
       Plus(ApiKey("clp_" + std::string(43, 'x')), AlertSignature(a_secret, alert_body))},
      {"6.2 unknown key as Bearer", a_custom, alert_body,
       Plus({{"Authorization", "Bearer clp_" + std::string(43, 'y')}},
            AlertSignature(a_secret, alert_body))},
      {"6.2 revoked key", a_custom, alert_body,
       Plus(ApiKey(revoked_key), AlertSignature(a_secret, alert_body))},
      {"6.2 another workspace's key", a_custom, alert_body,
       Plus(ApiKey(b_key), AlertSignature(a_secret, alert_body))},
      {"6.2 another workspace's key and secret", a_custom, alert_body,
       Plus(ApiKey(b_key), AlertSignature(b_secret, alert_body))},
      {"6.2 no signature while required", a_custom, alert_body, ApiKey(a_key)},
      {"6.2 wrong signature", a_custom, alert_body,
       Plus(ApiKey(a_key), AlertSignature(a_secret, alert_body + "\n"))},
      {"6.2 wrong bare hex signature", a_custom, alert_body,
       Plus(ApiKey(a_key), {{"X-Webhook-Signature", std::string(64, 'a')}})},
      {"6.2 signature over the re-serialized body", a_custom, alert.Reserialized(),
       Plus(ApiKey(a_key), AlertSignature(a_secret, alert_body))},
      {"6.2 signed with another workspace's secret", a_custom, alert_body,
       Plus(ApiKey(a_key), AlertSignature(b_secret, alert_body))},
      {"6.2 signed with a connector's inbound secret", a_custom, alert_body,
       Plus(ApiKey(a_key), AlertSignature(live.secret, alert_body))},
      {"6.2 workspace without a secret yet, signed", "/v1/webhooks/" + plain.id() + "/custom",
       alert_body, Plus(ApiKey(plain_key), AlertSignature(StrangerSecret(), alert_body))},
      {"6.2 workspace without a secret yet, unsigned", "/v1/webhooks/" + plain.id() + "/custom",
       alert_body, ApiKey(plain_key)},
      {"6.2 wrong signature where the provider's requirement is waived",
       "/v1/webhooks/" + a_url_ws + "/alertmanager", am_body,
       Plus({{"Authorization", "Bearer " + a_key}}, AlertSignature(b_secret, am_body))},
  };

  const int64_t a_before = IssueTotal(a.admin);
  const int64_t b_before = IssueTotal(b.admin);
  const int64_t plain_before = IssueTotal(plain.admin);
  const size_t a_events_before = EventCount(a.admin);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    HttpResponse r = Anonymous().Post(c.path, c.body, c.headers);
    EXPECT_TRUE(IsErrorEnvelope(r, 401, "unauthorized")) << c.name << "\nPOST " << c.path << "\n"
                                                         << Describe(c.headers);
  }
  EXPECT_EQ(IssueTotal(a.admin), a_before);
  EXPECT_EQ(IssueTotal(b.admin), b_before);
  EXPECT_EQ(IssueTotal(plain.admin), plain_before);
  EXPECT_EQ(EventCount(a.admin), a_events_before);

  // The refusals are counted per receiver (recorded asynchronously: poll).
  Json settings;
  EXPECT_TRUE(PollUntil(
      [&] {
        settings = Json::Parse(a.admin.Get("/v1/settings/alert-webhooks").body);
        return settings.Int("/providers/custom/signature_failures_24h").value_or(0) > 0 &&
               settings.Int("/providers/alertmanager/signature_failures_24h").value_or(0) > 0;
      },
      5s, 50ms))
      << settings.Raw("");
  Json connector;
  EXPECT_TRUE(PollUntil(
      [&] {
        connector = Json::Parse(a.admin.Get("/v1/connectors/" + live.id).body);
        return connector.Int("/inbound/signature_failures_24h").value_or(0) > 0;
      },
      5s, 50ms))
      << connector.Raw("");

  // Control: the same deliveries, correctly signed, are accepted (so the refusals above were
  // about the signature and credentials, not the payloads).
  AcceptedIssue(PostInbound(live.id, body, CauseloopSignature(live.secret, body)));
  AcceptedAlert(PostAlert(a.id(), "custom", alert_body,
                          Plus(ApiKey(a_key), AlertSignature(a_secret, alert_body))),
                alert.title);
  EXPECT_TRUE(HasStatus(
      PostAlert(a.id(), "alertmanager", am_body, {{"Authorization", "Bearer " + a_key}}), 202));
  EXPECT_EQ(IssueTotal(a.admin), a_before + 3);
}

TEST_F(InboundTest, AlertReceiverNeedsTheIngestScopeAndAKnownProvider) {
  Workspace w = NewWorkspace();
  const std::string secret = RotateWorkspaceSecret(w.admin, 0);
  auto reader = server().CreateToken(w.id(), {"issues:read", "connectors:admin"}, "no ingest");
  ASSERT_TRUE(reader);
  const std::string key = IngestToken(w);
  const std::string body = NewCustomAlert().Compact();

  EXPECT_TRUE(IsErrorEnvelope(
      PostAlert(w.id(), "custom", body, Plus(ApiKey(reader->token), AlertSignature(secret, body))),
      403, "forbidden"));
  EXPECT_TRUE(IsErrorEnvelope(
      PostAlert(w.id(), "nagios", body, Plus(ApiKey(key), AlertSignature(secret, body))), 404,
      "not_found"));
  EXPECT_EQ(IssueTotal(w.admin), 0);
}

// --- 2. Every scheme --------------------------------------------------------------------------

TEST_F(InboundTest, EachSchemeVerifiesAndStores) {
  Workspace w = NewWorkspace();
  ASSERT_FALSE(HasFailure());
  const int64_t now = UnixNow();

  struct SchemeCase {
    std::string scheme;
    std::string type;     // connector type
    std::string fixture;  // provider payload under testdata/webhooks, or "" for a canonical record
    std::string source;   // the stored issue's source
  };
  const std::vector<SchemeCase> cases = {
      {"x-causeloop-signature", "custom_api", "", "custom_api"},
      {"x-hub-signature-256", "github", "github/issues_opened", "github"},
      {"x-hub-signature", "jira", "jira/issue_created", "jira"},
      {"x-pagerduty-signature", "pagerduty", "pagerduty/incident_triggered", "pagerduty"},
      {"sentry-hook-signature", "sentry", "sentry/event_alert_triggered", "sentry"},
      {"standard-webhooks", "custom_api", "", "custom_api"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.scheme);
    Connector con = CreateConnector(w.admin, c.type);
    ASSERT_FALSE(HasFailure());
    std::string body =
        c.fixture.empty() ? NewRecord("Scheme " + c.scheme).Compact() : FixtureBody(c.fixture);
    Headers headers = c.fixture.empty() ? Headers{} : FixtureHeaders(c.fixture);
    const std::string hex = auth::HmacSha256Hex(con.secret, body);
    if (c.scheme == "x-causeloop-signature") {
      headers.emplace_back("X-Causeloop-Signature", hex);
    } else if (c.scheme == "x-hub-signature-256") {
      headers.emplace_back("X-Hub-Signature-256", "sha256=" + hex);
    } else if (c.scheme == "x-hub-signature") {
      headers.emplace_back("X-Hub-Signature", "sha256=" + hex);
    } else if (c.scheme == "x-pagerduty-signature") {
      // PagerDuty signs with every secret of the subscription: one entry matching is enough.
      headers.emplace_back("X-PagerDuty-Signature",
                           "v1=" + auth::HmacSha256Hex(StrangerSecret(), body) + ",v1=" + hex);
    } else if (c.scheme == "sentry-hook-signature") {
      headers.emplace_back("Sentry-Hook-Signature", hex);
    } else {
      headers = Plus(headers, StandardWebhooks(con.secret, "msg_" + UniqueSuffix(), now, body));
    }

    HttpResponse r = PostInbound(con.id, body, headers);
    std::string issue_id = AcceptedIssue(r);
    if (issue_id.empty()) continue;
    Json issue = GetIssue(w.admin, issue_id);
    EXPECT_EQ(issue.Str("/source"), c.source) << issue.Raw("");
    EXPECT_EQ(issue.Str("/connector_id"), con.id) << issue.Raw("");
    EXPECT_EQ(issue.Int("/occurrences"), 1) << issue.Raw("");
  }
  EXPECT_EQ(IssueTotal(w.admin), static_cast<int64_t>(cases.size()));

  // §6.2: the signature with and without its "sha256=" prefix, the key as X-API-Key, as a
  // Bearer token, and as the password of Basic authentication.
  const std::string secret = RotateWorkspaceSecret(w.admin, 0);
  const std::string key = IngestToken(w);
  struct AlertCase {
    std::string name;
    std::function<Headers(const std::string& body)> headers;
  };
  const std::vector<AlertCase> alert_cases = {
      {"X-API-Key, sha256=<hex>",
       [&](const std::string& b) { return Plus(ApiKey(key), AlertSignature(secret, b)); }},
      {"Bearer, bare hex",
       [&](const std::string& b) {
         return Headers{{"Authorization", "Bearer " + key},
                        {"X-Webhook-Signature", auth::HmacSha256Hex(secret, b)}};
       }},
      {"X-API-Key, bare hex",
       [&](const std::string& b) {
         return Plus(ApiKey(key), {{"X-Webhook-Signature", auth::HmacSha256Hex(secret, b)}});
       }},
      {"Basic, sha256=<hex>",
       [&](const std::string& b) {
         return Plus({{"Authorization", "Basic " + auth::Base64Encode("sns:" + key)}},
                     AlertSignature(secret, b));
       }},
  };
  for (const auto& c : alert_cases) {
    SCOPED_TRACE(c.name);
    CustomAlert alert = NewCustomAlert("Alert via " + c.name);
    std::string body = alert.Compact();
    HttpResponse r = PostAlert(w.id(), "custom", body, c.headers(body));
    std::string issue_id = AcceptedAlert(r, alert.title);
    if (issue_id.empty()) continue;
    Json answer = Json::Parse(r.body);
    EXPECT_EQ(answer.Str("/status"), "open") << r.body;
    Json issue = GetIssue(w.admin, issue_id);
    EXPECT_EQ(issue.Str("/source"), "custom_api") << issue.Raw("");
    EXPECT_EQ(issue.Str("/external_id"), alert.source_alert_id) << issue.Raw("");
    EXPECT_EQ(issue.Str("/title"), alert.title) << issue.Raw("");
    EXPECT_EQ(issue.Str("/severity"), answer.Str("/severity")) << issue.Raw("");
    EXPECT_EQ(issue.Str("/service"), "billing-worker") << issue.Raw("");
  }
  EXPECT_EQ(IssueTotal(w.admin), static_cast<int64_t>(cases.size() + alert_cases.size()));
}

// --- 3. Rotation ------------------------------------------------------------------------------

TEST_F(InboundTest, BothSecretsVerifyDuringARotationGracePeriod) {
  Workspace w = NewWorkspace();
  ASSERT_FALSE(HasFailure());

  // §6.1
  Connector con = CreateConnector(w.admin, "custom_api");
  const std::string first = con.secret;
  auto send_inbound = [&](const std::string& secret) {
    std::string body = NewRecord("Rotation").Compact();
    return PostInbound(con.id, body, CauseloopSignature(secret, body));
  };
  ASSERT_TRUE(HasStatus(send_inbound(first), 202));
  const std::string second = RotateConnectorSecret(w.admin, con.id, 3600);
  ASSERT_NE(second, first);
  EXPECT_TRUE(HasStatus(send_inbound(first), 202)) << "the previous secret, within its grace";
  EXPECT_TRUE(HasStatus(send_inbound(second), 202)) << "the new secret";
  {
    // Standard Webhooks verifies with either secret too.
    std::string body = NewRecord("Rotation sw").Compact();
    EXPECT_TRUE(
        HasStatus(PostInbound(con.id, body,
                              StandardWebhooks(first, "msg_" + UniqueSuffix(), UnixNow(), body)),
                  202));
  }
  const std::string third = RotateConnectorSecret(w.admin, con.id, 0);
  EXPECT_TRUE(IsErrorEnvelope(send_inbound(second), 401, "unauthorized"))
      << "a rotation without grace stops the previous secret at once";
  EXPECT_TRUE(IsErrorEnvelope(send_inbound(first), 401, "unauthorized"))
      << "the secret before it stopped too";
  EXPECT_TRUE(HasStatus(send_inbound(third), 202));

  // §6.2
  const std::string key = IngestToken(w);
  auto send_alert = [&](const std::string& secret) {
    std::string body = NewCustomAlert("Rotation alert").Compact();
    return PostAlert(w.id(), "custom", body, Plus(ApiKey(key), AlertSignature(secret, body)));
  };
  const std::string w1 = RotateWorkspaceSecret(w.admin, 0);
  ASSERT_TRUE(HasStatus(send_alert(w1), 202));
  HttpResponse rotated =
      w.admin.Post("/v1/settings/alert-webhooks/rotate-secret", R"({"grace_seconds":3600})");
  ASSERT_TRUE(HasStatus(rotated, 200));
  Json rj = Json::Parse(rotated.body);
  const std::string w2 = rj.Str("/webhook_secret").value_or("");
  ASSERT_TRUE(w2.starts_with("whsec_")) << rotated.body;
  ASSERT_NE(w2, w1);
  EXPECT_FALSE(rj.Str("/previous_expires_at").value_or("").empty()) << rotated.body;
  EXPECT_EQ(Json::Parse(w.admin.Get("/v1/settings/alert-webhooks").body).Raw("").find(w2),
            std::string::npos)
      << "the secret is shown once";
  EXPECT_TRUE(HasStatus(send_alert(w1), 202)) << "the previous secret, within its grace";
  EXPECT_TRUE(HasStatus(send_alert(w2), 202)) << "the new secret";
  const std::string w3 = RotateWorkspaceSecret(w.admin, 0);
  EXPECT_TRUE(IsErrorEnvelope(send_alert(w2), 401, "unauthorized"))
      << "a rotation without grace stops the previous secret at once";
  EXPECT_TRUE(IsErrorEnvelope(send_alert(w1), 401, "unauthorized"));
  EXPECT_TRUE(HasStatus(send_alert(w3), 202));
}

// --- 4. Replays -------------------------------------------------------------------------------

TEST_F(InboundTest, AReplayedDeliveryIsAcknowledgedAndChangesNothing) {
  Workspace w = NewWorkspace();
  ASSERT_FALSE(HasFailure());
  Connector gh = CreateConnector(w.admin, "github");
  const std::string repo = "storefront-" + UniqueSuffix();
  const long long number = UniqueNumber();
  const std::string opened =
      GitHubIssuesPayload("opened", repo, number, "Checkout returns 502 on slow payments");
  auto github_headers = [&](const std::string& delivery, const std::string& body) {
    return Headers{{"X-GitHub-Event", "issues"},
                   {"X-GitHub-Delivery", delivery},
                   {"X-GitHub-Hook-ID", "292430182"},
                   {"User-Agent", "GitHub-Hookshot/044aadd"},
                   {"X-Hub-Signature-256", "sha256=" + auth::HmacSha256Hex(gh.secret, body)}};
  };
  const std::string delivery = "72d3162e-" + UniqueSuffix();

  std::string issue_id =
      AcceptedIssue(PostInbound(gh.id, opened, github_headers(delivery, opened)));
  ASSERT_FALSE(issue_id.empty());
  Json issue = GetIssue(w.admin, issue_id);
  EXPECT_EQ(issue.Str("/external_id"), "acme/" + repo + "#" + std::to_string(number))
      << issue.Raw("");
  EXPECT_EQ(issue.Int("/occurrences"), 1);
  const size_t events = EventCount(w.admin);
  const int64_t issues = IssueTotal(w.admin);

  // The same delivery again: acknowledged, not processed.
  HttpResponse replay = PostInbound(gh.id, opened, github_headers(delivery, opened));
  ASSERT_TRUE(HasStatus(replay, 200));
  Json rj = Json::Parse(replay.body);
  EXPECT_EQ(rj.Bool("/duplicate_delivery"), true) << replay.body;
  EXPECT_EQ(rj.Str("/delivery_id"), delivery) << replay.body;
  EXPECT_EQ(GetIssue(w.admin, issue_id).Int("/occurrences"), 1);
  EXPECT_EQ(EventCount(w.admin), events);
  EXPECT_EQ(IssueTotal(w.admin), issues);

  // A forged replay (right delivery id, wrong signature) is still a 401, not a 200.
  Headers forged = github_headers(delivery, opened + " ");
  EXPECT_TRUE(IsErrorEnvelope(PostInbound(gh.id, opened, forged), 401, "unauthorized"));

  // A new delivery about the same issue is processed: a second occurrence.
  const std::string edited =
      GitHubIssuesPayload("edited", repo, number, "Checkout returns 502 on slow payments");
  std::string again =
      AcceptedIssue(PostInbound(gh.id, edited, github_headers(delivery + "-2", edited)));
  EXPECT_EQ(again, issue_id);
  EXPECT_EQ(GetIssue(w.admin, issue_id).Int("/occurrences"), 2);
  EXPECT_EQ(IssueTotal(w.admin), issues);
  EXPECT_GT(EventCount(w.admin), events);

  // Standard Webhooks: webhook-id is the delivery id, whatever the connector type.
  Connector custom = CreateConnector(w.admin, "custom_api");
  const std::string body = NewRecord("Replayed standard webhook").Compact();
  const std::string msg = "msg_" + UniqueSuffix();
  std::string sw_issue = AcceptedIssue(
      PostInbound(custom.id, body, StandardWebhooks(custom.secret, msg, UnixNow(), body)));
  ASSERT_FALSE(sw_issue.empty());
  const size_t events2 = EventCount(w.admin);
  const int64_t issues2 = IssueTotal(w.admin);
  // Re-sent (as Standard Webhooks senders retry: same id, a fresh timestamp and signature).
  HttpResponse sw_replay =
      PostInbound(custom.id, body, StandardWebhooks(custom.secret, msg, UnixNow() + 1, body));
  ASSERT_TRUE(HasStatus(sw_replay, 200));
  EXPECT_EQ(Json::Parse(sw_replay.body).Bool("/duplicate_delivery"), true) << sw_replay.body;
  EXPECT_EQ(Json::Parse(sw_replay.body).Str("/delivery_id"), msg) << sw_replay.body;
  EXPECT_EQ(GetIssue(w.admin, sw_issue).Int("/occurrences"), 1);
  EXPECT_EQ(EventCount(w.admin), events2);
  EXPECT_EQ(IssueTotal(w.admin), issues2);
  // A new message id is a new delivery.
  EXPECT_EQ(AcceptedIssue(PostInbound(
                custom.id, body, StandardWebhooks(custom.secret, msg + "-2", UnixNow(), body))),
            sw_issue);
  EXPECT_EQ(GetIssue(w.admin, sw_issue).Int("/occurrences"), 2);

  // Delivery ids are remembered per receiver: the same id at another connector is new.
  Connector custom2 = CreateConnector(w.admin, "custom_api");
  EXPECT_TRUE(HasStatus(
      PostInbound(custom2.id, body, StandardWebhooks(custom2.secret, msg, UnixNow(), body)), 202));
}

// --- 5. Alert lifecycles ----------------------------------------------------------------------

TEST_F(InboundTest, CustomAlertsAnswer202Then409) {
  Workspace w = NewWorkspace();
  ASSERT_FALSE(HasFailure());
  const std::string secret = RotateWorkspaceSecret(w.admin, 0);
  const std::string key = IngestToken(w);
  const CustomAlert alert = NewCustomAlert();
  const std::string body = alert.Compact();
  const size_t events_before = EventCount(w.admin);

  HttpResponse first =
      PostAlert(w.id(), "custom", body, Plus(ApiKey(key), AlertSignature(secret, body)));
  std::string issue_id = AcceptedAlert(first, alert.title);
  ASSERT_FALSE(issue_id.empty());
  EXPECT_EQ(Json::Parse(first.body).Str("/status"), "open") << first.body;
  const size_t events = EventCount(w.admin);
  EXPECT_GT(events, events_before) << "a new incident is an event (issue.created)";

  // The same sourceAlertId again, even with another title: 409 naming the first issue.
  for (const std::string& again :
       {body, CustomAlert{alert.title + " (again)", alert.source_alert_id}.Compact()}) {
    HttpResponse r =
        PostAlert(w.id(), "custom", again, Plus(ApiKey(key), AlertSignature(secret, again)));
    EXPECT_TRUE(IsErrorEnvelope(r, 409, "conflict"));
    EXPECT_EQ(Json::Parse(r.body).Str("/error/details/issue_id"), issue_id) << r.body;
  }
  EXPECT_EQ(IssueTotal(w.admin), 1);
  EXPECT_EQ(EventCount(w.admin), events);
  Json issue = GetIssue(w.admin, issue_id);
  EXPECT_EQ(issue.Int("/occurrences"), 1) << issue.Raw("");
  EXPECT_EQ(issue.Str("/title"), alert.title) << issue.Raw("");

  // Another sourceAlertId is another incident.
  const std::string other = NewCustomAlert().Compact();
  std::string other_id = AcceptedAlert(
      PostAlert(w.id(), "custom", other, Plus(ApiKey(key), AlertSignature(secret, other))));
  EXPECT_NE(other_id, issue_id);
  EXPECT_EQ(IssueTotal(w.admin), 2);
}

TEST_F(InboundTest, ResolvedAlertResolvesAndUnknownResolvedCreatesNothing) {
  Workspace w = NewWorkspace();
  ASSERT_FALSE(HasFailure());
  RequireSignature(w.admin, "alertmanager", false);
  const std::string key = IngestToken(w);
  const Headers auth = {{"Authorization", "Bearer " + key}};
  const std::string name = "CheckoutHighErrorRate" + UniqueSuffix();
  const std::string fingerprint = std::to_string(UniqueNumber());

  // Firing: an open issue.
  HttpResponse fired =
      PostAlert(w.id(), "alertmanager", AlertmanagerBody({{name, fingerprint, false}}), auth);
  std::string issue_id = AcceptedAlert(fired);
  ASSERT_FALSE(issue_id.empty());
  Json issue = GetIssue(w.admin, issue_id);
  EXPECT_EQ(issue.Str("/status"), "open") << issue.Raw("");
  EXPECT_EQ(issue.Str("/source"), "alertmanager") << issue.Raw("");
  EXPECT_EQ(issue.Str("/external_id"), fingerprint) << issue.Raw("");
  EXPECT_EQ(IssueTotal(w.admin, "source=alertmanager"), 1);

  // Alertmanager retries a notification it thinks failed: the same group, byte for byte, is the
  // same (derived) delivery id, acknowledged and not processed again.
  HttpResponse retried =
      PostAlert(w.id(), "alertmanager", AlertmanagerBody({{name, fingerprint, false}}), auth);
  ASSERT_TRUE(HasStatus(retried, 200));
  EXPECT_EQ(Json::Parse(retried.body).Bool("/duplicate_delivery"), true) << retried.body;
  EXPECT_FALSE(Json::Parse(retried.body).Str("/delivery_id").value_or("").empty()) << retried.body;
  EXPECT_EQ(GetIssue(w.admin, issue_id).Int("/occurrences"), 1);

  // The same alert resolved: the issue is resolved, nothing new.
  HttpResponse resolved =
      PostAlert(w.id(), "alertmanager", AlertmanagerBody({{name, fingerprint, true}}), auth);
  ASSERT_TRUE(HasStatus(resolved, 202));
  EXPECT_EQ(Json::Parse(resolved.body).Str("/issue_id"), issue_id) << resolved.body;
  EXPECT_EQ(GetIssue(w.admin, issue_id).Str("/status"), "resolved");
  EXPECT_EQ(IssueTotal(w.admin, "source=alertmanager"), 1);

  // A resolved alert never seen firing creates nothing.
  const size_t events = EventCount(w.admin);
  HttpResponse unknown = PostAlert(
      w.id(), "alertmanager",
      AlertmanagerBody({{"NeverFired" + UniqueSuffix(), std::to_string(UniqueNumber()), true}}),
      auth);
  ASSERT_TRUE(HasStatus(unknown, 202));
  Json uj = Json::Parse(unknown.body);
  EXPECT_TRUE(uj.IsNull("/issue_id")) << unknown.body;
  EXPECT_EQ(IssueTotal(w.admin), 1);
  EXPECT_EQ(EventCount(w.admin), events);
}

TEST_F(InboundTest, SeveralAlertsInOneDeliveryAnswerTheBatchBody) {
  Workspace w = NewWorkspace();
  ASSERT_FALSE(HasFailure());
  RequireSignature(w.admin, "alertmanager", false);
  const std::string key = IngestToken(w);
  const std::string name = "QueueBacklog" + UniqueSuffix();
  HttpResponse r = PostAlert(w.id(), "alertmanager",
                             AlertmanagerBody({{name, std::to_string(UniqueNumber()), false},
                                               {name, std::to_string(UniqueNumber()), false}}),
                             ApiKey(key));
  ASSERT_TRUE(HasStatus(r, 202));
  Json j = Json::Parse(r.body);
  EXPECT_EQ(j.Int("/accepted"), 2) << r.body;
  EXPECT_EQ(j.Size("/rejected"), 0u) << r.body;
  ASSERT_EQ(j.Size("/results"), 2u) << r.body;
  EXPECT_TRUE(j.Str("/job_id").value_or("").starts_with("ing_job_")) << r.body;
  std::string first = j.Str("/results/0/issue_id").value_or("");
  std::string second = j.Str("/results/1/issue_id").value_or("");
  EXPECT_TRUE(first.starts_with("iss_")) << r.body;
  EXPECT_TRUE(second.starts_with("iss_")) << r.body;
  EXPECT_NE(first, second);
  EXPECT_EQ(IssueTotal(w.admin, "source=alertmanager"), 2);

  // §6.1 too: an alertmanager connector's delivery of two alerts, and a custom_api
  // connector's {"records": [...]}.
  Connector am = CreateConnector(w.admin, "alertmanager");
  const std::string am_name = "DiskFull" + UniqueSuffix();
  const std::string am_body = AlertmanagerBody({{am_name, std::to_string(UniqueNumber()), false},
                                                {am_name, std::to_string(UniqueNumber()), false}});
  HttpResponse am_r = PostInbound(am.id, am_body, CauseloopSignature(am.secret, am_body));
  ASSERT_TRUE(HasStatus(am_r, 202));
  Json aj = Json::Parse(am_r.body);
  EXPECT_EQ(aj.Int("/accepted"), 2) << am_r.body;
  EXPECT_EQ(aj.Size("/results"), 2u) << am_r.body;
  EXPECT_EQ(aj.Int("/results/1/index"), 1) << am_r.body;
  EXPECT_EQ(IssueTotal(w.admin, "source=alertmanager"), 4);

  Connector custom = CreateConnector(w.admin, "custom_api");
  const std::string records = R"({"records":[)" + NewRecord("Batch one").Compact() + "," +
                              NewRecord("Batch two").Compact() + "]}";
  HttpResponse cr = PostInbound(custom.id, records, CauseloopSignature(custom.secret, records));
  ASSERT_TRUE(HasStatus(cr, 202));
  Json cj = Json::Parse(cr.body);
  EXPECT_EQ(cj.Int("/accepted"), 2) << cr.body;
  ASSERT_EQ(cj.Size("/results"), 2u) << cr.body;
  EXPECT_TRUE(cj.Str("/results/0/issue_id").value_or("").starts_with("iss_")) << cr.body;
  EXPECT_EQ(IssueTotal(w.admin), 6);
}

// --- 6. The real Alertmanager -----------------------------------------------------------------

// A free TCP port on 127.0.0.1 (bound, read, released).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// A child process started like the harness starts the server: fork + execv, its output
// appended to a log file, killed with the test process (PR_SET_PDEATHSIG) if not before.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { Kill(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  ::testing::AssertionResult Start(const std::string& path, const std::vector<std::string>& args,
                                   const std::string& log) {
    std::vector<std::string> storage = {path};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, 0);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (pid < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
    pid_ = pid;
    return ::testing::AssertionSuccess();
  }

  // False once the process has exited (reaping it).
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

class AlertmanagerTest : public ServerTest<AlertmanagerTest> {
 protected:
  void SetUp() override {
    ServerTest<AlertmanagerTest>::SetUp();
    if (HasFatalFailure()) return;
    dir_ = (fs::temp_directory_path() / ("causeloop-alertmanager-" + UniqueSuffix())).string();
    fs::create_directories(dir_ + "/data");
  }
  void TearDown() override {
    alertmanager_.Kill();
    if (HasFailure() && !dir_.empty()) {
      std::cerr << "---- alertmanager log tail (" << log_path() << ")\n"
                << Tail(ReadFile(log_path()), 3000) << "\n----\n";
    }
    if (!dir_.empty() && std::getenv("CAUSELOOP_E2E_KEEP_DIRS") == nullptr) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
    ServerTest<AlertmanagerTest>::TearDown();
  }
  [[nodiscard]] std::string log_path() const { return dir_ + "/alertmanager.log"; }

  std::string dir_;
  ChildProcess alertmanager_;
};

TEST_F(AlertmanagerTest, RealAlertmanagerDeliversFiresDedupsAndResolves) {
  ASSERT_EQ(::access(kAlertmanagerBinary, X_OK), 0)
      << kAlertmanagerBinary
      << " is missing: install Debian's prometheus-alertmanager (scripts/test installs it with "
         "TEST_PACKAGES). This test needs the real Alertmanager and does not skip.";

  Credentials ws;
  Http http = FreshWorkspace(&ws);
  ASSERT_FALSE(ws.workspace_id.empty());
  auto token = server().CreateToken(ws.workspace_id, {"ingest:write"}, "alertmanager");
  ASSERT_TRUE(token);
  // Alertmanager cannot sign its webhooks: the admin waives the signature for it.
  HttpResponse waived =
      http.Request("PATCH", "/v1/settings/alert-webhooks",
                   R"({"providers":{"alertmanager":{"require_signature":false}}})");
  ASSERT_TRUE(HasStatus(waived, 200));

  const int am_port = FreePort();
  ASSERT_GT(am_port, 0);
  const std::string receiver_url =
      server().BaseUrl() + "/v1/webhooks/" + ws.workspace_id + "/alertmanager";
  const std::string config = dir_ + "/alertmanager.yml";
  {
    std::ofstream out(config);
    out << "route:\n"
           "  receiver: causeloop\n"
           "  group_by: ['alertname']\n"
           "  group_wait: 1s\n"
           "  group_interval: 2s\n"
           "  repeat_interval: 1h\n"
           "receivers:\n"
           "  - name: causeloop\n"
           "    webhook_configs:\n"
           "      - url: '"
        << receiver_url
        << "'\n"
           "        send_resolved: true\n"
           "        max_alerts: 0\n"
           "        http_config:\n"
           "          authorization:\n"
           "            type: Bearer\n"
           "            credentials: '"
        << token->token << "'\n";
  }
  ASSERT_TRUE(alertmanager_.Start(
      kAlertmanagerBinary,
      {"--config.file=" + config, "--storage.path=" + dir_ + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
      log_path()));
  Http am("http://127.0.0.1:" + std::to_string(am_port));
  bool ready = PollUntil(
      [&] { return !alertmanager_.Running() || am.Get("/-/ready").status == 200; }, 30s, 100ms);
  ASSERT_TRUE(ready && alertmanager_.Running())
      << "alertmanager did not become ready on port " << am_port << ":\n"
      << Tail(ReadFile(log_path()), 3000);

  const std::string alertname = "CheckoutHighErrorRate" + UniqueSuffix();
  const std::string starts = Rfc3339FromNow(-60s);
  auto alert = [&](const std::string& ends_at) {
    std::string a = R"([{"labels":{"alertname":)" + Quote(alertname) +
                    R"(,"service":"checkout-api","severity":"critical",)"
                    R"("instance":"checkout-api-7d9f8c6b5-x2kqz:8080"},)"
                    R"("annotations":{"summary":"Checkout API 5xx ratio above 5%",)"
                    R"("description":"5.8% of checkout requests failed over the last 5 minutes."},)"
                    R"("startsAt":)" +
                    Quote(starts) +
                    R"(,"generatorURL":"http://prometheus.example:9090/graph?g0.expr=up")";
    if (!ends_at.empty()) a += R"(,"endsAt":)" + Quote(ends_at);
    return a + "}]";
  };
  auto total = [&] {
    Json j = Json::Parse(http.Get("/v1/issues?source=alertmanager&limit=10").body);
    return j.Int("/page/total").value_or(-1);
  };

  // Fire: Alertmanager notifies after group_wait; one issue appears.
  ASSERT_TRUE(HasStatus(am.Post("/api/v2/alerts", alert("")), 200));
  ASSERT_TRUE(PollUntil([&] { return total() >= 1; }, 30s, 200ms))
      << "no alertmanager issue arrived; server log:\n"
      << server().LogTail(2500);
  Json list = Json::Parse(http.Get("/v1/issues?source=alertmanager&limit=10").body);
  ASSERT_EQ(list.Int("/page/total"), 1) << list.Raw("");
  const std::string issue_id = list.Str("/data/0/id").value_or("");
  ASSERT_FALSE(issue_id.empty()) << list.Raw("");
  Json issue = Json::Parse(http.Get("/v1/issues/" + issue_id).body);
  EXPECT_EQ(issue.Str("/status"), "open") << issue.Raw("");
  EXPECT_EQ(issue.Str("/service"), "checkout-api") << issue.Raw("");
  EXPECT_NE(issue.Raw("").find("Checkout API 5xx ratio above 5%"), std::string::npos)
      << issue.Raw("");

  // Re-fire the same alert: still one issue, also after group_interval (2 s) has passed.
  ASSERT_TRUE(HasStatus(am.Post("/api/v2/alerts", alert("")), 200));
  const auto settle = Clock::now() + 4500ms;
  int64_t seen = 1;
  while (Clock::now() < settle && seen == 1) {
    seen = total();
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(seen, 1) << "a re-fired alert made a second issue";

  // Resolve: endsAt now; Alertmanager sends the resolved notification; the issue resolves.
  ASSERT_TRUE(HasStatus(am.Post("/api/v2/alerts", alert(Rfc3339FromNow(0s))), 200));
  std::string status;
  EXPECT_TRUE(PollUntil(
      [&] {
        status = Json::Parse(http.Get("/v1/issues/" + issue_id).body).Str("/status").value_or("");
        return status == "resolved";
      },
      30s, 200ms))
      << "the issue is " << status << "; server log:\n"
      << server().LogTail(2500);
  EXPECT_EQ(total(), 1);

  // The receiver saw Alertmanager's deliveries, none of them refused.
  Json settings = Json::Parse(http.Get("/v1/settings/alert-webhooks").body);
  EXPECT_GE(settings.Int("/providers/alertmanager/deliveries_24h").value_or(0), 2)
      << settings.Raw("");
  EXPECT_EQ(settings.Int("/providers/alertmanager/signature_failures_24h"), 0) << settings.Raw("");
}

}  // namespace
}  // namespace causeloop::e2e

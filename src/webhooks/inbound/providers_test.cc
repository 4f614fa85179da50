#include "webhooks/inbound/providers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/json_writer.h"
#include "normalize/normalize.h"

namespace causeloop::webhooks::inbound {
namespace {

namespace fs = std::filesystem;

// Parses `json` and keeps the document alive for the element it hands out.
class Doc {
 public:
  explicit Doc(std::string_view json) : padded_(json) {
    auto r = parser_.parse(padded_);
    EXPECT_EQ(r.error(), simdjson::SUCCESS) << json;
    if (r.error() == simdjson::SUCCESS) root_ = r.value_unsafe();
  }
  [[nodiscard]] simdjson::dom::element root() const { return root_; }

 private:
  simdjson::padded_string padded_;
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Minified(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) return "<invalid JSON> " + json;
  return simdjson::minify(e);
}

HeaderMap HeadersFromJson(std::string_view json) {
  HeaderMap headers;
  Doc doc(json);
  simdjson::dom::object obj;
  if (doc.root().get_object().get(obj) != simdjson::SUCCESS) return headers;
  for (auto field : obj) {
    std::string_view value;
    if (field.value.get_string().get(value) == simdjson::SUCCESS) headers.Add(field.key, value);
  }
  return headers;
}

// The golden form of one delivery: its id, and its records with their actions or the rejection.
std::string Outcome(std::string_view provider, const HeaderMap& headers,
                    simdjson::dom::element payload) {
  JsonWriter w;
  w.BeginObject();
  auto id = DeliveryId(provider, headers.Lookup(), payload);
  w.Key("delivery_id");
  if (id) {
    w.String(*id);
  } else {
    w.Null();
  }
  auto records = ParseWebhook(provider, headers.Lookup(), payload);
  if (records) {
    w.Key("records").BeginArray();
    for (const auto& r : *records) {
      w.BeginObject().Field("action", ActionName(r.action));
      w.Key("record").Raw(normalize::EncodeRecord(r.record));
      w.EndObject();
    }
    w.EndArray();
  } else {
    w.Key("rejected").BeginObject();
    w.Field("code", ErrorCodeName(records.error().code));
    w.Field("field", records.error().details.empty() ? "" : records.error().details[0].first);
    w.Field("message", records.error().message);
    w.EndObject();
  }
  if (provider == "cloudwatch") {
    auto sub = ParseSnsSubscriptionConfirmation(payload);
    w.Key("sns_subscription");
    if (sub && *sub) {
      w.BeginObject()
          .Field("subscribe_url", (*sub)->subscribe_url)
          .Field("topic_arn", (*sub)->topic_arn)
          .Field("message_id", (*sub)->message_id)
          .EndObject();
    } else if (!sub) {
      w.BeginObject().Field("rejected", sub.error().message).EndObject();
    } else {
      w.Null();
    }
  }
  w.EndObject();
  return w.Take();
}

// ---------------------------------------------------------------------------------------------
// Golden files: testdata/webhooks/<provider>/<case>.input.json (+ <case>.headers.json, a JSON
// object of header name -> value) -> <case>.expected.json.
// CAUSELOOP_UPDATE_GOLDEN=1 rewrites the expected files (review the diff!).

struct GoldenCase {
  std::string provider;
  fs::path input;
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.input.string(); }

std::string StemOf(const fs::path& input) {
  std::string stem = input.filename().string();
  stem.resize(stem.size() - std::string_view(".input.json").size());
  return stem;
}

std::vector<GoldenCase> GoldenCases() {
  std::vector<GoldenCase> cases;
  fs::path root = fs::path(CAUSELOOP_SOURCE_DIR) / "testdata" / "webhooks";
  if (!fs::is_directory(root)) return cases;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      std::string name = file.path().filename().string();
      if (name.size() > 11 && name.ends_with(".input.json")) {
        cases.push_back({dir.path().filename().string(), file.path()});
      }
    }
  }
  std::sort(cases.begin(), cases.end(),
            [](const GoldenCase& a, const GoldenCase& b) { return a.input < b.input; });
  return cases;
}

class WebhookGoldenTest : public testing::TestWithParam<GoldenCase> {};

TEST_P(WebhookGoldenTest, MatchesTheExpectedRecords) {
  const GoldenCase& c = GetParam();
  std::string stem = StemOf(c.input);
  fs::path headers_path = c.input.parent_path() / (stem + ".headers.json");
  HeaderMap headers;
  if (fs::exists(headers_path)) headers = HeadersFromJson(ReadFile(headers_path));
  Doc doc(ReadFile(c.input));

  std::string actual = Outcome(c.provider, headers, doc.root());

  fs::path expected_path = c.input.parent_path() / (stem + ".expected.json");
  const char* update = std::getenv("CAUSELOOP_UPDATE_GOLDEN");
  if (update != nullptr && std::string_view(update) == "1") {
    std::ofstream(expected_path, std::ios::binary) << normalize::PrettyJson(actual);
  }
  ASSERT_TRUE(fs::exists(expected_path))
      << expected_path << " is missing; run with CAUSELOOP_UPDATE_GOLDEN=1 and review it";
  EXPECT_EQ(Minified(ReadFile(expected_path)), Minified(actual)) << "actual:\n"
                                                                 << normalize::PrettyJson(actual);
}

INSTANTIATE_TEST_SUITE_P(Webhooks, WebhookGoldenTest, testing::ValuesIn(GoldenCases()),
                         [](const testing::TestParamInfo<GoldenCase>& case_info) {
                           std::string name =
                               case_info.param.provider + "_" + StemOf(case_info.param.input);
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(WebhookGoldenTest, EveryProviderHasEnoughCases) {
  std::map<std::string, int> counts;
  for (const auto& c : GoldenCases()) ++counts[c.provider];
  for (std::string_view provider :
       {"jira", "pagerduty", "sentry", "grafana", "datadog", "custom"}) {
    EXPECT_GE(counts[std::string(provider)], 2) << provider;
  }
  for (std::string_view provider : {"github", "alertmanager", "cloudwatch"}) {
    EXPECT_GE(counts[std::string(provider)], 3) << provider;
  }
}

// ---------------------------------------------------------------------------------------------
// Behaviours the golden files show only implicitly.

Result<std::vector<InboundRecord>> Parse(std::string_view provider, const HeaderMap& headers,
                                         std::string_view json) {
  Doc doc(json);
  return ParseWebhook(provider, headers.Lookup(), doc.root());
}

std::optional<std::string> Delivery(std::string_view provider, const HeaderMap& headers,
                                    std::string_view json) {
  Doc doc(json);
  return DeliveryId(provider, headers.Lookup(), doc.root());
}

std::string Fixture(std::string_view relative) {
  return ReadFile(fs::path(CAUSELOOP_SOURCE_DIR) / "testdata" / "webhooks" / relative);
}

TEST(ParseWebhookTest, UnknownProviderIsNotFound) {
  auto r = Parse("nagios", {}, R"({"state": "CRITICAL"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(IsWebhookProvider("nagios"));
  EXPECT_TRUE(IsWebhookProvider("custom_api"));
}

TEST(ParseWebhookTest, CustomApiIsAnAliasOfCustom) {
  std::string body = R"({"title": "t", "description": "d", "sourceAlertId": "a-1"})";
  auto custom = Parse("custom", {}, body);
  auto alias = Parse("custom_api", {}, body);
  ASSERT_TRUE(custom && alias);
  ASSERT_EQ(alias->size(), 1U);
  EXPECT_EQ(normalize::EncodeRecord((*alias)[0].record),
            normalize::EncodeRecord((*custom)[0].record));
}

TEST(ParseWebhookTest, GitHubWorkflowFailureAndTheNextSuccessShareOneIssue) {
  HeaderMap headers{{"X-GitHub-Event", "workflow_run"}};
  auto failed = Parse("github", headers, Fixture("github/workflow_run_failed_on_main.input.json"));
  auto fixed =
      Parse("github", headers, Fixture("github/workflow_run_succeeded_resolves.input.json"));
  ASSERT_TRUE(failed && fixed);
  ASSERT_EQ(failed->size(), 1U);
  ASSERT_EQ(fixed->size(), 1U);
  EXPECT_EQ((*failed)[0].action, Action::kUpsert);
  EXPECT_EQ((*fixed)[0].action, Action::kResolve);
  EXPECT_EQ((*failed)[0].record.external_id, (*fixed)[0].record.external_id);
  EXPECT_EQ((*failed)[0].record.title, (*fixed)[0].record.title);
}

TEST(ParseWebhookTest, DatadogTriggerAndRecoveryMeetWithTheDefaultTemplate) {
  auto triggered = Parse("datadog", {}, Fixture("datadog/default_template_triggered.input.json"));
  auto recovered = Parse("datadog", {}, Fixture("datadog/default_template_recovered.input.json"));
  ASSERT_TRUE(triggered && recovered);
  EXPECT_EQ((*triggered)[0].record.external_id, (*recovered)[0].record.external_id);
  EXPECT_EQ((*recovered)[0].action, Action::kResolve);
}

TEST(ParseWebhookTest, DatadogTriggersOfDifferentScopesAreDifferentIssues) {
  auto a = Parse("datadog", {}, R"({"id": "1", "title": "[Triggered on {host:a}] Disk full"})");
  auto b = Parse("datadog", {}, R"({"id": "2", "title": "[Triggered on {host:b}] Disk full"})");
  ASSERT_TRUE(a && b);
  EXPECT_NE((*a)[0].record.external_id, (*b)[0].record.external_id);
  EXPECT_EQ((*a)[0].record.title, "Disk full");
}

TEST(ParseWebhookTest, DatadogScopeOrderDoesNotSplitAnIssue) {
  auto from_title =
      Parse("datadog", {}, R"({"alert_id": 9, "title": "[Warn on {b:2, a:1}] Queue deep"})");
  auto from_field =
      Parse("datadog", {}, R"({"alert_id": "9", "alert_scope": "a:1,b:2", "title": "Queue deep"})");
  ASSERT_TRUE(from_title && from_field);
  EXPECT_EQ((*from_title)[0].record.external_id, "monitor/9/a:1,b:2");
  EXPECT_EQ((*from_field)[0].record.external_id, "monitor/9/a:1,b:2");
  EXPECT_EQ((*from_title)[0].record.severity, model::Severity::kP3);
}

TEST(ParseWebhookTest, SentryEventAlertAndIssueWebhookLandOnTheSameIssue) {
  auto alert = Parse("sentry", {{"Sentry-Hook-Resource", "event_alert"}},
                     Fixture("sentry/event_alert_triggered.input.json"));
  auto resolved = Parse("sentry", {{"Sentry-Hook-Resource", "issue"}},
                        Fixture("sentry/issue_resolved_in_release.input.json"));
  ASSERT_TRUE(alert && resolved);
  EXPECT_EQ((*alert)[0].record.external_id, (*resolved)[0].record.external_id);
}

TEST(ParseWebhookTest, ASnsSubscribeUrlOffAwsIsRefused) {
  for (std::string_view url :
       {"http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
        "https://sns.us-east-1.amazonaws.com.evil.example/",
        "https://sns.us-east-1.amazonaws.com:8443/", "https://user@sns.us-east-1.amazonaws.com/",
        "https://169.254.169.254/latest/meta-data/", "https://evil.example/sns.amazonaws.com"}) {
    std::string body = R"({"Type": "SubscriptionConfirmation", "TopicArn": "arn:aws:sns:x",
                           "SubscribeURL": ")" +
                       std::string(url) + R"("})";
    Doc doc(body);
    auto sub = ParseSnsSubscriptionConfirmation(doc.root());
    ASSERT_FALSE(sub) << url;
    EXPECT_EQ(sub.error().details[0].first, "SubscribeURL");
    EXPECT_FALSE(ParseWebhook("cloudwatch", HeaderMap().Lookup(), doc.root())) << url;
  }
}

TEST(ParseWebhookTest, ANotificationThatIsNotAnAlarmIsRejected) {
  auto r = Parse("cloudwatch", {},
                 R"({"Type": "Notification", "MessageId": "m", "Message": "deploy finished"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().details[0].first, "Message");
}

TEST(ParseWebhookTest, AMalformedAlertNamesItsIndex) {
  auto r = Parse("alertmanager", {},
                 R"({"version": "4", "status": "firing", "alerts": [
                       {"status": "firing", "labels": {"alertname": "A"}, "fingerprint": "f1"},
                       {"status": "firing", "labels": {"alertname": 7}, "fingerprint": "f2"}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kValidation);
  EXPECT_EQ(r.error().details[0].first, "alerts[1].labels");
}

TEST(ParseWebhookTest, AnIgnorableEventThatDoesNotParseIsNoRecordNotAnError) {
  auto r = Parse("github", {{"X-GitHub-Event", "issues"}},
                 R"({"action": "labeled", "issue": {"title": 12}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->empty());
}

TEST(ParseWebhookTest, CustomRejectsNonStringTags) {
  auto r = Parse("custom", {}, R"({"title": "t", "description": "d", "tags": {"n": 1}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().details[0].first, "tags");
}

const char* kAlertGroup = R"({"version": "4", "groupKey": "{}:{alertname=\"A\"}",
  "status": "firing", "truncatedAlerts": 0, "alerts": [
  {"status": "firing", "fingerprint": "f1", "startsAt": "2024-04-25T10:00:00Z",
   "endsAt": "0001-01-01T00:00:00Z", "labels": {"alertname": "A", "i": "1"}},
  {"status": "firing", "fingerprint": "f2", "startsAt": "2024-04-25T10:01:00Z",
   "endsAt": "0001-01-01T00:00:00Z", "labels": {"alertname": "A", "i": "2"}}]})";

TEST(DeliveryIdTest, AlertmanagerIdIgnoresAlertOrderAndLabels) {
  std::string reordered = R"({"version": "4", "groupKey": "{}:{alertname=\"A\"}",
  "status": "firing", "truncatedAlerts": 0, "alerts": [
  {"status": "firing", "fingerprint": "f2", "startsAt": "2024-04-25T10:01:00Z",
   "endsAt": "0001-01-01T00:00:00Z", "labels": {"alertname": "A", "i": "two"}},
  {"status": "firing", "fingerprint": "f1", "startsAt": "2024-04-25T10:00:00Z",
   "endsAt": "0001-01-01T00:00:00Z", "labels": {"alertname": "A", "i": "one"}}]})";
  auto a = Delivery("alertmanager", {}, kAlertGroup);
  ASSERT_TRUE(a);
  EXPECT_EQ(a, Delivery("alertmanager", {}, reordered));
  EXPECT_EQ(a->substr(0, 2), "h_");
  EXPECT_EQ(a->size(), 34U);
}

TEST(DeliveryIdTest, AlertmanagerIdChangesWhenAnAlertResolves) {
  std::string resolved = kAlertGroup;
  resolved.replace(resolved.find(R"("status": "firing", "fingerprint": "f2")"),
                   std::string_view(R"("status": "firing")").size(), R"("status": "resolved")");
  EXPECT_NE(Delivery("alertmanager", {}, kAlertGroup), Delivery("alertmanager", {}, resolved));
}

TEST(DeliveryIdTest, ProviderIdsComeFromTheirHeadersOrPayload) {
  EXPECT_EQ(Delivery("github", {{"X-GitHub-Delivery", " abc "}}, "{}"), "abc");
  EXPECT_EQ(Delivery("jira", {{"X-Atlassian-Webhook-Identifier", "17"}}, "{}"), "17");
  EXPECT_EQ(Delivery("pagerduty", {{"X-Webhook-Id", "hdr"}}, R"({"event": {"id": "evt"}})"), "evt");
  EXPECT_EQ(Delivery("pagerduty", {{"X-Webhook-Id", "hdr"}}, R"({"event": {}})"), "hdr");
  EXPECT_EQ(Delivery("sentry", {{"Request-ID", "rq"}}, "{}"), "rq");
  EXPECT_EQ(Delivery("cloudwatch", {}, R"({"MessageId": "m-1"})"), "m-1");
  EXPECT_EQ(Delivery("datadog", {}, R"({"id": 7543212837418270911})"), "7543212837418270911");
  EXPECT_EQ(Delivery("custom", {{"webhook-id", "msg_1"}}, "{}"), "msg_1");
  EXPECT_EQ(Delivery("custom", {}, R"({"title": "x"})"), std::nullopt);
  EXPECT_EQ(Delivery("github", {}, "{}"), std::nullopt);
}

TEST(DeliveryIdTest, OverlongIdsAreHashed) {
  std::string id(500, 'x');
  auto got = Delivery("github", {{"X-GitHub-Delivery", id}}, "{}");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 34U);
  EXPECT_EQ(got, Delivery("github", {{"X-GitHub-Delivery", id}}, "{}"));
}

}  // namespace
}  // namespace causeloop::webhooks::inbound

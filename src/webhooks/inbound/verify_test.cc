#include "webhooks/inbound/verify.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "auth/crypto.h"

namespace causeloop::webhooks::inbound {
namespace {

// A rotation pair: the current secret and the one it replaced.
constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kOldSecret = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24=";
constexpr std::string_view kBody =
    R"({"title":"Disk full on db-1","description":"92% used","severity":"high"})";
// The same JSON document, re-serialized with different whitespace.
constexpr std::string_view kReserializedBody =
    R"({"title": "Disk full on db-1", "description": "92% used", "severity": "high"})";

// Computed independently of this code, in the shell:
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET"
// with BODY=kBody and SECRET=kSecret.
constexpr std::string_view kOpensslHexOfBody =
    "d2ea57947e712b39ea9ed2b8b6b457b81ccac43708bcb37bf719ee62df4aaed7";

// The Standard Webhooks test vector (standardwebhooks.com reference libraries), re-checked with
//   printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
//     openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '%s' MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
//     | base64 -d | xxd -p -c 256) -binary | base64
constexpr std::string_view kSwId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::string_view kSwTimestamp = "1614265330";
constexpr std::string_view kSwBody = R"({"test": 2432232314})";
constexpr std::string_view kSwSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const SystemTime kSwNow = SystemTime(std::chrono::seconds(1614265330));

std::string Hex(std::string_view secret, std::string_view body) {
  return auth::HmacSha256Hex(secret, body);
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A Standard Webhooks "v1,<base64>" signature of kBody, keyed like the spec says.
std::string StandardSignature(std::string_view secret, std::string_view id, int64_t timestamp,
                              std::string_view body) {
  auto key = auth::Base64Decode(secret.substr(6));
  std::string content = std::string(id) + "." + std::to_string(timestamp) + "." + std::string(body);
  return "v1," + auth::Base64Encode(auth::AsChars(auth::HmacSha256(*key, content)));
}

struct Case {
  std::string name;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<std::string> secrets;
  SystemTime now;
  std::optional<Scheme> scheme;  // nullopt: must fail
  std::string reason;            // a substring of the failure reason
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> ConnectorCases() {
  const std::string s(kSecret);
  const std::string old(kOldSecret);
  const std::string body(kBody);
  const SystemTime now = kSwNow;
  const int64_t t = 1614265330;
  auto standard = [&](std::string_view secret, int64_t ts) {
    return std::vector<std::pair<std::string, std::string>>{
        {"Webhook-Id", "msg_1"},
        {"Webhook-Timestamp", std::to_string(ts)},
        {"Webhook-Signature", StandardSignature(secret, "msg_1", ts, kBody)}};
  };
  std::vector<Case> cases = {
      // Each scheme, valid.
      {"causeloop_openssl_vector",
       {{"X-Causeloop-Signature", std::string(kOpensslHexOfBody)}},
       body,
       {s},
       now,
       Scheme::kCauseloop,
       ""},
      {"causeloop_uppercase_hex_accepted",
       {{"X-Causeloop-Signature", Upper(std::string(kOpensslHexOfBody))}},
       body,
       {s},
       now,
       Scheme::kCauseloop,
       ""},
      {"github_sha256",
       {{"X-Hub-Signature-256", "sha256=" + Hex(s, body)}},
       body,
       {s},
       now,
       Scheme::kHubSignature256,
       ""},
      {"jira_hub_signature",
       {{"X-Hub-Signature", "sha256=" + Hex(s, body)}},
       body,
       {s},
       now,
       Scheme::kHubSignature,
       ""},
      {"pagerduty_single",
       {{"X-PagerDuty-Signature", "v1=" + Hex(s, body)}},
       body,
       {s},
       now,
       Scheme::kPagerDuty,
       ""},
      {"pagerduty_second_of_two",
       {{"X-PagerDuty-Signature", "v1=" + Hex("other", body) + ",v1=" + Hex(s, body)}},
       body,
       {s},
       now,
       Scheme::kPagerDuty,
       ""},
      {"sentry", {{"Sentry-Hook-Signature", Hex(s, body)}}, body, {s}, now, Scheme::kSentry, ""},
      {"standard_webhooks_reference_vector",
       {{"webhook-id", std::string(kSwId)},
        {"webhook-timestamp", std::string(kSwTimestamp)},
        {"webhook-signature", std::string(kSwSignature)}},
       std::string(kSwBody),
       {s},
       kSwNow,
       Scheme::kStandardWebhooks,
       ""},
      {"standard_webhooks_second_of_two",
       {{"webhook-id", "msg_1"},
        {"webhook-timestamp", std::to_string(t)},
        {"webhook-signature", StandardSignature(old, "msg_1", t, kBody) + " " +
                                  StandardSignature(s, "msg_1", t, kBody)}},
       body,
       {s},
       now,
       Scheme::kStandardWebhooks,
       ""},
      // A broken header does not hide a valid one.
      {"malformed_header_then_valid_one",
       {{"X-Causeloop-Signature", "not-hex"}, {"X-Hub-Signature-256", "sha256=" + Hex(s, body)}},
       body,
       {s},
       now,
       Scheme::kHubSignature256,
       ""},

      // Missing / malformed / wrong.
      {"no_signature_header",
       {{"Content-Type", "application/json"}},
       body,
       {s},
       now,
       std::nullopt,
       "no signature header"},
      {"causeloop_wrong_signature",
       {{"X-Causeloop-Signature", Hex(s, "{}")}},
       body,
       {s},
       now,
       std::nullopt,
       "x-causeloop-signature: signature does not match"},
      {"causeloop_malformed",
       {{"X-Causeloop-Signature", "zz" + Hex(s, body).substr(2)}},
       body,
       {s},
       now,
       std::nullopt,
       "malformed"},
      {"causeloop_truncated",
       {{"X-Causeloop-Signature", Hex(s, body).substr(1)}},
       body,
       {s},
       now,
       std::nullopt,
       "malformed"},
      {"github_without_prefix",
       {{"X-Hub-Signature-256", Hex(s, body)}},
       body,
       {s},
       now,
       std::nullopt,
       "expected sha256=<hex>"},
      {"github_legacy_sha1_refused",
       {{"X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567"}},
       body,
       {s},
       now,
       std::nullopt,
       "only sha256"},
      {"pagerduty_no_v1_entry",
       {{"X-PagerDuty-Signature", "v2=" + Hex(s, body)}},
       body,
       {s},
       now,
       std::nullopt,
       "malformed"},
      {"sentry_wrong",
       {{"Sentry-Hook-Signature", Hex(s, "x")}},
       body,
       {s},
       now,
       std::nullopt,
       "does not match"},
      {"signature_over_reserialized_body",
       {{"X-Hub-Signature-256", "sha256=" + Hex(s, kReserializedBody)}},
       body,
       {s},
       now,
       std::nullopt,
       "does not match"},
      {"wrong_secret",
       {{"X-Causeloop-Signature", Hex("whsec_someone_else", body)}},
       body,
       {s},
       now,
       std::nullopt,
       "does not match"},
      {"no_secret_configured",
       {{"X-Causeloop-Signature", Hex(s, body)}},
       body,
       {},
       now,
       std::nullopt,
       "no inbound signing secret"},
      {"only_empty_secrets",
       {{"X-Causeloop-Signature", Hex("", body)}},
       body,
       {""},
       now,
       std::nullopt,
       "no inbound signing secret"},

      // Standard Webhooks timestamps: ±5 minutes inclusive.
      {"standard_webhooks_exactly_5_minutes_old",
       standard(s, t - 300),
       body,
       {s},
       now,
       Scheme::kStandardWebhooks,
       ""},
      {"standard_webhooks_stale", standard(s, t - 301), body, {s}, now, std::nullopt, "too old"},
      {"standard_webhooks_exactly_5_minutes_ahead",
       standard(s, t + 300),
       body,
       {s},
       now,
       Scheme::kStandardWebhooks,
       ""},
      {"standard_webhooks_future",
       standard(s, t + 301),
       body,
       {s},
       now,
       std::nullopt,
       "in the future"},
      {"standard_webhooks_timestamp_not_a_number",
       {{"webhook-id", "msg_1"},
        {"webhook-timestamp", "yesterday"},
        {"webhook-signature", StandardSignature(s, "msg_1", t, kBody)}},
       body,
       {s},
       now,
       std::nullopt,
       "malformed webhook-timestamp"},
      {"standard_webhooks_missing_id",
       {{"webhook-timestamp", std::to_string(t)},
        {"webhook-signature", StandardSignature(s, "msg_1", t, kBody)}},
       body,
       {s},
       now,
       std::nullopt,
       "webhook-id is missing"},
      {"standard_webhooks_id_is_signed",
       {{"webhook-id", "msg_2"},
        {"webhook-timestamp", std::to_string(t)},
        {"webhook-signature", StandardSignature(s, "msg_1", t, kBody)}},
       body,
       {s},
       now,
       std::nullopt,
       "does not match"},
      {"standard_webhooks_key_is_the_decoded_secret",
       {{"webhook-id", "msg_1"},
        {"webhook-timestamp", std::to_string(t)},
        {"webhook-signature", "v1," + auth::Base64Encode(auth::AsChars(auth::HmacSha256(
                                          s, "msg_1." + std::to_string(t) + "." + body)))}},
       body,
       {s},
       now,
       std::nullopt,
       "does not match"},
      {"standard_webhooks_secret_not_base64",
       standard(s, t),
       body,
       {"plain secret!"},
       now,
       std::nullopt,
       "no signing secret usable"},

      // Rotation: during the grace period both secrets verify.
      {"rotation_new_secret",
       {{"X-Causeloop-Signature", Hex(s, body)}},
       body,
       {s, old},
       now,
       Scheme::kCauseloop,
       ""},
      {"rotation_previous_secret",
       {{"X-Causeloop-Signature", Hex(old, body)}},
       body,
       {s, old},
       now,
       Scheme::kCauseloop,
       ""},
      {"rotation_previous_secret_standard",
       standard(old, t),
       body,
       {s, old},
       now,
       Scheme::kStandardWebhooks,
       ""},
      {"after_rotation_old_secret_fails",
       {{"X-Causeloop-Signature", Hex(old, body)}},
       body,
       {s},
       now,
       std::nullopt,
       "does not match"},
  };
  return cases;
}

class ConnectorSignatureTest : public testing::TestWithParam<Case> {};

TEST_P(ConnectorSignatureTest, VerifiesAsSpecified) {
  const Case& c = GetParam();
  HeaderMap headers;
  for (const auto& [name, value] : c.headers) headers.Add(name, value);

  Result<Scheme> result = VerifyConnectorSignature(headers.Lookup(), c.body, c.secrets, c.now);

  if (c.scheme) {
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(*result, *c.scheme) << SchemeName(*result);
    return;
  }
  ASSERT_FALSE(result) << "verified with " << SchemeName(*result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(result.error().message.find(c.reason), std::string::npos) << result.error().message;
  // The reason is safe to log and return: no secret, body or signature in it.
  for (const auto& secret : c.secrets) {
    if (!secret.empty()) {
      EXPECT_EQ(result.error().message.find(secret), std::string::npos);
    }
  }
  EXPECT_EQ(result.error().message.find("Disk full"), std::string::npos);
  for (const auto& [name, value] : c.headers) {
    if (value.size() > 16) {
      EXPECT_EQ(result.error().message.find(value), std::string::npos);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Verify, ConnectorSignatureTest, testing::ValuesIn(ConnectorCases()),
                         [](const testing::TestParamInfo<Case>& case_info) {
                           return case_info.param.name;
                         });

TEST(ConnectorSignatureTest, NamesTheFirstFailingHeaderWhenSeveralFail) {
  HeaderMap headers{{"X-Hub-Signature-256", "sha256=" + Hex("x", kBody)},
                    {"Sentry-Hook-Signature", "nonsense"}};
  auto result = VerifyConnectorSignature(headers.Lookup(), kBody, {std::string(kSecret)}, kSwNow);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "x-hub-signature-256: signature does not match");
}

TEST(ConnectorSignatureTest, LooksHeadersUpInLowerCase) {
  std::vector<std::string> asked;
  HeaderLookup lookup = [&asked](std::string_view name) -> std::optional<std::string_view> {
    asked.emplace_back(name);
    return std::nullopt;
  };
  auto result = VerifyConnectorSignature(lookup, kBody, {std::string(kSecret)}, kSwNow);
  ASSERT_FALSE(result);
  ASSERT_FALSE(asked.empty());
  for (const auto& name : asked) {
    for (char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
  }
}

// SPEC §6.2: X-Webhook-Signature, keyed by the secret string's bytes.
struct AlertCase {
  std::string name;
  std::optional<std::string> header;
  std::vector<std::string> secrets;
  bool ok;
  std::string reason;
};

void PrintTo(const AlertCase& c, std::ostream* os) { *os << c.name; }

std::vector<AlertCase> AlertCases() {
  const std::string s(kSecret);
  const std::string old(kOldSecret);
  const std::string hex(kOpensslHexOfBody);
  return {
      {"prefixed_openssl_vector", "sha256=" + hex, {s}, true, ""},
      {"bare_hex", hex, {s}, true, ""},
      {"uppercase_hex", "sha256=" + Upper(hex), {s}, true, ""},
      {"previous_secret_during_grace", "sha256=" + Hex(old, kBody), {s, old}, true, ""},
      {"missing_header", std::nullopt, {s}, false, "x-webhook-signature header is missing"},
      {"no_secret", "sha256=" + hex, {}, false, "no webhook secret"},
      {"wrong_signature", "sha256=" + Hex(s, kReserializedBody), {s}, false, "does not match"},
      {"wrong_secret", "sha256=" + Hex(old, kBody), {s}, false, "does not match"},
      {"malformed", "sha256=xyz", {s}, false, "malformed"},
      {"sha1_refused", "sha1=" + hex.substr(0, 40), {s}, false, "only sha256"},
  };
}

class AlertWebhookSignatureTest : public testing::TestWithParam<AlertCase> {};

TEST_P(AlertWebhookSignatureTest, VerifiesAsSpecified) {
  const AlertCase& c = GetParam();
  HeaderMap headers{{"Content-Type", "application/json"}};
  if (c.header) headers.Add("X-Webhook-Signature", *c.header);

  Status status = VerifyAlertWebhookSignature(headers.Lookup(), kBody, c.secrets);

  if (c.ok) {
    EXPECT_TRUE(status) << status.error().message;
    return;
  }
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(status.error().message.find(c.reason), std::string::npos) << status.error().message;
  for (const auto& secret : c.secrets) {
    EXPECT_EQ(status.error().message.find(secret), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Verify, AlertWebhookSignatureTest, testing::ValuesIn(AlertCases()),
                         [](const testing::TestParamInfo<AlertCase>& case_info) {
                           return case_info.param.name;
                         });

TEST(HeaderMapTest, MatchesNamesCaseInsensitivelyAndKeepsTheFirstValue) {
  HeaderMap headers;
  headers.Add("X-GitHub-Event", "issues");
  headers.Add("x-github-event", "push");
  EXPECT_EQ(headers.Get("x-github-event"), "issues");
  EXPECT_EQ(headers.Lookup()("x-github-event"), "issues");
  EXPECT_FALSE(headers.Get("x-github-delivery"));
}

}  // namespace
}  // namespace causeloop::webhooks::inbound

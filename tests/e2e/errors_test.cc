// Every error status is produced for real and carries the one envelope (SPEC §4):
// {"error":{"code","message","trace_id" == X-Request-Id,"details"}}.

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

class ErrorEnvelopeTest : public ServerTest<ErrorEnvelopeTest> {};

TEST_F(ErrorEnvelopeTest, MalformedJsonIs400ValidationError) {
  HttpResponse r = http_.Post("/v1/ingest/events", R"({"title": "unterminated)");

  EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error"));
}

TEST_F(ErrorEnvelopeTest, AJsonArrayWhereAnObjectIsExpectedIs400) {
  HttpResponse r = http_.Post("/v1/ingest/events", R"([{"title":"x"}])");

  EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error"));
}

TEST_F(ErrorEnvelopeTest, MissingTokenIs401Unauthorized) {
  HttpResponse r = suite_->AnonymousHttp().Get("/v1/issues");

  EXPECT_TRUE(IsErrorEnvelope(r, 401, "unauthorized"));
}

TEST_F(ErrorEnvelopeTest, UnknownTokenIs401Unauthorized) {
  HttpResponse r = http_.WithToken("clp_" + std::string(64, 'a')).Get("/v1/issues");

  EXPECT_TRUE(IsErrorEnvelope(r, 401, "unauthorized"));
}

TEST_F(ErrorEnvelopeTest, MalformedAuthorizationHeaderIs401Unauthorized) {
  HttpResponse r = http_.Get("/v1/issues", {{"Authorization", "Basic dXNlcjpwYXNz"}});

  EXPECT_TRUE(IsErrorEnvelope(r, 401, "unauthorized"));
}

TEST_F(ErrorEnvelopeTest, TokenWithoutTheScopeIs403Forbidden) {
  std::optional<CreatedToken> reader = server().CreateToken(admin().workspace_id, {"issues:read"});
  ASSERT_TRUE(reader);

  HttpResponse r = http_.WithToken(reader->token).Post("/v1/ingest/events", R"({"title":"x"})");

  EXPECT_TRUE(IsErrorEnvelope(r, 403, "forbidden"));
}

TEST_F(ErrorEnvelopeTest, UnknownIssueIs404NotFound) {
  HttpResponse r = http_.Get("/v1/issues/iss_01HZZZZZZZZZZZZZZZZZZZZZZZ");

  EXPECT_TRUE(IsErrorEnvelope(r, 404, "not_found"));
}

TEST_F(ErrorEnvelopeTest, UnknownRouteIs404NotFound) {
  HttpResponse r = http_.Get("/v1/no-such-collection");

  EXPECT_TRUE(IsErrorEnvelope(r, 404, "not_found"));
}

TEST_F(ErrorEnvelopeTest, ManualCreateOfAnExistingSourceAndExternalIdIs409Conflict) {
  const std::string ext = "dup-" + UniqueSuffix();
  const std::string existing =
      IngestEvent(http_, R"({"source":"jira","external_id":")" + ext + R"(","title":"first"})");
  ASSERT_FALSE(existing.empty());

  HttpResponse r = http_.Post(
      "/v1/issues", R"({"source":"jira","external_id":")" + ext + R"(","title":"second"})");

  EXPECT_TRUE(IsErrorEnvelope(r, 409, "conflict"));
  HttpResponse after = http_.Get("/v1/issues/" + existing);
  EXPECT_EQ(Json::Parse(after.body).Str("/title"), "first") << "a conflict must not write";
}

TEST_F(ErrorEnvelopeTest, BodyOver1MiBOnASingleRecordEndpointIs413PayloadTooLarge) {
  const std::string big(2 * 1024 * 1024, 'x');

  HttpResponse r = http_.Post("/v1/ingest/events", R"({"title":"big","body":")" + big + "\"}");

  EXPECT_TRUE(IsErrorEnvelope(r, 413, "payload_too_large"));
}

TEST_F(ErrorEnvelopeTest, ReusedIdempotencyKeyWithADifferentBodyIs422Unprocessable) {
  const Headers key = {{"Idempotency-Key", "k-" + UniqueSuffix()}};
  ASSERT_TRUE(HasStatus(
      http_.Post("/v1/ingest/events", R"({"title":"one )" + UniqueSuffix() + "\"}", key), 202));

  HttpResponse r =
      http_.Post("/v1/ingest/events", R"({"title":"two )" + UniqueSuffix() + "\"}", key);

  EXPECT_TRUE(IsErrorEnvelope(r, 422, "unprocessable"));
}

TEST_F(ErrorEnvelopeTest, EverySuccessfulResponseCarriesARequestId) {
  for (const char* path : {"/health", "/ready", "/v1/issues", "/v1/api-tokens/scopes"}) {
    HttpResponse r = http_.Get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.Describe();
    EXPECT_FALSE(r.Header("x-request-id").empty()) << path;
  }
}

TEST_F(ErrorEnvelopeTest, RequestIdsDifferBetweenRequests) {
  HttpResponse a = http_.Get("/v1/issues/iss_missing_a");
  HttpResponse b = http_.Get("/v1/issues/iss_missing_b");

  EXPECT_NE(a.Header("x-request-id"), b.Header("x-request-id"));
}

// A server of its own with a per-token limit of 5 requests per minute.
class RateLimitTest : public ServerTest<RateLimitTest> {
 public:
  static ServerProcess::Options SuiteOptions() {
    return {.extra_args = {"--rate-limit-per-token", "5"}};
  }
};

TEST_F(RateLimitTest, SixthRequestWithinAMinuteIs429WithRetryAfterAndRateLimitHeaders) {
  std::optional<CreatedToken> token =
      server().CreateToken(admin().workspace_id, {"issues:read"}, "limited");
  ASSERT_TRUE(token);
  Http limited = http_.WithToken(token->token);

  std::vector<HttpResponse> responses;
  for (int i = 0; i < 6; ++i) responses.push_back(limited.Get("/v1/issues"));

  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(HasStatus(responses[i], 200)) << "request " << i + 1;
    EXPECT_EQ(responses[i].Header("x-ratelimit-limit"), "5");
    EXPECT_EQ(responses[i].Header("x-ratelimit-remaining"), std::to_string(4 - i));
    EXPECT_FALSE(responses[i].Header("x-ratelimit-reset").empty());
  }
  const HttpResponse& limited_response = responses[5];
  EXPECT_TRUE(IsErrorEnvelope(limited_response, 429, "rate_limited"));
  const std::string retry_after = limited_response.Header("retry-after");
  ASSERT_FALSE(retry_after.empty());
  EXPECT_GT(std::atoi(retry_after.c_str()), 0) << retry_after;
  EXPECT_LE(std::atoi(retry_after.c_str()), 60) << retry_after;
  EXPECT_EQ(limited_response.Header("x-ratelimit-remaining"), "0");
}

TEST_F(RateLimitTest, EachTokenHasItsOwnBudget) {
  std::optional<CreatedToken> a = server().CreateToken(admin().workspace_id, {"issues:read"}, "a");
  std::optional<CreatedToken> b = server().CreateToken(admin().workspace_id, {"issues:read"}, "b");
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 6; ++i) http_.WithToken(a->token).Get("/v1/issues");

  HttpResponse r = http_.WithToken(b->token).Get("/v1/issues");

  EXPECT_TRUE(HasStatus(r, 200));
}

}  // namespace
}  // namespace causeloop::e2e

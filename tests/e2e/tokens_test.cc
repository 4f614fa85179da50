// Token lifecycle through the token API (SPEC §3): create, revoke, rotate with and without
// grace, expiry.

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

class TokenLifecycleTest : public ServerTest<TokenLifecycleTest> {
 protected:
  CreatedToken Create(const std::string& extra_fields = "") {
    HttpResponse r =
        http_.Post("/v1/api-tokens", R"({"name":"lifecycle )" + UniqueSuffix() +
                                         R"(","scopes":["issues:read"])" + extra_fields + "}");
    EXPECT_TRUE(HasStatus(r, 201));
    Json j = Json::Parse(r.body);
    return {j.Str("/id").value_or(""), j.Str("/token").value_or("")};
  }
  HttpResponse Rotate(const std::string& id, const std::string& body) {
    return http_.Post("/v1/api-tokens/" + id + "/rotate", body);
  }
  long StatusWith(const std::string& token) {
    return http_.WithToken(token).Get("/v1/issues").status;
  }
};

TEST_F(TokenLifecycleTest, CreateReturnsAPrefixedSecretOnceThatWorksAtOnce) {
  CreatedToken t = Create();

  EXPECT_EQ(t.id.rfind("tok_", 0), 0u) << t.id;
  EXPECT_EQ(t.token.rfind("clp_", 0), 0u) << t.token;
  EXPECT_GE(t.token.size(), 4u + 43u) << "at least 256 bits of randomness";
  EXPECT_EQ(StatusWith(t.token), 200);
}

TEST_F(TokenLifecycleTest, ListingTokensNeverShowsASecret) {
  CreatedToken t = Create();

  HttpResponse r = http_.Get("/v1/api-tokens?limit=100");

  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_NE(r.body.find(t.id), std::string::npos) << "the new token is not listed";
  EXPECT_EQ(r.body.find(t.token), std::string::npos) << "the secret is listed";
  EXPECT_EQ(r.body.find(admin().token), std::string::npos) << "the admin secret is listed";
}

TEST_F(TokenLifecycleTest, RevokedTokenIs401OnTheNextRequest) {
  CreatedToken t = Create();
  ASSERT_EQ(StatusWith(t.token), 200);  // verified once, so a cache may hold it

  HttpResponse revoke = http_.Request("DELETE", "/v1/api-tokens/" + t.id);

  ASSERT_TRUE(revoke.status == 200 || revoke.status == 204) << revoke.Describe();
  EXPECT_TRUE(IsErrorEnvelope(http_.WithToken(t.token).Get("/v1/issues"), 401, "unauthorized"));
}

TEST_F(TokenLifecycleTest, RotationWithoutGraceStopsTheOldSecretAndStartsTheNewOne) {
  CreatedToken t = Create();
  ASSERT_EQ(StatusWith(t.token), 200);

  HttpResponse r = Rotate(t.id, "{}");

  ASSERT_TRUE(r.status == 200 || r.status == 201) << r.Describe();
  const std::string fresh = Json::Parse(r.body).Str("/token").value_or("");
  ASSERT_EQ(fresh.rfind("clp_", 0), 0u) << r.body;
  EXPECT_NE(fresh, t.token);
  EXPECT_TRUE(IsErrorEnvelope(http_.WithToken(t.token).Get("/v1/issues"), 401, "unauthorized"));
  EXPECT_EQ(StatusWith(fresh), 200);
}

TEST_F(TokenLifecycleTest, RotationWithGraceKeepsBothSecretsWorking) {
  CreatedToken t = Create();

  HttpResponse r = Rotate(t.id, R"({"grace_seconds":3600})");

  ASSERT_TRUE(r.status == 200 || r.status == 201) << r.Describe();
  const std::string fresh = Json::Parse(r.body).Str("/token").value_or("");
  EXPECT_EQ(StatusWith(t.token), 200) << "the old secret must work during the grace period";
  EXPECT_EQ(StatusWith(fresh), 200);
}

TEST_F(TokenLifecycleTest, OldSecretStopsWhenTheGracePeriodEnds) {
  CreatedToken t = Create();
  HttpResponse r = Rotate(t.id, R"({"grace_seconds":1})");
  ASSERT_TRUE(r.status == 200 || r.status == 201) << r.Describe();
  const std::string fresh = Json::Parse(r.body).Str("/token").value_or("");

  // Grace (1 s) + the permitted verification cache (2 s) + slack.
  EXPECT_TRUE(PollUntil([&] { return StatusWith(t.token) == 401; }, 8s, 100ms));
  EXPECT_EQ(StatusWith(fresh), 200);
}

TEST_F(TokenLifecycleTest, GraceLongerThanSevenDaysIs400) {
  CreatedToken t = Create();

  HttpResponse r = Rotate(t.id, R"({"grace_seconds":604801})");

  EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error"));
  EXPECT_EQ(StatusWith(t.token), 200) << "a refused rotation must not rotate";
}

TEST_F(TokenLifecycleTest, ExpiredTokenIs401) {
  CreatedToken t = Create(R"(,"expires_at":")" + Rfc3339FromNow(3s) + "\"");
  ASSERT_FALSE(t.token.empty());
  EXPECT_EQ(StatusWith(t.token), 200) << "the token works before it expires";

  // Expiry (3 s, whole-second timestamps) + the permitted verification cache (2 s) + slack.
  EXPECT_TRUE(PollUntil([&] { return StatusWith(t.token) == 401; }, 10s, 100ms));
  EXPECT_TRUE(IsErrorEnvelope(http_.WithToken(t.token).Get("/v1/issues"), 401, "unauthorized"));
}

TEST_F(TokenLifecycleTest, ScopesEndpointListsEveryScopeWithADescription) {
  HttpResponse r = http_.Get("/v1/api-tokens/scopes");

  ASSERT_TRUE(HasStatus(r, 200));
  for (const char* scope : {"issues:read", "issues:write", "ingest:write", "events:read",
                            "tokens:admin", "workspace:admin", "connectors:admin"}) {
    EXPECT_NE(r.body.find(std::string("\"") + scope + "\""), std::string::npos) << scope;
  }
}

TEST_F(TokenLifecycleTest, UnknownScopeIs400) {
  HttpResponse r = http_.Post("/v1/api-tokens", R"({"name":"bad","scopes":["issues:destroy"]})");

  EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error"));
}

}  // namespace
}  // namespace causeloop::e2e

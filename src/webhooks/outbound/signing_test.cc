// Outbound delivery signing, checked against the stock npm `standardwebhooks` verifier
// (tests/node/verify_standard_webhooks.js), `openssl dgst -hmac` and our own inbound verifier.

#include "webhooks/outbound/signing.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "auth/crypto.h"
#include "core/json_writer.h"
#include "core/random.h"
#include "webhooks/inbound/headers.h"
#include "webhooks/inbound/verify.h"

namespace causeloop::webhooks {
namespace {

namespace fs = std::filesystem;

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01T00:00:00Z
const std::string kBody =
    R"({"id":"evt_01","type":"issue.created","timestamp":"2026-01-01T00:00:00.000Z",)"
    R"("workspace_id":"ws_1","sequence":7,"data":{"title":"Disk full — ünïcode"}})";

std::string Get(const Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "<missing>";
}

TEST(OutboundSigningTest, MatchesTheStandardWebhooksReferenceVector) {
  // The example from the Standard Webhooks / Svix documentation.
  EXPECT_EQ(
      StandardSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                        1614265330, R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(OutboundSigningTest, GeneratedSecretsAreWhsecAndThirtyTwoRandomBytes) {
  SecureRandom random;
  std::string a = GenerateSigningSecret(random);
  std::string b = GenerateSigningSecret(random);
  EXPECT_TRUE(a.starts_with("whsec_")) << a;
  EXPECT_EQ(a.size(), 6U + 44U);
  Result<std::string> key = DecodeSigningSecret(a);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 32U);
  EXPECT_NE(a, b);
}

TEST(OutboundSigningTest, DecodesSecretsWithOrWithoutThePrefix) {
  EXPECT_EQ(*DecodeSigningSecret("whsec_Zm9vYmFy"), "foobar");
  EXPECT_EQ(*DecodeSigningSecret("Zm9vYmFy"), "foobar");
  Result<std::string> bad = DecodeSigningSecret("whsec_not base64!");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kValidation);
  EXPECT_FALSE(DecodeSigningSecret("whsec_"));
  EXPECT_EQ(StandardSignature("whsec_!!", "id", 1, "body"), "");
}

TEST(OutboundSigningTest, DeliveryHeadersAreExactlyTheSpecifiedOnesInOrder) {
  SeededRandom random(1);
  std::string secret = GenerateSigningSecret(random);
  Headers headers = DeliveryHeaders("evt_01", "issue.created", kNow, kBody, {secret}, "1.2.3");

  std::vector<std::string> names;
  for (const auto& [k, v] : headers) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"webhook-id", "webhook-timestamp", "webhook-signature",
                                             "x-causeloop-signature", "X-CauseFlow-Signature",
                                             "x-causeloop-event", "user-agent", "content-type"}));
  std::string hex = auth::HmacSha256Hex(secret, kBody);
  EXPECT_EQ(Get(headers, "webhook-id"), "evt_01");
  EXPECT_EQ(Get(headers, "webhook-timestamp"), "1767225600");
  EXPECT_EQ(Get(headers, "webhook-signature"), StandardSignature(secret, "evt_01", kNow, kBody));
  EXPECT_EQ(Get(headers, "x-causeloop-signature"), hex);
  EXPECT_EQ(Get(headers, "X-CauseFlow-Signature"), "sha256=" + hex);
  EXPECT_EQ(Get(headers, "x-causeloop-event"), "issue.created");
  EXPECT_EQ(Get(headers, "user-agent"), "causeloop/1.2.3");
  EXPECT_EQ(Get(headers, "content-type"), "application/json");
}

TEST(OutboundSigningTest, SignsWithEveryLiveSecretButTheSimpleSchemeWithTheNewest) {
  SeededRandom random(2);
  std::string newest = GenerateSigningSecret(random);
  std::string previous = GenerateSigningSecret(random);
  Headers headers =
      DeliveryHeaders("evt_01", "issue.created", kNow, kBody, {newest, previous}, "1");

  EXPECT_EQ(Get(headers, "webhook-signature"),
            StandardSignature(newest, "evt_01", kNow, kBody) + " " +
                StandardSignature(previous, "evt_01", kNow, kBody));
  EXPECT_EQ(Get(headers, "x-causeloop-signature"), auth::HmacSha256Hex(newest, kBody));
}

TEST(OutboundSigningTest, TheSignatureCoversIdTimestampAndBody) {
  std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  std::string base = StandardSignature(secret, "evt_01", kNow, kBody);
  EXPECT_NE(StandardSignature(secret, "evt_02", kNow, kBody), base);
  EXPECT_NE(StandardSignature(secret, "evt_01", kNow + 1, kBody), base);
  EXPECT_NE(StandardSignature(secret, "evt_01", kNow, kBody + " "), base);
}

TEST(OutboundSigningTest, OurInboundVerifierAcceptsOurDeliveries) {
  SeededRandom random(3);
  std::string newest = GenerateSigningSecret(random);
  std::string previous = GenerateSigningSecret(random);
  Headers headers =
      DeliveryHeaders("evt_01", "issue.created", kNow, kBody, {newest, previous}, "1");
  inbound::HeaderMap map;
  for (const auto& [k, v] : headers) map.Add(k, v);
  SystemTime now = FromUnixMillis(kNow * 1000);

  for (const std::string& secret : {newest, previous}) {
    Result<inbound::Scheme> scheme =
        inbound::VerifyConnectorSignature(map.Lookup(), kBody, {secret}, now);
    ASSERT_TRUE(scheme) << scheme.error().message;
  }
  EXPECT_FALSE(inbound::VerifyConnectorSignature(map.Lookup(), kBody + "x", {newest}, now));
}

// --- The stock verifier and openssl -------------------------------------------------------

const std::string kNodeDir = CAUSELOOP_SOURCE_DIR "/tests/node";

struct ProcessRun {
  int exit_code = -1;
  std::string output;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/causeloop-signing-test-XXXXXX";
    if (mkdtemp(templ) != nullptr) path_ = templ;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs `command` with `input` on its stdin; its stdout and stderr are returned.
ProcessRun RunWithInput(const std::string& command, const std::string& input, const TempDir& dir) {
  fs::path out = dir.path() / "out.txt";
  std::string full = command + " >'" + out.string() + "' 2>&1";
  FILE* pipe = popen(full.c_str(), "w");
  if (pipe == nullptr) return {};
  fwrite(input.data(), 1, input.size(), pipe);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out)};
}

ProcessRun VerifyWithStockLibrary(const std::string& secret, const Headers& headers,
                                  const std::string& body, int64_t now, const TempDir& dir) {
  JsonWriter json;
  json.BeginObject().Field("secret", secret).Key("headers").BeginObject();
  for (const auto& [k, v] : headers) json.Field(k, v);
  json.EndObject().Field("body", body).Field("now", static_cast<long long>(now)).EndObject();
  return RunWithInput("node '" + kNodeDir + "/verify_standard_webhooks.js'", json.str(), dir);
}

class StockVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not on PATH";
    if (!fs::exists(kNodeDir + "/node_modules/standardwebhooks")) {
      GTEST_SKIP() << "tests/node/node_modules is missing; run `npm ci` in tests/node";
    }
    ASSERT_FALSE(dir_.path().empty());
  }
  TempDir dir_;
};

TEST_F(StockVerifierTest, AcceptsADeliverySignedWithOneSecret) {
  SecureRandom random;
  std::string secret = GenerateSigningSecret(random);
  Headers headers = DeliveryHeaders("evt_01", "issue.created", kNow, kBody, {secret}, "1");
  ProcessRun run = VerifyWithStockLibrary(secret, headers, kBody, kNow, dir_);
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

TEST_F(StockVerifierTest, DuringRotationEitherSecretAloneVerifies) {
  SecureRandom random;
  std::string newest = GenerateSigningSecret(random);
  std::string previous = GenerateSigningSecret(random);
  Headers headers =
      DeliveryHeaders("evt_01", "issue.created", kNow, kBody, {newest, previous}, "1");

  ProcessRun with_newest = VerifyWithStockLibrary(newest, headers, kBody, kNow, dir_);
  ProcessRun with_previous = VerifyWithStockLibrary(previous, headers, kBody, kNow, dir_);
  ProcessRun with_other =
      VerifyWithStockLibrary(GenerateSigningSecret(random), headers, kBody, kNow, dir_);

  EXPECT_EQ(with_newest.exit_code, 0) << with_newest.output;
  EXPECT_EQ(with_previous.exit_code, 0) << with_previous.output;
  EXPECT_EQ(with_other.exit_code, 1) << with_other.output;
  EXPECT_NE(with_other.output.find("No matching signature"), std::string::npos)
      << with_other.output;
}

TEST_F(StockVerifierTest, RefusesATamperedBody) {
  SecureRandom random;
  std::string secret = GenerateSigningSecret(random);
  Headers headers = DeliveryHeaders("evt_01", "issue.created", kNow, kBody, {secret}, "1");
  std::string tampered = kBody;
  tampered.replace(tampered.find("\"sequence\":7"), 12, "\"sequence\":8");

  ProcessRun run = VerifyWithStockLibrary(secret, headers, tampered, kNow, dir_);

  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("No matching signature"), std::string::npos) << run.output;
}

TEST_F(StockVerifierTest, RefusesAStaleTimestamp) {
  SecureRandom random;
  std::string secret = GenerateSigningSecret(random);
  Headers headers = DeliveryHeaders("evt_01", "issue.created", kNow, kBody, {secret}, "1");
  ProcessRun run = VerifyWithStockLibrary(secret, headers, kBody, kNow + 600, dir_);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("too old"), std::string::npos) << run.output;
}

TEST_F(StockVerifierTest, SimpleSignatureMatchesOpensslDgstHmacWithTheSecretString) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl";
  SecureRandom random;
  std::string secret = GenerateSigningSecret(random);  // base64: only [A-Za-z0-9+/=_]
  Headers headers = DeliveryHeaders("evt_01", "issue.created", kNow, kBody, {secret}, "1");
  fs::path body_file = dir_.path() / "body.json";
  std::ofstream(body_file, std::ios::binary) << kBody;

  ProcessRun run = RunWithInput(
      "openssl dgst -sha256 -hmac '" + secret + "' '" + body_file.string() + "'", "", dir_);

  ASSERT_EQ(run.exit_code, 0) << run.output;
  // "HMAC-SHA2-256(/tmp/…/body.json)= <hex>"
  size_t eq = run.output.rfind("= ");
  ASSERT_NE(eq, std::string::npos) << run.output;
  std::string hex = run.output.substr(eq + 2, 64);
  EXPECT_EQ(Get(headers, "x-causeloop-signature"), hex);
  EXPECT_EQ(Get(headers, "X-CauseFlow-Signature"), "sha256=" + hex);
}

}  // namespace
}  // namespace causeloop::webhooks

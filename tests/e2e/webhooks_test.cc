// Outbound webhooks end to end (SPEC §7.2): the real server delivering to a local HTTPS
// receiver (tests/node/https_sink.js) that trusts a throw-away CA; signatures checked with
// the stock npm `standardwebhooks` verifier and `openssl dgst`; the SSRF guard; deliveries
// that were pending when the server was killed complete after a restart.

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kNodeDir = std::string(CAUSELOOP_E2E_TESTDATA) + "/../../node";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `cmd`, feeding `input` on stdin; returns the exit status and stdout.
std::pair<int, std::string> RunCommand(const std::string& cmd, const std::string& input,
                                       const std::string& dir) {
  std::string in_file = dir + "/stdin." + UniqueSuffix();
  std::string out_file = in_file + ".out";
  std::ofstream(in_file) << input;
  int rc = std::system((cmd + " <'" + in_file + "' >'" + out_file + "' 2>&1").c_str());
  std::string out = ReadAll(out_file);
  fs::remove(in_file);
  fs::remove(out_file);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

// A scriptable HTTPS receiver process.
class Sink {
 public:
  Sink(const std::string& dir, const std::string& script) : dir_(dir) {
    std::string out = dir + "/sink.out";
    std::string cmd = "node '" + kNodeDir + "/https_sink.js' --cert '" + dir +
                      "/server.pem' --key '" + dir + "/server.key' --log '" + dir +
                      "/sink.log' --script '" + script + "' >'" + out + "' 2>&1 &";
    if (std::system(cmd.c_str()) != 0) return;
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
      Json j = Json::Parse(ReadAll(out));
      if (j.Int("/port")) {
        port_ = static_cast<int>(*j.Int("/port"));
        pid_ = static_cast<pid_t>(j.Int("/pid").value_or(0));
        return;
      }
    }
  }
  ~Sink() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // Every request received so far, one parsed log line each.
  [[nodiscard]] std::vector<Json> Requests() const {
    std::vector<Json> out;
    std::istringstream in(ReadAll(dir_ + "/sink.log"));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(Json::Parse(line));
    }
    return out;
  }
  // Waits until `pred(requests)` holds.
  template <typename Pred>
  std::vector<Json> WaitFor(Pred pred, std::chrono::seconds timeout = 30s) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto r = Requests();
      if (pred(r) || std::chrono::steady_clock::now() > deadline) return r;
      std::this_thread::sleep_for(50ms);
    }
  }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class WebhooksE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v node >/dev/null && command -v openssl >/dev/null") != 0 ||
        !fs::exists(kNodeDir + "/node_modules/standardwebhooks")) {
      GTEST_SKIP()
          << "node, openssl or tests/node/node_modules missing (scripts/test installs them)";
    }
    dir_ = fs::temp_directory_path().string() + "/causeloop-webhooks-" + UniqueSuffix();
    ASSERT_EQ(std::system(("'" + kNodeDir + "/make_test_pki.sh' '" + dir_ + "'").c_str()), 0);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::unique_ptr<ServerProcess> StartServer(bool allow_private) {
    ServerProcess::Options o;
    o.extra_args = {"--ca-file", dir_ + "/ca.pem"};
    if (allow_private) o.extra_args.push_back("--allow-private-webhook-targets");
    auto s = std::make_unique<ServerProcess>(o);
    EXPECT_TRUE(s->Start());
    return s;
  }

  // The receiver's view of a request checked by the stock verifier with `secret`.
  std::pair<int, std::string> Verify(const Json& request, const std::string& secret) {
    std::string input = R"({"secret":)" + Quote(secret) + R"(,"headers":)" +
                        request.Raw("/headers") + R"(,"body":)" +
                        Quote(request.Str("/body").value_or("")) + "}";
    return RunCommand("node '" + kNodeDir + "/verify_standard_webhooks.js'", input, dir_);
  }

  std::string dir_;
};

std::string CreateWebhook(const Http& http, const std::string& url, const std::string& types) {
  HttpResponse r =
      http.Post("/v1/webhooks", R"({"url":)" + Quote(url) + R"(,"event_types":)" + types + "}");
  EXPECT_EQ(r.status, 201) << r.body;
  return r.body;
}

TEST_F(WebhooksE2ETest, DeliveriesVerifyWithTheStockLibraryIncludingDuringRotation) {
  Sink sink(dir_, R"({"default":{"status":200}})");
  ASSERT_GT(sink.port(), 0);
  auto server = StartServer(/*allow_private=*/true);
  auto c = server->Bootstrap();
  ASSERT_TRUE(c);
  Http http(server->BaseUrl(), c->token);
  std::string url = "https://127.0.0.1:" + std::to_string(sink.port()) + "/hook";
  Json endpoint = Json::Parse(CreateWebhook(http, url, R"(["issue.created"])"));
  std::string id = endpoint.Str("/id").value_or("");
  std::string secret = endpoint.Str("/signing_secret").value_or("");
  ASSERT_TRUE(secret.starts_with("whsec_")) << endpoint.Raw("");
  // The secret is shown once.
  EXPECT_FALSE(Json::Parse(http.Get("/v1/webhooks/" + id).body).Has("/signing_secret"));

  std::string issue =
      IngestEvent(http, R"({"title":"Disk full on db-1 )" + UniqueSuffix() + R"("})");
  auto got = sink.WaitFor([](const auto& r) { return !r.empty(); });
  ASSERT_EQ(got.size(), 1u) << server->LogTail();
  const Json& first = got[0];
  EXPECT_NE(first.Str("/body").value_or("").find(issue), std::string::npos);
  EXPECT_EQ(first.Str("/headers/x-causeloop-event"), "issue.created");
  auto [rc, out] = Verify(first, secret);
  EXPECT_EQ(rc, 0) << out;
  // The hex header equals `openssl dgst -sha256 -hmac <secret>` over the body.
  auto [orc, digest] = RunCommand("openssl dgst -sha256 -hmac '" + secret + "' -r",
                                  first.Str("/body").value_or(""), dir_);
  ASSERT_EQ(orc, 0) << digest;
  std::string hex = first.Str("/headers/x-causeloop-signature").value_or("");
  EXPECT_EQ(digest.substr(0, 64), hex);
  EXPECT_EQ(first.Str("/headers/x-causeflow-signature"), "sha256=" + hex);

  // Rotation with a grace period: both secrets sign; each alone verifies.
  HttpResponse rotated =
      http.Post("/v1/webhooks/" + id + "/rotate-secret", R"({"grace_seconds":3600})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string next = Json::Parse(rotated.body).Str("/signing_secret").value_or("");
  ASSERT_TRUE(next.starts_with("whsec_"));
  ASSERT_NE(next, secret);
  IngestEvent(http, R"({"title":"Disk full on db-2 )" + UniqueSuffix() + R"("})");
  got = sink.WaitFor([](const auto& r) { return r.size() >= 2; });
  ASSERT_EQ(got.size(), 2u);
  std::string sigs = got[1].Str("/headers/webhook-signature").value_or("");
  EXPECT_EQ(std::count(sigs.begin(), sigs.end(), ' '), 1) << sigs;
  EXPECT_EQ(Verify(got[1], secret).first, 0)
      << "the old secret must verify during the grace period";
  EXPECT_EQ(Verify(got[1], next).first, 0) << "the new secret must verify";
  EXPECT_NE(Verify(got[1], "whsec_" + std::string(43, 'A') + "=").first, 0);
  EXPECT_FALSE(Json::Parse(rotated.body).Str("/previous_secret_expires_at").value_or("").empty())
      << rotated.body;

  // The delivery log shows every attempt.
  Json deliveries = Json::Parse(http.Get("/v1/webhooks/" + id + "/deliveries").body);
  ASSERT_EQ(deliveries.Size("/data"), 2u) << deliveries.Raw("");
  EXPECT_EQ(deliveries.Str("/data/0/status"), "delivered");
  EXPECT_EQ(deliveries.Int("/data/0/attempt_log/0/status_code"), 200);
  // Paged, newest first: the two pages hold the two deliveries.
  Json page1 = Json::Parse(http.Get("/v1/webhooks/" + id + "/deliveries?limit=1").body);
  ASSERT_EQ(page1.Size("/data"), 1u);
  std::string cursor = page1.Str("/page/next_cursor").value_or("");
  ASSERT_FALSE(cursor.empty()) << page1.Raw("");
  Json page2 =
      Json::Parse(http.Get("/v1/webhooks/" + id + "/deliveries?limit=1&cursor=" + cursor).body);
  ASSERT_EQ(page2.Size("/data"), 1u) << page2.Raw("");
  EXPECT_NE(page2.Str("/data/0/id"), page1.Str("/data/0/id"));
  EXPECT_EQ(page2.Bool("/page/has_more"), false);

  // Once the grace period is over the endpoint no longer shows a previous secret (as
  // connectors do).
  ASSERT_EQ(http.Post("/v1/webhooks/" + id + "/rotate-secret", R"({"grace_seconds":1})").status,
            200);
  EXPECT_TRUE(PollUntil(
      [&] {
        return Json::Parse(http.Get("/v1/webhooks/" + id).body)
            .IsNull("/previous_secret_expires_at");
      },
      10s, 100ms))
      << http.Get("/v1/webhooks/" + id).body;
}

TEST_F(WebhooksE2ETest, SsrfGuardRefusesPrivateTargetsUnlessAllowed) {
  auto server = StartServer(/*allow_private=*/false);
  auto c = server->Bootstrap();
  ASSERT_TRUE(c);
  Http http(server->BaseUrl(), c->token);
  for (const char* url :
       {"http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.0.0.1/x",
        "https://169.254.169.254/latest/meta-data", "https://[::1]/x", "https://localhost/x"}) {
    HttpResponse r =
        http.Post("/v1/webhooks", R"({"url":)" + Quote(url) + R"(,"event_types":["*"]})");
    EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error")) << url << " " << r.body;
  }
  // A name that resolves to loopback passes the URL check but is refused at connect time.
  std::array<char, 256> host{};
  ::gethostname(host.data(), host.size() - 1);
  std::string name(host.data());
  std::string resolved;
  {
    std::FILE* p = ::popen(("getent ahostsv4 '" + name + "' | head -1").c_str(), "r");
    if (p != nullptr) {
      char buf[256] = {};
      if (std::fgets(buf, sizeof buf, p) != nullptr) resolved = buf;
      ::pclose(p);
    }
  }
  if (name.empty() || !resolved.starts_with("127.")) {
    GTEST_SKIP() << "this machine's host name does not resolve to loopback";
  }
  Sink sink(dir_, R"({"default":{"status":200}})");
  ASSERT_GT(sink.port(), 0);
  std::string url = "https://" + name + ":" + std::to_string(sink.port()) + "/hook";
  Json endpoint = Json::Parse(CreateWebhook(http, url, R"(["*"])"));
  std::string id = endpoint.Str("/id").value_or("");
  ASSERT_EQ(http.Post("/v1/webhooks/" + id + "/test", "").status, 202);
  Json deliveries;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    deliveries = Json::Parse(http.Get("/v1/webhooks/" + id + "/deliveries").body);
    if (deliveries.Size("/data/0/attempt_log").value_or(0) > 0) break;
  }
  EXPECT_NE(deliveries.Str("/data/0/attempt_log/0/error").value_or("").find("refused"),
            std::string::npos)
      << deliveries.Raw("");
  EXPECT_TRUE(sink.Requests().empty()) << "a request reached a loopback address";
}

TEST_F(WebhooksE2ETest, PendingRetriesCompleteAfterKill9) {
  // The first three requests fail; the retries fall due ~5 s later.
  Sink sink(dir_, R"({"1":{"status":503},"2":{"status":503},"3":{"status":503}})");
  ASSERT_GT(sink.port(), 0);
  auto server = StartServer(/*allow_private=*/true);
  auto c = server->Bootstrap();
  ASSERT_TRUE(c);
  Http http(server->BaseUrl(), c->token);
  CreateWebhook(http, "https://127.0.0.1:" + std::to_string(sink.port()) + "/hook",
                R"(["issue.created"])");
  std::set<std::string> issues;
  for (int i = 0; i < 3; ++i) {
    issues.insert(IngestEvent(
        http, R"({"title":"failure )" + std::to_string(i) + " " + UniqueSuffix() + R"("})"));
  }
  ASSERT_EQ(sink.WaitFor([](const auto& r) { return r.size() >= 3; }).size(), 3u);
  server->Kill9();
  ASSERT_TRUE(server->Restart());
  // Every issue's event arrives with a 2xx answer.
  auto delivered = [&](const std::vector<Json>& r) {
    std::set<std::string> ok;
    for (const auto& req : r) {
      if (req.Int("/status") != 200) continue;
      for (const auto& id : issues) {
        if (req.Str("/body").value_or("").find(id) != std::string::npos) ok.insert(id);
      }
    }
    return ok.size() == issues.size();
  };
  auto got = sink.WaitFor(delivered, 60s);
  EXPECT_TRUE(delivered(got)) << got.size() << " requests\n" << server->LogTail();
}

}  // namespace
}  // namespace causeloop::e2e

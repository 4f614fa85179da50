// HttpClient against a real local HTTPS server (tests/node/https_sink.js) with a throw-away CA
// made by the openssl CLI. Skipped, with a message, when node or openssl is missing.

#include "net/http_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/ssrf.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX

namespace causeloop::net {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const char* const kSinkScript = CAUSELOOP_SOURCE_DIR "/tests/node/https_sink.js";

bool HaveCommand(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of the first `"key":` in a sink log line: the sink writes its scalar keys before
// headers and body, so the first occurrence is the top-level one.
std::string Field(const std::string& line, const std::string& key) {
  std::string needle = "\"" + key + "\":";
  size_t at = line.find(needle);
  if (at == std::string::npos) return {};
  at += needle.size();
  if (line[at] == '"') {
    size_t end = line.find('"', at + 1);
    return line.substr(at + 1, end - at - 1);
  }
  size_t end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

int IntField(const std::string& line, const std::string& key) {
  return std::atoi(Field(line, key).c_str());
}

// A throw-away CA and a server certificate for localhost, evil.test and 127.0.0.1.
struct Pki {
  fs::path dir;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

std::unique_ptr<Pki> MakePki(std::string* error) {
  char templ[] = "/tmp/causeloop-net-test-XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  auto pki = std::make_unique<Pki>();
  pki->dir = templ;
  std::string d = pki->dir.string();
  std::ofstream(pki->dir / "server.ext")
      << "subjectAltName=DNS:localhost,DNS:evil.test,IP:127.0.0.1\n"
         "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
         "extendedKeyUsage=serverAuth\n";
  std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string cmd =
      "cd '" + d + "' && openssl req -x509" + ec +
      " -keyout ca.key -out ca.pem -days 2 -subj '/CN=Causeloop Test CA'"
      " -addext 'keyUsage=critical,keyCertSign,cRLSign' && openssl req -new" +
      ec +
      " -keyout server.key -out server.csr -subj '/CN=localhost' && openssl x509 -req"
      " -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2"
      " -extfile server.ext";
  std::string log = d + "/openssl.log";
  if (std::system((cmd + " >'" + log + "' 2>&1").c_str()) != 0) {
    *error = "openssl failed: " + ReadFile(log);
    return nullptr;
  }
  pki->ca_file = d + "/ca.pem";
  pki->cert_file = d + "/server.pem";
  pki->key_file = d + "/server.key";
  return pki;
}

// One https_sink.js process. Killed (and reaped) on destruction; it also exits by itself when
// this process dies, because its stdin is a pipe from here.
class Sink {
 public:
  static std::unique_ptr<Sink> Start(const Pki* pki, const fs::path& log,
                                     std::vector<std::string> extra, std::string* error) {
    std::vector<std::string> args = {"node", kSinkScript, "--exit-with-stdin", "--log",
                                     log.string()};
    if (pki != nullptr) {
      args.insert(args.end(), {"--cert", pki->cert_file, "--key", pki->key_file});
    }
    args.insert(args.end(), extra.begin(), extra.end());

    int in_pipe[2];
    int out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
      *error = "pipe failed";
      return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto sink = std::unique_ptr<Sink>(new Sink());
    int rc = posix_spawnp(&sink->pid_, "node", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in_pipe[0]);
    close(out_pipe[1]);
    sink->stdin_fd_ = in_pipe[1];
    sink->stdout_fd_ = out_pipe[0];
    if (rc != 0) {
      sink->pid_ = -1;
      *error = "cannot spawn node";
      return nullptr;
    }
    // The first stdout line is {"port": N, …}.
    std::string line;
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && steady_clock::now() < deadline) {
      pollfd pfd{sink->stdout_fd_, POLLIN, 0};
      if (poll(&pfd, 1, 200) <= 0) continue;
      char buf[256];
      ssize_t n = read(sink->stdout_fd_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    sink->port_ = IntField(line, "port");
    if (sink->port_ <= 0) {
      *error = "the sink did not report its port: '" + line + "'";
      return nullptr;
    }
    sink->log_ = log;
    return sink;
  }

  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  ~Sink() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (stdin_fd_ >= 0) close(stdin_fd_);
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string Url(const std::string& host, const std::string& path) const {
    return "https://" + host + ":" + std::to_string(port_) + path;
  }

  [[nodiscard]] std::vector<std::string> Requests() const {
    std::vector<std::string> lines;
    std::istringstream in(ReadFile(log_));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }

  // Waits (polling the log; this is another process) until it holds `count` requests.
  [[nodiscard]] bool WaitForRequests(size_t count, milliseconds timeout) const {
    auto deadline = steady_clock::now() + timeout;
    while (Requests().size() < count) {
      if (steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
  }

 private:
  Sink() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  fs::path log_;
};

// Collects completion callbacks. The callbacks share its state, so a callback that arrives
// after a failed wait does not touch a destroyed object.
class Results {
 public:
  HttpClient::Callback Callback(int tag = 0) {
    return [state = state_, tag](HttpResult r) {
      std::lock_guard lock(state->mu);
      state->results.push_back(std::move(r));
      state->tags.push_back(tag);
      state->threads.push_back(std::this_thread::get_id());
      state->cv.notify_all();
    };
  }
  bool WaitFor(size_t n, milliseconds timeout = milliseconds(20000)) {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->results.size() >= n; });
  }
  std::vector<HttpResult> Get() {
    std::lock_guard lock(state_->mu);
    return state_->results;
  }
  std::vector<int> Tags() {
    std::lock_guard lock(state_->mu);
    return state_->tags;
  }
  std::vector<std::thread::id> Threads() {
    std::lock_guard lock(state_->mu);
    return state_->threads;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<HttpResult> results;
    std::vector<int> tags;
    std::vector<std::thread::id> threads;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

std::string Header(const HttpResult& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<none>";
}

class HttpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveCommand("node") || !HaveCommand("openssl")) {
      skip_reason_ = "node or openssl is not on PATH";
      return;
    }
    std::string error;
    pki_ = MakePki(&error);
    if (pki_ == nullptr) skip_reason_ = error;
  }
  static void TearDownTestSuite() {
    if (pki_ != nullptr) {
      std::error_code ec;
      fs::remove_all(pki_->dir, ec);
    }
    pki_.reset();
    skip_reason_.reset();
  }

  void SetUp() override {
    if (skip_reason_) GTEST_SKIP() << *skip_reason_;
  }

  // Starts a sink (HTTPS unless `tls` is false) with these extra arguments.
  std::unique_ptr<Sink> StartSink(std::vector<std::string> extra = {}, bool tls = true) {
    std::string error;
    fs::path log = pki_->dir / ("sink-" + std::to_string(++sinks_) + ".log");
    auto sink = Sink::Start(tls ? pki_.get() : nullptr, log, std::move(extra), &error);
    EXPECT_NE(sink, nullptr) << error;
    return sink;
  }

  static std::unique_ptr<HttpClient> MakeClient(HttpClientOptions options) {
    Result<std::unique_ptr<HttpClient>> client = HttpClient::Create(std::move(options));
    EXPECT_TRUE(client) << client.error().message;
    return client ? std::move(*client) : nullptr;
  }

  static HttpClientOptions Trusting(bool allow_private = true) {
    return {.allow_private_targets = allow_private,
            .ca_file = pki_->ca_file,
            .user_agent = "causeloop-test"};
  }

  // Sends one request and waits for its result.
  static HttpResult SendOne(HttpClient& client, HttpRequest request) {
    Results results;
    client.Send(std::move(request), results.Callback());
    EXPECT_TRUE(results.WaitFor(1));
    auto all = results.Get();
    return all.empty() ? HttpResult{} : all[0];
  }

  static inline std::unique_ptr<Pki> pki_;
  static inline std::optional<std::string> skip_reason_;
  static inline int sinks_ = 0;
};

TEST_F(HttpClientTest, DeliversARequestAndReadsTheResponseWhenTheCaIsTrusted) {
  auto sink =
      StartSink({"--script",
                 R"({"default": {"status": 201, "headers": {"X-Sink": "yes"}, "body": "hello"}})"});
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);

  HttpResult r =
      SendOne(*client, {.url = sink->Url("127.0.0.1", "/hook?x=1"),
                        .headers = {{"X-Test", "1"}, {"Content-Type", "application/json"}},
                        .body = R"({"a":1})"});

  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.refused);
  EXPECT_EQ(r.body_excerpt, "hello");
  EXPECT_EQ(Header(r, "x-sink"), "yes");
  EXPECT_EQ(Header(r, "content-type"), "text/plain");
  EXPECT_GT(r.latency.count(), 0);
  auto requests = sink->Requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(Field(requests[0], "method"), "POST");
  EXPECT_EQ(Field(requests[0], "url"), "/hook?x=1");
  EXPECT_NE(requests[0].find(R"("x-test":"1")"), std::string::npos) << requests[0];
  EXPECT_NE(requests[0].find(R"("user-agent":"causeloop-test")"), std::string::npos);
  EXPECT_NE(requests[0].find(R"("content-type":"application/json")"), std::string::npos);
  EXPECT_EQ(requests[0].find("expect"), std::string::npos) << "no Expect: 100-continue";
  EXPECT_NE(requests[0].find(R"("body":"{\"a\":1}")"), std::string::npos) << requests[0];
  EXPECT_EQ(client->in_flight(), 0U);
}

TEST_F(HttpClientTest, SendsOtherMethodsAndARequestUserAgentWins) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);

  EXPECT_EQ(SendOne(*client, {.url = sink->Url("localhost", "/get"), .method = "GET"}).status, 200);
  EXPECT_EQ(SendOne(*client, {.url = sink->Url("localhost", "/put"),
                              .headers = {{"User-Agent", "causeloop/9.9"}},
                              .body = "payload",
                              .method = "PUT"})
                .status,
            200);

  auto requests = sink->Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(Field(requests[0], "method"), "GET");
  EXPECT_EQ(Field(requests[0], "body"), "");
  EXPECT_EQ(Field(requests[1], "method"), "PUT");
  EXPECT_EQ(Field(requests[1], "body"), "payload");
  EXPECT_NE(requests[1].find(R"("user-agent":"causeloop/9.9")"), std::string::npos);
}

TEST_F(HttpClientTest, KeepsOnlyTheFirstKibOfTheBody) {
  auto sink =
      StartSink({"--script", R"({"default": {"body": ")" + std::string(3000, 'x') + R"("}})"});
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);
  HttpResult r = SendOne(*client, {.url = sink->Url("127.0.0.1", "/")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body_excerpt, std::string(1024, 'x'));
}

TEST_F(HttpClientTest, FailsWhenTheServerCertificateIsNotTrusted) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient({.allow_private_targets = true});  // system CAs only
  ASSERT_NE(client, nullptr);

  HttpResult r = SendOne(*client, {.url = sink->Url("127.0.0.1", "/")});

  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.refused);
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
  EXPECT_TRUE(sink->Requests().empty());
}

TEST_F(HttpClientTest, FailsWhenTheCertificateDoesNotNameTheHost) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);
  std::string port = std::to_string(sink->port());

  HttpResult r = SendOne(*client, {.url = sink->Url("other.test", "/"),
                                   .resolve = {"other.test:" + port + ":127.0.0.1"}});

  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error, "");
  EXPECT_TRUE(sink->Requests().empty());
}

TEST_F(HttpClientTest, DoesNotFollowRedirects) {
  auto sink = StartSink(
      {"--script",
       R"({"paths": {"/start": {"default": {"status": 302, "headers": {"Location": "/next"}}}}})"});
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);

  HttpResult r = SendOne(*client, {.url = sink->Url("127.0.0.1", "/start")});

  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(Header(r, "location"), "/next");
  auto requests = sink->Requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(Field(requests[0], "path"), "/start");
}

TEST_F(HttpClientTest, GivesUpAtTheRequestTimeout) {
  auto sink = StartSink({"--script", R"({"default": {"delay_ms": 10000}})"});
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);

  auto start = steady_clock::now();
  HttpResult r =
      SendOne(*client, {.url = sink->Url("127.0.0.1", "/"), .timeout = milliseconds(500)});
  auto elapsed = steady_clock::now() - start;

  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.refused);
  EXPECT_NE(r.error.find("Timeout"), std::string::npos) << r.error;
  EXPECT_GE(elapsed, milliseconds(450));
  EXPECT_LT(elapsed, milliseconds(5000));
}

TEST_F(HttpClientTest, RefusesPlainHttpAndPrivateAddressesWithoutTouchingTheNetwork) {
  auto sink = StartSink();
  auto plain = StartSink({}, /*tls=*/false);
  ASSERT_NE(sink, nullptr);
  ASSERT_NE(plain, nullptr);
  auto client = MakeClient(Trusting(/*allow_private=*/false));
  ASSERT_NE(client, nullptr);
  std::string port = std::to_string(sink->port());

  HttpResult loopback = SendOne(*client, {.url = sink->Url("127.0.0.1", "/")});
  HttpResult v6 = SendOne(*client, {.url = "https://[::1]:" + port + "/"});
  HttpResult name = SendOne(*client, {.url = sink->Url("localhost", "/")});
  HttpResult http = SendOne(
      *client, {.url = "http://public.example:" + std::to_string(plain->port()) + "/",
                .resolve = {"public.example:" + std::to_string(plain->port()) + ":127.0.0.1"}});

  for (const HttpResult* r : {&loopback, &v6, &name, &http}) {
    EXPECT_TRUE(r->refused) << r->error;
    EXPECT_EQ(r->status, 0);
    EXPECT_EQ(r->latency.count(), 0);
  }
  EXPECT_NE(loopback.error.find("loopback"), std::string::npos) << loopback.error;
  EXPECT_NE(name.error.find("localhost"), std::string::npos) << name.error;
  EXPECT_NE(http.error.find("scheme must be https"), std::string::npos) << http.error;
  EXPECT_TRUE(sink->Requests().empty());
  EXPECT_TRUE(plain->Requests().empty());
}

TEST_F(HttpClientTest, RefusesANameThatResolvesToLoopbackAtConnectTime) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting(/*allow_private=*/false));
  ASSERT_NE(client, nullptr);
  std::string port = std::to_string(sink->port());

  // The URL passes the syntactic check; only the connected address gives it away.
  HttpRequest request{.url = sink->Url("evil.test", "/"),
                      .resolve = {"evil.test:" + port + ":127.0.0.1"}};
  ASSERT_TRUE(CheckOutboundUrl(request.url, false));
  HttpResult r = SendOne(*client, request);

  EXPECT_TRUE(r.refused);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("connecting to 127.0.0.1 is forbidden: loopback"), std::string::npos)
      << r.error;
  EXPECT_TRUE(sink->Requests().empty());
}

TEST_F(HttpClientTest, AllowsPrivateTargetsAndPlainHttpWhenConfigured) {
  auto sink = StartSink();
  auto plain = StartSink({}, /*tls=*/false);
  ASSERT_NE(sink, nullptr);
  ASSERT_NE(plain, nullptr);
  auto client = MakeClient(Trusting(/*allow_private=*/true));
  ASSERT_NE(client, nullptr);
  std::string port = std::to_string(sink->port());

  HttpResult rebound = SendOne(*client, {.url = sink->Url("evil.test", "/"),
                                         .resolve = {"evil.test:" + port + ":127.0.0.1"}});
  HttpResult http =
      SendOne(*client, {.url = "http://127.0.0.1:" + std::to_string(plain->port()) + "/plain"});

  EXPECT_EQ(rebound.status, 200) << rebound.error;
  EXPECT_FALSE(rebound.refused);
  EXPECT_EQ(http.status, 200) << http.error;
  EXPECT_EQ(sink->Requests().size(), 1U);
  EXPECT_EQ(plain->Requests().size(), 1U);
}

TEST_F(HttpClientTest, RefusesRequestsThatWouldInjectHeaders) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);

  HttpResult value = SendOne(
      *client, {.url = sink->Url("127.0.0.1", "/"), .headers = {{"X-A", "1\r\nX-Injected: 1"}}});
  HttpResult name =
      SendOne(*client, {.url = sink->Url("127.0.0.1", "/"), .headers = {{"X A", "1"}}});
  HttpResult method =
      SendOne(*client, {.url = sink->Url("127.0.0.1", "/"), .method = "GET / HTTP/1.1\r\n"});

  for (const HttpResult* r : {&value, &name, &method}) {
    EXPECT_EQ(r->status, 0);
    EXPECT_NE(r->error.find("invalid request"), std::string::npos) << r->error;
  }
  EXPECT_TRUE(sink->Requests().empty());
}

// Returns the largest number of requests the sink saw in progress at once.
int MaxConcurrent(const std::vector<std::string>& requests) {
  int max = 0;
  for (const std::string& line : requests) max = std::max(max, IntField(line, "concurrent"));
  return max;
}

TEST_F(HttpClientTest, RunsAtMostMaxPerPoolRequestsOfOnePoolAtOnce) {
  auto sink = StartSink({"--script", R"({"default": {"delay_ms": 400}})"});
  ASSERT_NE(sink, nullptr);
  HttpClientOptions options = Trusting();
  options.max_per_pool = 2;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);

  Results results;
  for (int i = 0; i < 6; ++i) {
    client->Send({.url = sink->Url("127.0.0.1", "/a"), .pool_key = "endpoint-a"},
                 results.Callback(i));
  }
  EXPECT_EQ(client->in_flight(), 6U);
  ASSERT_TRUE(results.WaitFor(6));

  for (const HttpResult& r : results.Get()) EXPECT_EQ(r.status, 200) << r.error;
  auto requests = sink->Requests();
  ASSERT_EQ(requests.size(), 6U);
  EXPECT_EQ(MaxConcurrent(requests), 2);
  EXPECT_EQ(client->in_flight(), 0U);
}

TEST_F(HttpClientTest, PoolsAreLimitedSeparately) {
  auto sink = StartSink({"--script", R"({"default": {"delay_ms": 1500}})"});
  ASSERT_NE(sink, nullptr);
  HttpClientOptions options = Trusting();
  options.max_per_pool = 2;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);

  Results results;
  for (int i = 0; i < 3; ++i) {
    client->Send({.url = sink->Url("127.0.0.1", "/a"), .pool_key = "a"}, results.Callback());
    client->Send({.url = sink->Url("127.0.0.1", "/b"), .pool_key = "b"}, results.Callback());
  }
  ASSERT_TRUE(results.WaitFor(6));

  // Two of each pool overlap; the third of each waits for a slot of its own pool.
  EXPECT_EQ(MaxConcurrent(sink->Requests()), 4);
}

TEST_F(HttpClientTest, RunsAtMostMaxConcurrentRequestsOverall) {
  auto sink = StartSink({"--script", R"({"default": {"delay_ms": 400}})"});
  ASSERT_NE(sink, nullptr);
  HttpClientOptions options = Trusting();
  options.max_concurrent = 3;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);

  Results results;
  for (int i = 0; i < 7; ++i) {
    client->Send({.url = sink->Url("127.0.0.1", "/"),
                  .pool_key = std::string("p").append(std::to_string(i))},
                 results.Callback());
  }
  ASSERT_TRUE(results.WaitFor(7));

  EXPECT_EQ(MaxConcurrent(sink->Requests()), 3);
}

TEST_F(HttpClientTest, QueuedRequestsOfAPoolRunInOrderOnOneKeptAliveConnection) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  HttpClientOptions options = Trusting();
  options.max_per_pool = 1;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);

  Results results;
  for (int i = 0; i < 8; ++i) {
    client->Send({.url = sink->Url("127.0.0.1", "/seq/" + std::to_string(i)), .pool_key = "one"},
                 results.Callback(i));
  }
  ASSERT_TRUE(results.WaitFor(8));

  auto requests = sink->Requests();
  ASSERT_EQ(requests.size(), 8U);
  std::set<int> connections;
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(Field(requests[i], "path"), "/seq/" + std::to_string(i));
    connections.insert(IntField(requests[i], "conn"));
  }
  EXPECT_EQ(connections.size(), 1U) << "connections are reused";
  EXPECT_EQ(results.Tags(), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(HttpClientTest, CallbacksRunOnTheClientThreadAndMaySendAgain) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);

  Results results;
  std::string url = sink->Url("127.0.0.1", "/chain");
  HttpClient* c = client.get();
  client->Send({.url = url}, [&, c](HttpResult first) {
    results.Callback(1)(std::move(first));
    c->Send({.url = url}, results.Callback(2));
  });
  ASSERT_TRUE(results.WaitFor(2));

  auto threads = results.Threads();
  EXPECT_NE(threads[0], std::this_thread::get_id());
  EXPECT_EQ(threads[0], threads[1]);
  for (const HttpResult& r : results.Get()) EXPECT_EQ(r.status, 200);
  EXPECT_EQ(sink->Requests().size(), 2U);
}

TEST_F(HttpClientTest, StopCompletesRunningAndQueuedRequests) {
  auto sink = StartSink({"--script", R"({"default": {"delay_ms": 30000}})"});
  ASSERT_NE(sink, nullptr);
  HttpClientOptions options = Trusting();
  options.max_per_pool = 1;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);

  Results results;
  for (int i = 0; i < 3; ++i) {
    client->Send({.url = sink->Url("127.0.0.1", "/slow"), .pool_key = "p"}, results.Callback(i));
  }
  ASSERT_TRUE(sink->WaitForRequests(1, milliseconds(10000)));  // one running, two queued
  auto start = steady_clock::now();
  client->Stop();
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));

  ASSERT_TRUE(results.WaitFor(3, milliseconds(0)));
  for (const HttpResult& r : results.Get()) {
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error, "stopped");
  }
  EXPECT_EQ(client->in_flight(), 0U);

  // After Stop, the callback runs at once on the caller's thread.
  client->Send({.url = sink->Url("127.0.0.1", "/late")}, results.Callback(9));
  ASSERT_TRUE(results.WaitFor(4, milliseconds(0)));
  EXPECT_EQ(results.Get()[3].error, "stopped");
  EXPECT_EQ(results.Threads()[3], std::this_thread::get_id());
  client->Stop();  // idempotent
  EXPECT_EQ(sink->Requests().size(), 1U);
}

TEST_F(HttpClientTest, DestructionStopsToo) {
  auto sink = StartSink({"--script", R"({"default": {"delay_ms": 30000}})"});
  ASSERT_NE(sink, nullptr);
  auto client = MakeClient(Trusting());
  ASSERT_NE(client, nullptr);
  Results results;
  client->Send({.url = sink->Url("127.0.0.1", "/slow")}, results.Callback());
  ASSERT_TRUE(sink->WaitForRequests(1, milliseconds(10000)));
  client.reset();
  ASSERT_TRUE(results.WaitFor(1, milliseconds(0)));
  EXPECT_EQ(results.Get()[0].error, "stopped");
}

TEST(HttpClientCreateTest, RefusesZeroLimitsAndAnUnreadableCaFile) {
  auto zero = HttpClient::Create({.max_per_pool = 0});
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kValidation);
  EXPECT_FALSE(HttpClient::Create({.max_concurrent = 0}));
  auto ca = HttpClient::Create({.ca_file = "/nonexistent/ca.pem"});
  ASSERT_FALSE(ca);
  EXPECT_EQ(ca.error().code, ErrorCode::kValidation);
}

TEST(HttpClientNoServerTest, ReportsAConnectionFailureAsAnError) {
  // Port 1 on loopback: nothing listens there, so the connect is refused by the kernel.
  auto client = HttpClient::Create({.allow_private_targets = true});
  ASSERT_TRUE(client);
  Results results;
  (*client)->Send({.url = "https://127.0.0.1:1/"}, results.Callback());
  ASSERT_TRUE(results.WaitFor(1));
  HttpResult r = results.Get()[0];
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.refused);
  EXPECT_NE(r.error.find("connect"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace causeloop::net

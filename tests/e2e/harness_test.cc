// Tests of the harness itself, against a local listener and a fake server script, so that a
// failing e2e test points at the server and not at its test tools.

#include "e2e/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stop_token>
#include <thread>

namespace causeloop::e2e {
namespace {
namespace fs = std::filesystem;

#ifndef CAUSELOOP_E2E_TESTDATA
#define CAUSELOOP_E2E_TESTDATA "tests/e2e/testdata"
#endif

// A one-connection-at-a-time HTTP/1.1 listener on 127.0.0.1:0. It answers every request with
// 201 and a body that echoes what it received; "/stream" answers with headers and then
// keeps the connection open like an SSE endpoint.
class EchoServer {
 public:
  EchoServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::jthread([this](std::stop_token stop) { Serve(stop); });
  }
  ~EchoServer() {
    thread_.request_stop();
    thread_.join();
    close(fd_);
  }

  [[nodiscard]] std::string BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int connections() const { return connections_.load(); }

 private:
  static bool WaitReadable(int fd, const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      pollfd p{fd, POLLIN, 0};
      int n = poll(&p, 1, 20);
      if (n > 0) return true;
    }
    return false;
  }

  void Serve(const std::stop_token& stop) {
    while (WaitReadable(fd_, stop)) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      HandleConnection(c, stop);
      close(c);
    }
  }

  void HandleConnection(int c, const std::stop_token& stop) {
    std::string buffer;
    while (true) {
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!WaitReadable(c, stop)) return;
        char chunk[4096];
        ssize_t n = read(c, chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<size_t>(n));
      }
      std::string head = buffer.substr(0, end);
      buffer.erase(0, end + 4);
      size_t content_length = 0;
      std::string auth, content_type;
      std::istringstream lines(head);
      std::string request_line, line;
      std::getline(lines, request_line);
      while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::string value = line.substr(colon + 2);
        if (name == "content-length") content_length = std::stoul(value);
        if (name == "authorization") auth = value;
        if (name == "content-type") content_type = value;
      }
      while (buffer.size() < content_length) {
        if (!WaitReadable(c, stop)) return;
        char chunk[4096];
        ssize_t n = read(c, chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<size_t>(n));
      }
      std::string body = buffer.substr(0, content_length);
      buffer.erase(0, content_length);
      if (request_line.find(" /stream ") != std::string::npos) {
        std::string h =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Request-Id: s1\r\n\r\n";
        (void)!write(c, h.data(), h.size());
        WaitReadable(c, stop);  // hold the stream open until the client goes away
        return;
      }
      std::string echo = request_line.substr(0, request_line.rfind(' ')) + "\n" + auth + "\n" +
                         content_type + "\n" + body;
      std::string response =
          "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n"
          "X-Request-Id: req-1\r\nX-Multi: a\r\nx-multi: b\r\n"
          "Content-Length: " +
          std::to_string(echo.size()) + "\r\n\r\n" + echo;
      (void)!write(c, response.data(), response.size());
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::jthread thread_;
};

TEST(HarnessHttpTest, SendsMethodPathTokenAndJsonBodyAndReadsTheResponse) {
  EchoServer echo;
  Http http(echo.BaseUrl(), "clp_secret");

  HttpResponse r = http.Request("PATCH", "/v1/things/1?x=y", R"({"a":1})");

  ASSERT_EQ(r.status, 201) << r.Describe();
  EXPECT_EQ(r.body, "PATCH /v1/things/1?x=y\nBearer clp_secret\napplication/json\n{\"a\":1}");
}

TEST(HarnessHttpTest, LowerCasesHeaderNamesAndJoinsRepeatedHeaders) {
  EchoServer echo;

  HttpResponse r = Http(echo.BaseUrl()).Get("/");

  EXPECT_EQ(r.Header("x-request-id"), "req-1");
  EXPECT_EQ(r.Header("x-multi"), "a, b");
  EXPECT_FALSE(r.HasHeader("X-Request-Id"));
}

TEST(HarnessHttpTest, AnExplicitAuthorizationHeaderReplacesTheDefaultToken) {
  EchoServer echo;
  Http http(echo.BaseUrl(), "clp_default");

  HttpResponse r = http.Request("POST", "/", "", {{"Authorization", "Bearer other"}});

  EXPECT_EQ(r.body, "POST /\nBearer other\napplication/json\n");
}

TEST(HarnessHttpTest, SequentialRequestsOnOneThreadReuseOneConnection) {
  EchoServer echo;
  Http http(echo.BaseUrl());

  for (int i = 0; i < 5; ++i) ASSERT_EQ(http.Get("/").status, 201);

  EXPECT_EQ(echo.connections(), 1);
}

TEST(HarnessHttpTest, ReportsStatusZeroAndTheCurlErrorWhenNothingListens) {
  int port;
  {
    EchoServer gone;  // take a free port, then release it
    port = std::stoi(gone.BaseUrl().substr(gone.BaseUrl().rfind(':') + 1));
  }

  HttpResponse r = Http("http://127.0.0.1:" + std::to_string(port)).Get("/");

  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.transport_error.empty());
}

TEST(HarnessHttpTest, HeadersOnlyReturnsOnceAStreamingResponseHasItsHeaders) {
  EchoServer echo;
  RequestOptions options{.timeout = 10s, .headers_only = true};
  const auto start = Clock::now();

  HttpResponse r = Http(echo.BaseUrl()).Request("GET", "/stream", "", {}, options);

  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("content-type"), "text/event-stream");
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST(HarnessJsonTest, ReadsNestedFieldsByPointerAndReportsAbsentOnes) {
  Json j = Json::Parse(R"({"a":{"b":"x","n":7,"t":true,"z":null},"l":[1,2,3]})");

  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j.Str("/a/b"), "x");
  EXPECT_EQ(j.Int("/a/n"), 7);
  EXPECT_EQ(j.Bool("/a/t"), true);
  EXPECT_TRUE(j.IsNull("/a/z"));
  EXPECT_EQ(j.Size("/l"), 3u);
  EXPECT_EQ(j.Str("/a/n"), std::nullopt);
  EXPECT_FALSE(j.Has("/a/missing"));
  EXPECT_EQ(j.Raw("/l"), "[1,2,3]");
}

TEST(HarnessJsonTest, QuoteProducesJsonThatParsesBackToTheSameString) {
  const std::string nasty = "q\"b\\n\nt\tc\x01 é";

  Json j = Json::Parse("{\"s\":" + Quote(nasty) + "}");

  ASSERT_TRUE(j.ok()) << j.error();
  EXPECT_EQ(j.Str("/s"), nasty);
}

TEST(HarnessJsonTest, MalformedTextIsNotOk) { EXPECT_FALSE(Json::Parse("{\"a\":").ok()); }

TEST(HarnessProcessTest, RunProcessCapturesExitCodeStdoutAndStderr) {
  ProcessResult r = RunProcess("/bin/sh", {"-c", "echo out; echo err >&2; exit 3"});

  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.stdout_text, "out\n");
  EXPECT_EQ(r.stderr_text, "err\n");
}

TEST(HarnessProcessTest, RunProcessKillsAChildThatOutlivesItsTimeout) {
  const auto start = Clock::now();

  ProcessResult r = RunProcess("/bin/sh", {"-c", "exec sleep 30"}, 300ms);

  EXPECT_EQ(r.exit_code, -1);
  EXPECT_LT(Clock::now() - start, 10s);
}

class FakeServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("causeloop-fake-" + UniqueSuffix());
    fs::create_directories(dir_);
    script_ = (dir_ / "fake_server.sh").string();
    fs::copy_file(fs::path(CAUSELOOP_E2E_TESTDATA) / "fake_server.sh", script_);
    fs::permissions(script_, fs::perms::owner_all);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ServerProcess::Options Fake(std::vector<std::string> extra = {}) {
    return {.extra_args = std::move(extra), .binary = script_, .start_timeout = 10s};
  }

  static int Starts(const ServerProcess& s) {
    std::ifstream in(s.data_dir() + "/starts");
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  fs::path dir_;
  std::string script_;
};

TEST_F(FakeServerTest, StartWaitsForThePortFileAndTerminateSeesExitZero) {
  ServerProcess s(Fake());

  ASSERT_TRUE(s.Start());
  EXPECT_EQ(s.port(), 4242);
  EXPECT_EQ(s.BaseUrl(), "http://127.0.0.1:4242");
  EXPECT_TRUE(s.Terminate(10s));
  EXPECT_FALSE(s.running());
}

TEST_F(FakeServerTest, StartReportsAnEarlyExitWithTheLogTail) {
  ServerProcess s(Fake({"--fake-fail"}));

  ::testing::AssertionResult started = s.Start();

  EXPECT_FALSE(started);
  EXPECT_NE(std::string(started.message()).find("cannot open store"), std::string::npos)
      << started.message();
}

TEST_F(FakeServerTest, TerminateFailsAndKillsWhenSigtermIsIgnored) {
  ServerProcess s(Fake({"--fake-ignore-term"}));
  ASSERT_TRUE(s.Start());

  EXPECT_FALSE(s.Terminate(300ms));
  EXPECT_FALSE(s.running());
}

TEST_F(FakeServerTest, RestartAfterKill9ReusesTheSameDataDir) {
  ServerProcess s(Fake());
  ASSERT_TRUE(s.Start());
  const std::string data_dir = s.data_dir();

  s.Kill9();
  EXPECT_FALSE(s.running());
  ASSERT_TRUE(s.Restart());

  EXPECT_EQ(s.data_dir(), data_dir);
  EXPECT_EQ(Starts(s), 2);
}

TEST_F(FakeServerTest, StartFailsClearlyWhenTheBinaryIsMissing) {
  ServerProcess s({.binary = (dir_ / "no-such-binary").string()});

  ::testing::AssertionResult started = s.Start();

  EXPECT_FALSE(started);
  EXPECT_NE(std::string(started.message()).find("not found"), std::string::npos);
}

}  // namespace
}  // namespace causeloop::e2e

// Streaming responses (types.h, StreamBody): head, chunk framing, pull-based flow, heartbeats,
// the end of a stream from either side, timeouts and shutdown.

#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace causeloop::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class NoAuth final : public Authenticator {
 public:
  Result<Principal> Authenticate(std::string_view) override {
    return Fail(ErrorCode::kUnauthorized, "no tokens here");
  }
};

// A body fed by the test: Push() queues bytes and wakes the server.
class FedBody final : public StreamBody {
 public:
  explicit FedBody(std::chrono::milliseconds heartbeat = {}, size_t endless_bytes = 0)
      : heartbeat_(heartbeat), endless_bytes_(endless_bytes) {}

  void Start(std::shared_ptr<StreamSink> sink) override {
    std::lock_guard lock(mu_);
    sink_ = std::move(sink);
    cv_.notify_all();
  }
  bool Pull(std::string& out) override {
    std::lock_guard lock(mu_);
    ++pulls_;
    if (endless_bytes_ > 0) {
      out.assign(endless_bytes_, 'x');
      return true;
    }
    while (!queue_.empty()) {
      out += queue_.front();
      queue_.pop_front();
    }
    return !end_;
  }
  [[nodiscard]] std::chrono::milliseconds heartbeat_interval() const override { return heartbeat_; }
  std::string Heartbeat() override { return ": beat\n\n"; }
  void Finish(StreamEnd reason) override {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(finished_.has_value()) << "Finish called twice";
    finished_ = reason;
    cv_.notify_all();
  }

  // Queues `bytes` (and the end when `last`) and notifies the server.
  void Push(std::string bytes, bool last = false) {
    std::shared_ptr<StreamSink> sink = WaitStarted();
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(bytes));
      end_ = end_ || last;
    }
    sink->Notify();
  }
  void Abort() { WaitStarted()->Abort(); }
  std::shared_ptr<StreamSink> WaitStarted() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return sink_ != nullptr; });
    return sink_;
  }
  std::optional<StreamEnd> WaitFinished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return finished_.has_value(); });
    return finished_;
  }

 private:
  const std::chrono::milliseconds heartbeat_;
  const size_t endless_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<StreamSink> sink_;
  std::deque<std::string> queue_;
  bool end_ = false;
  int pulls_ = 0;
  std::optional<StreamEnd> finished_;
};

// A raw client: sends one request, then reads bytes with deadlines.
class RawClient {
 public:
  RawClient(uint16_t port, const std::string& request, int receive_buffer = 0) : stream_(ioc_) {
    tcp::socket& s = stream_.socket();
    s.open(tcp::v4());
    if (receive_buffer > 0) s.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(s, asio::buffer(request));
  }

  // Reads until `needle` is in what was received (true) or the deadline/EOF (false).
  bool ReadUntil(std::string_view needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos) {
      if (!ReadSome(deadline)) return false;
    }
    return true;
  }
  // Reads until the server closes the connection; true when it did before the deadline.
  bool ReadToClose(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
      if (!ReadSome(deadline) && !closed_) return false;
    }
    return true;
  }
  // Nothing new arrives within `window` (and the connection stays open).
  bool QuietFor(std::chrono::milliseconds window) {
    const size_t before = received_.size();
    ReadSome(std::chrono::steady_clock::now() + window);
    return received_.size() == before && !closed_;
  }
  [[nodiscard]] const std::string& received() const { return received_; }

 private:
  // (Beast's timeouts apply to asynchronous operations only: wait with poll().)
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    if (closed_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{stream_.socket().native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[8192];
    beast::error_code ec;
    size_t n = stream_.socket().read_some(asio::buffer(buf), ec);
    received_.append(buf, n);
    if (ec) closed_ = true;
    return n > 0;
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_;
  std::string received_;
  bool closed_ = false;
};

constexpr const char* kGet11 = "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n";
constexpr const char* kGet10 = "GET /stream HTTP/1.0\r\n\r\n";

class ServerStreamTest : public ::testing::Test {
 protected:
  ~ServerStreamTest() override {
    if (server_) server_->Stop();
  }

  // Serves GET /stream with `body` (once) and GET /plain with a JSON answer.
  void Start(std::shared_ptr<FedBody> body, ServerOptions options = {}) {
    router_.Add(Method::kGet, "/stream", RouteOptions{.scope = "", .authenticate = false},
                [body](const Request&, const Responder& respond) {
                  Response r;
                  r.content_type = "text/event-stream";
                  r.SetHeader("X-Extra", "kept");
                  r.stream = body;
                  respond(std::move(r));
                });
    router_.Add(Method::kGet, "/plain", RouteOptions{.scope = "", .authenticate = false},
                [](const Request&, const Responder& respond) { respond(JsonResponse(200, "{}")); });
    options.port = 0;
    auto created = Server::Create(std::move(options), router_, auth_, nullptr, metrics_, clock_);
    ASSERT_TRUE(created.has_value()) << created.error().message;
    server_ = std::move(*created);
    server_->Start();
  }
  uint16_t port() const { return server_->port(); }

  Router router_;
  NoAuth auth_;
  Metrics metrics_;
  RealClock clock_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerStreamTest, WritesTheEventStreamHeadThenOneChunkPerPull) {
  auto body = std::make_shared<FedBody>();
  Start(body);
  RawClient c(port(), kGet11);

  ASSERT_TRUE(c.ReadUntil("\r\n\r\n", 10s));
  body->Push("id: 1\ndata: a\n\n");
  ASSERT_TRUE(c.ReadUntil("data: a", 10s)) << c.received();

  const std::string& r = c.received();
  const std::string head = r.substr(0, r.find("\r\n\r\n") + 2);
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Cache-Control: no-cache\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Accel-Buffering: no\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Extra: kept\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Request-Id: "), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_NE(r.find("\r\n\r\nf\r\nid: 1\ndata: a\n\n\r\n"), std::string::npos)
      << "one chunk of 15 bytes: " << r;
}

TEST_F(ServerStreamTest, EndsWithTheTerminatingChunkWhenTheBodyIsDone) {
  auto body = std::make_shared<FedBody>();
  Start(body);
  RawClient c(port(), kGet11);
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n", 10s));

  body->Push("data: last\n\n", /*last=*/true);

  EXPECT_TRUE(c.ReadToClose(10s));
  EXPECT_EQ(c.received().substr(c.received().size() - 5), "0\r\n\r\n") << c.received();
  EXPECT_EQ(body->WaitFinished(10s), StreamEnd::kFinished);
}

TEST_F(ServerStreamTest, StreamsToAnHttp10ClientUntilTheConnectionCloses) {
  auto body = std::make_shared<FedBody>();
  Start(body);
  RawClient c(port(), kGet10);
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n", 10s));

  body->Push("data: one\n\n");
  body->Push("data: two\n\n", /*last=*/true);

  EXPECT_TRUE(c.ReadToClose(10s));
  const std::string& r = c.received();
  EXPECT_EQ(r.find("chunked"), std::string::npos) << r;
  EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "data: one\n\ndata: two\n\n");
}

TEST_F(ServerStreamTest, LearnsThatTheClientWentAway) {
  auto body = std::make_shared<FedBody>();
  Start(body);
  {
    RawClient c(port(), kGet11);
    ASSERT_TRUE(c.ReadUntil("\r\n\r\n", 10s));
  }  // closes its socket

  EXPECT_EQ(body->WaitFinished(10s), StreamEnd::kClientClosed);
}

TEST_F(ServerStreamTest, WritesAHeartbeatWhenTheStreamIsSilent) {
  auto body = std::make_shared<FedBody>(100ms);
  Start(body);
  RawClient c(port(), kGet11);

  EXPECT_TRUE(c.ReadUntil(": beat\n\n", 10s));
  EXPECT_TRUE(c.ReadUntil(": beat\n\n\r\n8\r\n: beat\n\n", 10s)) << "and again: " << c.received();
}

TEST_F(ServerStreamTest, AnIdleStreamOutlivesTheWriteTimeout) {
  auto body = std::make_shared<FedBody>();
  ServerOptions options;
  options.write_timeout = 200ms;
  options.idle_timeout = 200ms;
  Start(body, options);
  RawClient c(port(), kGet11);
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n", 10s));

  EXPECT_TRUE(c.QuietFor(1s)) << "the connection was closed while idle";
  body->Push("data: late\n\n");

  EXPECT_TRUE(c.ReadUntil("data: late", 10s)) << c.received();
  EXPECT_FALSE(body->WaitFinished(0ms).has_value());
}

TEST_F(ServerStreamTest, DropsAStalledReaderWhoseWriteDoesNotCompleteInTime) {
  auto body = std::make_shared<FedBody>(std::chrono::milliseconds(0), size_t{1} << 20);
  ServerOptions options;
  options.write_timeout = 300ms;
  Start(body, options);
  RawClient c(port(), kGet11, /*receive_buffer=*/4096);  // and never reads

  EXPECT_EQ(body->WaitFinished(20s), StreamEnd::kWriteFailed);
}

TEST_F(ServerStreamTest, AbortClosesAtOnceWithoutTheTerminatingChunk) {
  auto body = std::make_shared<FedBody>();
  Start(body);
  RawClient c(port(), kGet11);
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n", 10s));

  body->Abort();

  EXPECT_TRUE(c.ReadToClose(10s));
  EXPECT_EQ(c.received().find("0\r\n\r\n"), std::string::npos) << c.received();
  EXPECT_EQ(body->WaitFinished(10s), StreamEnd::kAborted);
}

TEST_F(ServerStreamTest, StopEndsOpenStreamsGracefullyWithoutWaitingTheGrace) {
  auto body = std::make_shared<FedBody>();
  ServerOptions options;
  options.shutdown_grace = 20s;
  Start(body, options);
  RawClient c(port(), kGet11);
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n", 10s));
  body->Push("data: before\n\n");
  ASSERT_TRUE(c.ReadUntil("data: before", 10s));

  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  const auto took = std::chrono::steady_clock::now() - t0;

  EXPECT_LT(took, 10s) << "an open stream held Stop() for the grace period";
  EXPECT_TRUE(c.ReadToClose(10s));
  EXPECT_EQ(c.received().substr(c.received().size() - 5), "0\r\n\r\n") << c.received();
  EXPECT_EQ(body->WaitFinished(1s), StreamEnd::kServerStopping);
}

TEST_F(ServerStreamTest, OtherRequestsAreServedWhileStreamsAreOpen) {
  auto body = std::make_shared<FedBody>();
  Start(body);
  RawClient stream(port(), kGet11);
  ASSERT_TRUE(stream.ReadUntil("\r\n\r\n", 10s));

  RawClient plain(port(), "GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

  EXPECT_TRUE(plain.ReadToClose(10s));
  EXPECT_EQ(plain.received().rfind("HTTP/1.1 200 OK", 0), 0u) << plain.received();
  body->Push("data: still here\n\n");
  EXPECT_TRUE(stream.ReadUntil("data: still here", 10s)) << stream.received();
}

}  // namespace
}  // namespace causeloop::http

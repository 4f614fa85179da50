#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "http/metrics.h"
#include "http/rate_limiter.h"
#include "http/router.h"

namespace causeloop::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using HttpResponse = bhttp::response<bhttp::string_body>;

class FakeAuthenticator final : public Authenticator {
 public:
  Result<Principal> Authenticate(std::string_view token) override {
    if (token == "reader") return Principal{"ws_1", "org_1", "tok_r", {"issues:read"}};
    if (token == "writer") {
      return Principal{"ws_1", "org_1", "tok_w", {"issues:read", "issues:write", "ingest:write"}};
    }
    if (token == "conn-admin") return Principal{"ws_1", "org_1", "tok_a", {"connectors:admin"}};
    return Fail(ErrorCode::kUnauthorized, "invalid token");
  }
};

class MemoryIdempotencyStore final : public IdempotencyStore {
 public:
  Result<std::optional<StoredResponse>> Find(const std::string& ws, const std::string& key,
                                             const std::string& method,
                                             const std::string& path) override {
    std::lock_guard lock(mu_);
    auto it = stored_.find(ws + "|" + key + "|" + method + "|" + path);
    if (it == stored_.end()) return std::optional<StoredResponse>();
    return std::optional<StoredResponse>(it->second);
  }
  void Save(const std::string& ws, const std::string& key, const std::string& method,
            const std::string& path, StoredResponse response,
            std::function<void(Status)> done) override {
    {
      std::lock_guard lock(mu_);
      stored_[ws + "|" + key + "|" + method + "|" + path] = std::move(response);
      ++saves_;
    }
    done(Status());
  }
  int saves() {
    std::lock_guard lock(mu_);
    return saves_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, StoredResponse> stored_;
  int saves_ = 0;
};

// A blocking HTTP/1.1 client on one connection.
class Client {
 public:
  explicit Client(uint16_t port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  HttpResponse Send(bhttp::verb verb, std::string target, std::string body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    bhttp::request<bhttp::string_body> req(verb, target, 11);
    req.set(bhttp::field::host, "localhost");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    stream_.expires_after(10s);
    bhttp::write(stream_, req);
    return Read();
  }

  void WriteRaw(std::string_view bytes) {
    stream_.expires_after(10s);
    asio::write(stream_, asio::buffer(bytes.data(), bytes.size()));
  }

  HttpResponse Read() {
    HttpResponse res;
    stream_.expires_after(10s);
    bhttp::read(stream_, buffer_, res);
    return res;
  }

  // True when the server closes the connection within `within`.
  bool ClosedByPeer(std::chrono::milliseconds within) {
    stream_.expires_after(within);
    char c;
    beast::error_code ec;
    stream_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::string Field(const HttpResponse& res, std::string_view name) {
  return std::string(res[beast::string_view(name.data(), name.size())]);
}

// Owns everything a server needs; routes are added before Start().
class ServerTest : public ::testing::Test {
 protected:
  ~ServerTest() override {
    if (server_) server_->Stop();
    std::lock_guard lock(later_mu_);
    later_.clear();  // joins
  }

  void Start(ServerOptions options = {}) {
    options.port = 0;
    auto created =
        Server::Create(std::move(options), router_, authenticator_, &store_, metrics_, *clock_);
    ASSERT_TRUE(created.has_value()) << created.error().message;
    server_ = std::move(*created);
    server_->Start();
  }

  Client Connect() { return Client(server_->port()); }

  // Runs `f` on a test-owned thread after `delay` (joined in the destructor).
  void Later(std::chrono::milliseconds delay, std::function<void()> f) {
    std::lock_guard lock(later_mu_);
    later_.emplace_back([delay, f = std::move(f)] {
      std::this_thread::sleep_for(delay);
      f();
    });
  }

  static Handler Text(std::string body, int status = 200) {
    return
        [body, status](const Request&, Responder respond) { respond(JsonResponse(status, body)); };
  }

  static RouteOptions Open() { return RouteOptions{.scope = "", .authenticate = false}; }

  Router router_;
  FakeAuthenticator authenticator_;
  MemoryIdempotencyStore store_;
  Metrics metrics_;
  RealClock real_clock_;
  const Clock* clock_ = &real_clock_;
  std::unique_ptr<Server> server_;
  std::mutex later_mu_;
  std::vector<std::jthread> later_;
};

TEST(HttpStatusForTest, MapsEveryCodeToItsStatus) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kValidation), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kForbidden), 403);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnprocessable), 422);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500);
}

TEST(ErrorResponseTest, RendersTheEnvelopeWithDetailsAndTraceId) {
  Response r = ErrorResponse(
      Error{ErrorCode::kValidation, "bad \"title\"", {{"title", "required"}}}, "req-1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":{"code":"validation_error","message":"bad \"title\"",)"
                    R"("trace_id":"req-1","details":{"title":"required"}}})");
  Response empty = ErrorResponse(Error{ErrorCode::kNotFound, "no", {}}, "r");
  EXPECT_NE(empty.body.find(R"("details":{})"), std::string::npos);
}

TEST(RouterTest, PrefersLiteralsBacktracksAndReportsAllowedMethods) {
  Router router;
  Handler h = [](const Request&, Responder) {};
  router.Add(Method::kGet, "/v1/issues/{id}", {}, h);
  router.Add(Method::kPatch, "/v1/issues/{id}", {}, h);
  router.Add(Method::kGet, "/v1/issues/bulk", {}, h);
  router.Add(Method::kGet, "/v1/issues/{id}/similar", {}, h);

  RouteMatch literal = router.Match(Method::kGet, "/v1/issues/bulk");
  ASSERT_EQ(literal.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(literal.route->pattern, "/v1/issues/bulk");

  RouteMatch backtracked = router.Match(Method::kGet, "/v1/issues/bulk/similar");
  ASSERT_EQ(backtracked.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(backtracked.route->pattern, "/v1/issues/{id}/similar");
  EXPECT_EQ(backtracked.params.at(0).second, "bulk");

  RouteMatch decoded = router.Match(Method::kGet, "/v1/issues/a%2Fb");
  ASSERT_EQ(decoded.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(decoded.params.at(0).second, "a/b");

  RouteMatch wrong = router.Match(Method::kDelete, "/v1/issues/x");
  EXPECT_EQ(wrong.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(wrong.allow, "GET, PATCH");
  EXPECT_EQ(router.Match(Method::kGet, "/v1/issues/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/v2/x").kind, RouteMatch::Kind::kNotFound);

  auto routes = router.Routes();
  ASSERT_EQ(routes.size(), 4u);
  EXPECT_EQ(routes[1], (std::pair<std::string, std::string>{"PATCH", "/v1/issues/{id}"}));
}

TEST(RateLimiterTest, WeighsThePreviousWindowAsItSlidesOut) {
  FakeClock clock(FromUnixMillis(60'000 * 1000));
  RateLimiter limiter(clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Acquire("k", 10).allowed);
  EXPECT_FALSE(limiter.Acquire("k", 10).allowed);
  clock.Advance(60s);  // new window; the previous one still weighs 100 %
  EXPECT_FALSE(limiter.Acquire("k", 10).allowed);
  clock.Advance(30s);  // previous weighs 50 %: 5 more fit
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Acquire("k", 10).allowed) << i;
  RateDecision over = limiter.Acquire("k", 10);
  EXPECT_FALSE(over.allowed);
  EXPECT_GE(over.retry_after_seconds, 1);
  EXPECT_TRUE(limiter.Acquire("other", 10).allowed);
}

TEST(MetricsTest, RendersCountersGaugesAndCumulativeHistogramBuckets) {
  Metrics m;
  m.Counter("jobs_total", "Jobs.", {{"kind", "a\"b"}}).Inc(3);
  m.Gauge("queue_depth", "Depth.").Set(7);
  Histogram& h = m.Histogram("lat_seconds", "Latency.", {}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE jobs_total counter\njobs_total{kind=\"a\\\"b\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("queue_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_sum 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count 3\n"), std::string::npos);
  EXPECT_EQ(&m.Counter("jobs_total", "", {{"kind", "a\"b"}}),
            &m.Counter("jobs_total", "", {{"kind", "a\"b"}}));
}

TEST_F(ServerTest, BindsPathParamsAndPrefersLiteralSegments) {
  router_.Add(Method::kGet, "/v1/issues/{id}", Open(), [](const Request& r, Responder respond) {
    respond(JsonResponse(
        200, std::string(r.Param("id")) + "|" + std::string(r.Query("q").value_or("-"))));
  });
  router_.Add(Method::kGet, "/v1/issues/bulk", Open(), Text("literal"));
  router_.Add(Method::kPost, "/v1/ingest/{source}/issues", Open(),
              [](const Request& r, Responder respond) {
                respond(JsonResponse(202, std::string(r.Param("source")) + ":" + r.body));
              });
  Start();
  Client c = Connect();
  EXPECT_EQ(c.Send(bhttp::verb::get, "/v1/issues/iss_1?q=a+b%21").body(), "iss_1|a b!");
  EXPECT_EQ(c.Send(bhttp::verb::get, "/v1/issues/bulk").body(), "literal");
  HttpResponse ingest = c.Send(bhttp::verb::post, "/v1/ingest/jira/issues", "{}");
  EXPECT_EQ(ingest.result_int(), 202);
  EXPECT_EQ(ingest.body(), "jira:{}");
}

TEST_F(ServerTest, AnswersUnknownPathsWith404AndWrongMethodsWith405) {
  router_.Add(Method::kGet, "/v1/things", Open(), Text("[]"));
  Start();
  Client c = Connect();
  HttpResponse missing = c.Send(bhttp::verb::get, "/v1/nothing");
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_NE(missing.body().find(R"("code":"not_found")"), std::string::npos);
  EXPECT_FALSE(Field(missing, "X-Request-Id").empty());
  EXPECT_NE(missing.body().find(Field(missing, "X-Request-Id")), std::string::npos);

  HttpResponse wrong = c.Send(bhttp::verb::delete_, "/v1/things");
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_EQ(Field(wrong, "Allow"), "GET");
  EXPECT_NE(wrong.body().find(R"("code":"validation_error")"), std::string::npos);
  EXPECT_FALSE(Field(wrong, "X-Request-Id").empty());
  // Both kept the connection usable.
  EXPECT_EQ(c.Send(bhttp::verb::get, "/v1/things").body(), "[]");
}

TEST_F(ServerTest, EchoesASaneClientRequestIdAsTraceIdAndReplacesAnInsaneOne) {
  Start();
  Client c = Connect();
  HttpResponse echoed = c.Send(bhttp::verb::get, "/x", "", {{"X-Request-Id", "abc.DEF_1-2"}});
  EXPECT_EQ(Field(echoed, "X-Request-Id"), "abc.DEF_1-2");
  EXPECT_NE(echoed.body().find(R"("trace_id":"abc.DEF_1-2")"), std::string::npos);

  HttpResponse replaced = c.Send(bhttp::verb::get, "/x", "", {{"X-Request-Id", "bad id!"}});
  std::string id = Field(replaced, "X-Request-Id");
  EXPECT_NE(id, "bad id!");
  EXPECT_FALSE(id.empty());
  EXPECT_NE(replaced.body().find("\"trace_id\":\"" + id + "\""), std::string::npos);
}

TEST_F(ServerTest, ServesAHundredRequestsOnOneKeepAliveConnection) {
  std::atomic<int> calls{0};
  router_.Add(Method::kGet, "/health", Open(), [&](const Request&, Responder respond) {
    respond(JsonResponse(200, std::to_string(++calls)));
  });
  Start();
  Client c = Connect();
  for (int i = 1; i <= 100; ++i) {
    HttpResponse res = c.Send(bhttp::verb::get, "/health");
    ASSERT_EQ(res.result_int(), 200);
    ASSERT_EQ(res.body(), std::to_string(i));
    ASSERT_TRUE(res.keep_alive());
  }
}

TEST_F(ServerTest, DeliversAResponseGivenLaterFromAnotherThread) {
  router_.Add(Method::kPost, "/slow", Open(), [this](const Request& r, Responder respond) {
    Later(50ms, [respond, &r] { respond(JsonResponse(201, "late:" + r.body)); });
  });
  Start();
  Client c = Connect();
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse res = c.Send(bhttp::verb::post, "/slow", "payload");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 45ms);
  EXPECT_EQ(res.result_int(), 201);
  EXPECT_EQ(res.body(), "late:payload");
  EXPECT_EQ(c.Send(bhttp::verb::post, "/slow", "again").body(), "late:again");
}

TEST_F(ServerTest, IgnoresASecondCallOfTheResponder) {
  router_.Add(Method::kGet, "/twice", Open(), [](const Request&, Responder respond) {
    respond(JsonResponse(200, "first"));
    respond(JsonResponse(500, "second"));
  });
  Start();
  Client c = Connect();
  EXPECT_EQ(c.Send(bhttp::verb::get, "/twice").body(), "first");
  EXPECT_EQ(c.Send(bhttp::verb::get, "/twice").body(), "first");
}

TEST_F(ServerTest, Answers413WithoutReadingABodyWhoseContentLengthIsOverTheLimit) {
  std::atomic<int> calls{0};
  RouteOptions small = Open();
  small.max_body_bytes = 100;
  router_.Add(Method::kPost, "/small", small, [&](const Request&, Responder respond) {
    ++calls;
    respond(JsonResponse(200, "{}"));
  });
  Start();
  Client c = Connect();
  // Only the header is sent: an answer proves the server did not wait for the body.
  c.WriteRaw("POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
  HttpResponse res = c.Read();
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_NE(res.body().find(R"("code":"payload_too_large")"), std::string::npos);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.ClosedByPeer(2s));
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(ServerTest, Sends100ContinueBeforeReadingABodyTheClientHeldBack) {
  router_.Add(Method::kPost, "/echo", Open(),
              [](const Request& r, Responder respond) { respond(JsonResponse(200, r.body)); });
  Start();
  Client c = Connect();
  c.WriteRaw("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(c.Read().result_int(), 100);
  c.WriteRaw("hello");
  HttpResponse res = c.Read();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hello");
}

TEST_F(ServerTest, Answers413ForAChunkedBodyOverTheLimit) {
  RouteOptions small = Open();
  small.max_body_bytes = 100;
  router_.Add(Method::kPost, "/small", small, Text("{}"));
  Start();
  Client c = Connect();
  std::string chunk(150, 'x');
  c.WriteRaw("POST /small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n96\r\n" + chunk +
             "\r\n0\r\n\r\n");
  HttpResponse res = c.Read();
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_NE(res.body().find(R"("code":"payload_too_large")"), std::string::npos);

  Client ok = Connect();
  ok.WriteRaw(
      "POST /small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(ok.Read().result_int(), 200);
}

TEST_F(ServerTest, Answers413AndClosesForAHeaderBlockOver16KiB) {
  router_.Add(Method::kGet, "/x", Open(), Text("{}"));
  Start();
  Client c = Connect();
  c.WriteRaw("GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n");
  HttpResponse res = c.Read();
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_NE(res.body().find(R"("code":"payload_too_large")"), std::string::npos);
  EXPECT_FALSE(Field(res, "X-Request-Id").empty());
  EXPECT_TRUE(c.ClosedByPeer(2s));
}

TEST_F(ServerTest, Answers401WithoutOrWithABadToken) {
  router_.Add(Method::kGet, "/v1/issues", RouteOptions{.scope = "issues:read"}, Text("[]"));
  Start();
  Client c = Connect();
  HttpResponse none = c.Send(bhttp::verb::get, "/v1/issues");
  EXPECT_EQ(none.result_int(), 401);
  EXPECT_EQ(Field(none, "WWW-Authenticate").rfind("Bearer", 0), 0u);
  EXPECT_NE(none.body().find(R"("code":"unauthorized")"), std::string::npos);

  HttpResponse bad = c.Send(bhttp::verb::get, "/v1/issues", "", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(bad.result_int(), 401);
  EXPECT_EQ(Field(bad, "WWW-Authenticate").rfind("Bearer", 0), 0u);

  HttpResponse good =
      c.Send(bhttp::verb::get, "/v1/issues", "", {{"Authorization", "Bearer reader"}});
  EXPECT_EQ(good.result_int(), 200);
}

TEST_F(ServerTest, Answers403WithoutTheScopeAndLetsAdminImplyRead) {
  router_.Add(Method::kPost, "/v1/issues", RouteOptions{.scope = "issues:write"},
              [](const Request& r, Responder respond) {
                respond(JsonResponse(201, r.principal ? r.principal->token_id : "none"));
              });
  router_.Add(Method::kGet, "/v1/connectors", RouteOptions{.scope = "connectors:read"}, Text("[]"));
  Start();
  Client c = Connect();
  HttpResponse forbidden =
      c.Send(bhttp::verb::post, "/v1/issues", "{}", {{"Authorization", "Bearer reader"}});
  EXPECT_EQ(forbidden.result_int(), 403);
  EXPECT_NE(forbidden.body().find(R"("code":"forbidden")"), std::string::npos);

  HttpResponse allowed =
      c.Send(bhttp::verb::post, "/v1/issues", "{}", {{"Authorization", "Bearer writer"}});
  EXPECT_EQ(allowed.result_int(), 201);
  EXPECT_EQ(allowed.body(), "tok_w");

  EXPECT_EQ(c.Send(bhttp::verb::get, "/v1/connectors", "", {{"Authorization", "Bearer conn-admin"}})
                .result_int(),
            200);
}

TEST_F(ServerTest, RateLimitsTheSixthRequestAndCountsDown) {
  FakeClock fake(FromUnixMillis(60'000LL * 28'000'000 + 10'000));  // 10 s into a window
  clock_ = &fake;
  router_.Add(Method::kGet, "/v1/issues", RouteOptions{.scope = "issues:read"}, Text("[]"));
  ServerOptions options;
  options.rate_limit_per_token_per_minute = 5;
  Start(options);
  Client c = Connect();
  for (int i = 1; i <= 5; ++i) {
    HttpResponse res =
        c.Send(bhttp::verb::get, "/v1/issues", "", {{"Authorization", "Bearer reader"}});
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(Field(res, "X-RateLimit-Limit"), "5");
    EXPECT_EQ(Field(res, "X-RateLimit-Remaining"), std::to_string(5 - i));
    EXPECT_EQ(Field(res, "X-RateLimit-Reset"), "50");
  }
  HttpResponse limited =
      c.Send(bhttp::verb::get, "/v1/issues", "", {{"Authorization", "Bearer reader"}});
  EXPECT_EQ(limited.result_int(), 429);
  EXPECT_NE(limited.body().find(R"("code":"rate_limited")"), std::string::npos);
  EXPECT_EQ(Field(limited, "Retry-After"), "50");
  EXPECT_EQ(Field(limited, "X-RateLimit-Remaining"), "0");
  // Another token has its own budget.
  EXPECT_EQ(
      c.Send(bhttp::verb::get, "/v1/issues", "", {{"Authorization", "Bearer writer"}}).result_int(),
      200);
}

TEST_F(ServerTest, MadeUpTokensSpendTheClientIpBudget) {
  router_.Add(Method::kGet, "/v1/issues", RouteOptions{.scope = "issues:read"}, Text("[]"));
  ServerOptions options;
  options.rate_limit_per_ip_per_minute = 3;
  Start(options);
  Client c = Connect();
  // Every request carries a different bogus token, so no per-token budget ever runs out.
  for (int i = 0; i < 3; ++i) {
    auto res = c.Send(bhttp::verb::get, "/v1/issues", "",
                      {{"Authorization", "Bearer guess-" + std::to_string(i)}});
    EXPECT_EQ(res.result_int(), 401) << i;
  }
  auto limited = c.Send(bhttp::verb::get, "/v1/issues", "", {{"Authorization", "Bearer guess-9"}});
  EXPECT_EQ(limited.result_int(), 429);
  EXPECT_FALSE(Field(limited, "Retry-After").empty());
  // A valid token is unaffected: it has its own budget.
  EXPECT_EQ(
      c.Send(bhttp::verb::get, "/v1/issues", "", {{"Authorization", "Bearer reader"}}).result_int(),
      200);
}

class IdempotencyTest : public ServerTest {
 protected:
  void SetUp() override {
    router_.Add(
        Method::kPost, "/v1/issues", RouteOptions{.scope = "issues:write"},
        [this](const Request& r, Responder respond) {
          int n = ++calls_;
          Later(100ms, [respond, n, body = r.body] {
            respond(JsonResponse(201, "{\"n\":" + std::to_string(n) + ",\"b\":\"" + body + "\"}"));
          });
        });
    Start();
  }
  HttpResponse Post(Client& c, std::string body, std::string key = "key-1") {
    return c.Send(bhttp::verb::post, "/v1/issues", std::move(body),
                  {{"Authorization", "Bearer writer"}, {"Idempotency-Key", std::move(key)}});
  }
  std::atomic<int> calls_{0};
};

TEST_F(IdempotencyTest, ReplaysTheStoredResponseWithoutRunningTheHandlerAgain) {
  Client c = Connect();
  HttpResponse first = Post(c, "a");
  ASSERT_EQ(first.result_int(), 201);
  EXPECT_EQ(Field(first, "Idempotency-Replayed"), "");
  HttpResponse again = Post(c, "a");
  EXPECT_EQ(again.result_int(), 201);
  EXPECT_EQ(again.body(), first.body());
  EXPECT_EQ(Field(again, "Idempotency-Replayed"), "true");
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_EQ(store_.saves(), 1);
}

TEST_F(IdempotencyTest, Answers422ForTheSameKeyWithADifferentBody) {
  Client c = Connect();
  ASSERT_EQ(Post(c, "a").result_int(), 201);
  HttpResponse other = Post(c, "b");
  EXPECT_EQ(other.result_int(), 422);
  EXPECT_NE(other.body().find(R"("code":"unprocessable")"), std::string::npos);
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(IdempotencyTest, RunsTheHandlerOnceForTenConcurrentRequestsWithOneKey) {
  std::latch ready(10);
  std::vector<std::future<HttpResponse>> results;
  for (int i = 0; i < 10; ++i) {
    results.push_back(std::async(std::launch::async, [&] {
      Client c = Connect();
      ready.arrive_and_wait();
      return Post(c, "same", "concurrent");
    }));
  }
  std::vector<HttpResponse> responses;
  for (auto& f : results) responses.push_back(f.get());
  EXPECT_EQ(calls_.load(), 1);
  int replayed = 0;
  for (const HttpResponse& r : responses) {
    EXPECT_EQ(r.result_int(), 201);
    EXPECT_EQ(r.body(), responses[0].body());
    if (Field(r, "Idempotency-Replayed") == "true") ++replayed;
  }
  EXPECT_EQ(replayed, 9);
}

TEST_F(ServerTest, AnswersAThrowingHandlerWith500AndKeepsServing) {
  router_.Add(Method::kGet, "/boom", Open(),
              [](const Request&, Responder) { throw std::runtime_error("boom"); });
  router_.Add(Method::kGet, "/ok", Open(), Text("fine"));
  Start();
  Client c = Connect();
  HttpResponse boom = c.Send(bhttp::verb::get, "/boom");
  EXPECT_EQ(boom.result_int(), 500);
  EXPECT_NE(boom.body().find(R"("code":"internal")"), std::string::npos);
  EXPECT_EQ(c.Send(bhttp::verb::get, "/ok").body(), "fine");
  Client fresh = Connect();
  EXPECT_EQ(fresh.Send(bhttp::verb::get, "/ok").body(), "fine");
}

TEST_F(ServerTest, AddsRetryAfterToA503UnlessTheHandlerSetOne) {
  router_.Add(Method::kGet, "/busy", Open(), [](const Request& r, Responder respond) {
    respond(ErrorResponse(Error{ErrorCode::kUnavailable, "busy", {}}, r.request_id));
  });
  router_.Add(Method::kGet, "/busy7", Open(), [](const Request& r, Responder respond) {
    respond(ErrorResponse(Error{ErrorCode::kUnavailable, "busy", {}}, r.request_id)
                .SetHeader("Retry-After", "7"));
  });
  Start();
  Client c = Connect();
  EXPECT_EQ(Field(c.Send(bhttp::verb::get, "/busy"), "Retry-After"), "1");
  HttpResponse seven = c.Send(bhttp::verb::get, "/busy7");
  EXPECT_EQ(Field(seven, "Retry-After"), "7");
}

TEST_F(ServerTest, DisconnectsASlowClientAfterTheHeaderTimeout) {
  router_.Add(Method::kGet, "/x", Open(), Text("{}"));
  ServerOptions options;
  options.header_timeout = 200ms;
  Start(options);
  Client c = Connect();
  c.WriteRaw("GET /x HTTP/1.1\r\nHost: a\r\n");  // and never finishes the header
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.ClosedByPeer(3s));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 2s);
}

TEST_F(ServerTest, StopWaitsForAnInFlightAsyncHandlerToAnswer) {
  std::latch started(1);
  std::atomic<bool> answered{false};
  router_.Add(Method::kPost, "/commit", Open(), [&](const Request&, Responder respond) {
    started.count_down();
    Later(300ms, [&answered, respond] {
      answered = true;
      respond(JsonResponse(202, "committed"));
    });
  });
  Start();
  auto response = std::async(std::launch::async, [&] {
    Client c = Connect();
    return c.Send(bhttp::verb::post, "/commit", "{}");
  });
  started.wait();
  server_->Stop();
  EXPECT_TRUE(answered.load());
  HttpResponse res = response.get();
  EXPECT_EQ(res.result_int(), 202);
  EXPECT_EQ(res.body(), "committed");
  EXPECT_FALSE(res.keep_alive());
  // The listener is gone.
  asio::io_context ioc;
  tcp::socket s(ioc);
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()), ec);
  EXPECT_TRUE(ec);
}

TEST_F(ServerTest, RendersRequestMetricsLabelledWithTheRoutePattern) {
  router_.Add(Method::kGet, "/v1/issues/{id}", Open(), Text("{}"));
  Start();
  Client c = Connect();
  c.Send(bhttp::verb::get, "/v1/issues/iss_1");
  c.Send(bhttp::verb::get, "/v1/issues/iss_2");
  c.Send(bhttp::verb::get, "/nope");
  std::string text = metrics_.Render();
  EXPECT_NE(
      text.find(R"(http_requests_total{method="GET",route="/v1/issues/{id}",status="200"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(http_requests_total{method="GET",route="unmatched",status="404"} 1)"),
            std::string::npos);
  EXPECT_NE(
      text.find(R"(http_request_duration_seconds_count{method="GET",route="/v1/issues/{id}"} 2)"),
      std::string::npos);
  EXPECT_EQ(text.find("iss_1"), std::string::npos);
  EXPECT_NE(text.find("http_connections_active 1"), std::string::npos);
}

}  // namespace
}  // namespace causeloop::http

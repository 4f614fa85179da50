// The live stream, GET /v1/notifications/stream (SPEC §7.3), against the real binary: with
// curl -N, with the stock npm EventSource client and with a raw socket that shows the wire
// (chunks, comments, the end of the stream). Every wait polls against a deadline.

#include <algorithm>
#include <filesystem>
#include <set>

#include "e2e/harness.h"
#include "e2e/sse_client.h"

namespace causeloop::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kStreamPath = "/v1/notifications/stream";
const std::string kNodeDir = std::string(CAUSELOOP_E2E_TESTDATA) + "/../../node";

// One event as a client saw it.
struct Received {
  int64_t id = -1;  // the frame's id: line
  std::string type;
  std::string data;  // the data: line (the event JSON)
};

std::string Describe(const std::vector<Received>& events) {
  std::string s;
  for (const auto& e : events) s += std::to_string(e.id) + ":" + e.type + " ";
  return s;
}

// The frame's id: and event: agree with the JSON on the data: line, which is the whole event.
::testing::AssertionResult WellFormed(const Received& e, const std::string& workspace_id) {
  Json j = Json::Parse(e.data);
  if (!j.ok()) return ::testing::AssertionFailure() << "data is not JSON: " << e.data;
  if (j.Int("/sequence") != e.id) {
    return ::testing::AssertionFailure() << "id " << e.id << " but sequence in " << e.data;
  }
  if (j.Str("/type") != e.type) {
    return ::testing::AssertionFailure() << "event " << e.type << " but type in " << e.data;
  }
  if (j.Str("/workspace_id") != workspace_id) {
    return ::testing::AssertionFailure() << "another workspace's event: " << e.data;
  }
  if (j.Str("/id").value_or("").rfind("evt_", 0) != 0 || !j.Has("/data") || !j.Has("/timestamp")) {
    return ::testing::AssertionFailure() << "not an event envelope: " << e.data;
  }
  return ::testing::AssertionSuccess();
}

// Sequences are exactly first, first+1, … in order.
::testing::AssertionResult Contiguous(const std::vector<Received>& events, int64_t first) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].id != first + static_cast<int64_t>(i)) {
      return ::testing::AssertionFailure()
             << "position " << i << " has id " << events[i].id << ", expected "
             << first + static_cast<int64_t>(i) << "; got " << Describe(events);
    }
  }
  return ::testing::AssertionSuccess();
}

// Builds SSE messages from lines (curl's output).
class LineFrames {
 public:
  // Feeds one line; returns an event when the line ends one.
  std::optional<Received> Feed(const std::string& line) {
    if (line.empty()) {
      std::optional<Received> out;
      if (!current_.type.empty() || !current_.data.empty()) out = current_;
      current_ = Received();
      return out;
    }
    if (line.rfind("id: ", 0) == 0) current_.id = std::stoll(line.substr(4));
    if (line.rfind("event: ", 0) == 0) current_.type = line.substr(7);
    if (line.rfind("data: ", 0) == 0) current_.data += line.substr(6);
    if (line.rfind(":", 0) == 0) comments_.push_back(line);
    if (line.rfind("retry: ", 0) == 0) saw_retry_ = true;
    return std::nullopt;
  }
  [[nodiscard]] bool saw_retry() const { return saw_retry_; }

 private:
  Received current_;
  std::vector<std::string> comments_;
  bool saw_retry_ = false;
};

// Every event of the workspace after `after`, as GET /v1/events lists them.
std::vector<Received> Logged(const Http& http, int64_t after) {
  std::vector<Received> out;
  std::optional<std::vector<std::string>> items =
      ListAll(http, "/v1/events?after=" + std::to_string(after), 1000);
  if (!items) return out;
  for (const std::string& item : *items) {
    Json j = Json::Parse(item);
    out.push_back(Received{j.Int("/sequence").value_or(-1), j.Str("/type").value_or(""), item});
  }
  return out;
}

std::string Record(const std::string& title) {
  return R"({"source":"sentry","external_id":")" + title + R"(","title":")" + title + "\"}";
}

// A stream connection's event frames read until `done` holds or the deadline passes.
std::vector<Received> ReadEvents(SseConnection& c,
                                 const std::function<bool(const std::vector<Received>&)>& done,
                                 std::chrono::milliseconds timeout = 60s) {
  std::vector<Received> got;
  const auto deadline = Clock::now() + timeout;
  while (!done(got)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    std::optional<SseMessage> m = c.NextEvent(left);
    if (!m) break;
    got.push_back(Received{std::atoll(m->id.c_str()), m->event, m->data});
  }
  return got;
}

// Whether `events` contains an issue.created for each of `issue_ids`.
bool CreatedAll(const std::vector<Received>& events, const std::vector<std::string>& issue_ids) {
  for (const auto& id : issue_ids) {
    bool found = std::any_of(events.begin(), events.end(), [&](const Received& e) {
      return e.type == "issue.created" && e.data.find("\"" + id + "\"") != std::string::npos;
    });
    if (!found) return false;
  }
  return true;
}

// The value of one Prometheus sample line ("name{labels} value"), or 0 when absent.
double MetricValue(const Http& http, const std::string& series) {
  HttpResponse r = http.Get("/metrics");
  size_t at = r.body.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::atof(r.body.c_str() + at + series.size() + 2);
}

bool HaveNodeClient() {
  return std::system("command -v node >/dev/null 2>&1") == 0 &&
         fs::exists(kNodeDir + "/node_modules/eventsource");
}

// The Node EventSource client (tests/node/sse_client.js) on the stream.
std::unique_ptr<ChildProcess> StartNodeClient(const std::string& base_url, const std::string& token,
                                              std::optional<int64_t> last_event_id = {}) {
  std::vector<std::string> argv = {"node",         kNodeDir + "/sse_client.js",
                                   "--url",        base_url + kStreamPath,
                                   "--token",      token,
                                   "--timeout-ms", "120000"};
  if (last_event_id) {
    argv.push_back("--last-event-id");
    argv.push_back(std::to_string(*last_event_id));
  }
  std::string error;
  auto child = ChildProcess::Start(argv, error);
  EXPECT_TRUE(child) << error;
  return child;
}

// Reads the Node client's lines until {"open":true}; false on anything else first.
bool WaitOpen(ChildProcess& client) {
  std::optional<std::string> line = client.ReadLine(60s);
  return line && Json::Parse(*line).Bool("/open") == true;
}

// Reads the Node client's event lines until `done` holds or the deadline passes.
std::vector<Received> NodeEvents(ChildProcess& client, std::vector<Received>& got,
                                 const std::function<bool(const std::vector<Received>&)>& done,
                                 std::chrono::milliseconds timeout = 60s) {
  const auto deadline = Clock::now() + timeout;
  while (!done(got)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    std::optional<std::string> line = client.ReadLine(left);
    if (!line) break;
    Json j = Json::Parse(*line);
    if (!j.Has("/id")) {
      ADD_FAILURE() << "the client reported: " << *line;
      continue;
    }
    got.push_back(Received{std::atoll(j.Str("/id").value_or("-1").c_str()),
                           j.Str("/type").value_or(""), j.Raw("/data")});
  }
  return got;
}

class StreamTest : public ServerTest<StreamTest> {
 protected:
  // A raw stream connection with `token`, the head read and checked to be 200.
  std::unique_ptr<SseConnection> Connect(const std::string& token, const std::string& query = "",
                                         const Headers& extra = {}, int receive_buffer = 0) {
    Headers headers = {{"Authorization", "Bearer " + token}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    std::string error;
    auto c =
        SseConnection::Open(server().port(), kStreamPath + query, headers, error, receive_buffer);
    EXPECT_TRUE(c) << error;
    if (!c) return nullptr;
    EXPECT_TRUE(c->ReadHead(30s));
    EXPECT_EQ(c->status(), 200) << c->ReadBody(5s);
    return c;
  }
};

TEST_F(StreamTest, AnswersWithAnEventStreamHeadAndARetryHint) {
  Credentials ws;
  FreshWorkspace(&ws);

  auto c = Connect(ws.token);

  ASSERT_TRUE(c);
  EXPECT_EQ(c->Header("content-type"), "text/event-stream");
  EXPECT_EQ(c->Header("cache-control"), "no-cache");
  EXPECT_EQ(c->Header("x-accel-buffering"), "no");
  EXPECT_EQ(c->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(c->Header("content-length"), "");
  EXPECT_FALSE(c->Header("x-request-id").empty());
  std::optional<SseMessage> first = c->Next(30s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->retry, "2000") << first->raw;
}

TEST_F(StreamTest, CurlReceivesAFrameForEachEventIngestedAfterItConnected) {
  Credentials ws;
  Http http = FreshWorkspace(&ws);
  IngestEvent(http, Record("before-connect"));  // not part of a live-only stream
  std::string error;
  auto curl =
      ChildProcess::Start({"curl", "-sN", "--max-time", "120", "-H",
                           "Authorization: Bearer " + ws.token, server().BaseUrl() + kStreamPath},
                          error);
  ASSERT_TRUE(curl) << error;
  LineFrames frames;
  // The retry hint is written after the subscription exists: from then on nothing is missed.
  while (!frames.saw_retry()) {
    std::optional<std::string> line = curl->ReadLine(60s);
    ASSERT_TRUE(line) << "curl printed: " << curl->transcript();
    frames.Feed(*line);
  }

  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(IngestEvent(http, Record("curl-" + UniqueSuffix())));
  std::vector<Received> got;
  const auto deadline = Clock::now() + 60s;
  while (!CreatedAll(got, ids) && Clock::now() < deadline) {
    std::optional<std::string> line = curl->ReadLine(5s);
    if (!line) continue;
    if (auto e = frames.Feed(*line)) got.push_back(*e);
  }

  EXPECT_TRUE(CreatedAll(got, ids)) << Describe(got) << "\n" << curl->transcript();
  ASSERT_FALSE(got.empty());
  for (const auto& e : got) EXPECT_TRUE(WellFormed(e, ws.workspace_id));
  EXPECT_TRUE(Contiguous(got, got.front().id));
  EXPECT_GT(got.front().id, 1) << "the event from before the connection was not replayed";
}

TEST_F(StreamTest, TheStockEventSourceClientReceivesEvents) {
  if (!HaveNodeClient()) GTEST_SKIP() << "node or tests/node/node_modules missing (scripts/test)";
  Credentials ws;
  Http http = FreshWorkspace(&ws);
  auto client = StartNodeClient(server().BaseUrl(), ws.token);
  ASSERT_TRUE(client);
  ASSERT_TRUE(WaitOpen(*client)) << client->transcript();

  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(IngestEvent(http, Record("es-" + UniqueSuffix())));
  std::vector<Received> got;
  NodeEvents(*client, got, [&](const auto& events) { return CreatedAll(events, ids); });

  EXPECT_TRUE(CreatedAll(got, ids)) << client->transcript();
  for (const auto& e : got) EXPECT_TRUE(WellFormed(e, ws.workspace_id));
  EXPECT_TRUE(Contiguous(got, got.empty() ? 0 : got.front().id));
}

TEST_F(StreamTest, AReconnectWithLastEventIdGetsExactlyTheMissedEventsThenLiveOnes) {
  if (!HaveNodeClient()) GTEST_SKIP() << "node or tests/node/node_modules missing (scripts/test)";
  Credentials ws;
  Http http = FreshWorkspace(&ws);
  // First connection: sees two issues, then goes away.
  auto first = StartNodeClient(server().BaseUrl(), ws.token);
  ASSERT_TRUE(first && WaitOpen(*first)) << (first ? first->transcript() : "");
  std::vector<std::string> seen_ids = {IngestEvent(http, Record("r1-" + UniqueSuffix())),
                                       IngestEvent(http, Record("r2-" + UniqueSuffix()))};
  std::vector<Received> before;
  NodeEvents(*first, before, [&](const auto& events) { return CreatedAll(events, seen_ids); });
  ASSERT_TRUE(CreatedAll(before, seen_ids)) << first->transcript();
  first->Stop();
  // Whatever else it had read before it stopped also counts as received.
  NodeEvents(
      *first, before, [](const auto&) { return false; }, 5s);
  const int64_t last_seen = before.back().id;

  // Missed while disconnected.
  for (int i = 0; i < 3; ++i) IngestEvent(http, Record("missed-" + UniqueSuffix()));
  auto second = StartNodeClient(server().BaseUrl(), ws.token, last_seen);
  ASSERT_TRUE(second && WaitOpen(*second)) << (second ? second->transcript() : "");
  // Live after the reconnect.
  std::vector<std::string> live_ids;
  for (int i = 0; i < 2; ++i)
    live_ids.push_back(IngestEvent(http, Record("live-" + UniqueSuffix())));
  const std::vector<Received> logged = Logged(http, last_seen);
  std::vector<Received> after;
  NodeEvents(*second, after, [&](const auto& events) {
    return !events.empty() && events.back().id >= logged.back().id;
  });

  EXPECT_TRUE(Contiguous(after, last_seen + 1)) << "no gap, no duplicate across the reconnect";
  ASSERT_EQ(after.size(), logged.size()) << Describe(after) << " vs log " << Describe(logged);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].id, logged[i].id);
    EXPECT_EQ(after[i].type, logged[i].type);
    EXPECT_EQ(Json::Parse(after[i].data).Str("/id"), Json::Parse(logged[i].data).Str("/id"));
  }
  EXPECT_TRUE(CreatedAll(after, live_ids));
  EXPECT_FALSE(CreatedAll(after, {seen_ids[0]})) << "an event seen before was sent again";
}

TEST_F(StreamTest, LastEventIdInTheQueryResumesAndTheHeaderWinsOverIt) {
  Credentials ws;
  Http http = FreshWorkspace(&ws);
  for (int i = 0; i < 4; ++i) IngestEvent(http, Record("q-" + UniqueSuffix()));
  const std::vector<Received> logged = Logged(http, 0);
  ASSERT_GE(logged.size(), 4u);
  const int64_t last = logged.back().id;

  auto by_query = Connect(ws.token, "?last_event_id=1");
  auto by_header = Connect(ws.token, "?last_event_id=1", {{"Last-Event-ID", "3"}});
  ASSERT_TRUE(by_query && by_header);
  auto until_last = [last](const std::vector<Received>& e) {
    return !e.empty() && e.back().id >= last;
  };
  std::vector<Received> q = ReadEvents(*by_query, until_last);
  std::vector<Received> h = ReadEvents(*by_header, until_last);

  EXPECT_TRUE(Contiguous(q, 2));
  EXPECT_TRUE(Contiguous(h, 4));
  EXPECT_EQ(q.size(), static_cast<size_t>(last - 1));
}

TEST_F(StreamTest, TypesFilterSendsOnlyTheRequestedTypes) {
  Credentials ws;
  Http http = FreshWorkspace(&ws);
  auto c = Connect(ws.token, "?types=issue.updated,issue.resolved");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Next(30s));  // the retry hint: subscribed

  const std::string key = "typed-" + UniqueSuffix();
  const std::string id = IngestEvent(http, Record(key));
  IngestEvent(http, R"({"source":"sentry","external_id":")" + key + R"(","title":"again"})");
  ASSERT_TRUE(HasStatus(
      http.Post("/v1/issues/" + id + "/resolve", R"({"summary":"fixed","fix":"more disk"})"), 200));
  std::vector<Received> got =
      ReadEvents(*c, [](const auto& e) { return !e.empty() && e.back().type == "issue.resolved"; });

  std::vector<std::string> types;
  for (const auto& e : got) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"issue.updated", "issue.resolved"}));
  for (const auto& e : got) EXPECT_TRUE(WellFormed(e, ws.workspace_id));
}

TEST_F(StreamTest, AStreamSeesOnlyItsOwnWorkspace) {
  Credentials a, b;
  Http http_a = FreshWorkspace(&a);
  Http http_b = FreshWorkspace(&b);
  auto c = Connect(a.token);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Next(30s));

  IngestEvent(http_b, Record("other-" + UniqueSuffix()));
  const std::string mine = IngestEvent(http_a, Record("mine-" + UniqueSuffix()));
  std::vector<Received> got = ReadEvents(*c, [&](const auto& e) { return CreatedAll(e, {mine}); });

  ASSERT_TRUE(CreatedAll(got, {mine}));
  for (const auto& e : got) EXPECT_TRUE(WellFormed(e, a.workspace_id));
}

TEST_F(StreamTest, RefusesMissingTokensScopesAndBadParameters) {
  Credentials ws;
  Http http = FreshWorkspace(&ws);
  IngestEvent(http, Record("params-" + UniqueSuffix()));
  std::optional<CreatedToken> no_events =
      server().CreateToken(ws.workspace_id, {"issues:read", "ingest:write"}, "no-events");
  std::optional<CreatedToken> only_events =
      server().CreateToken(ws.workspace_id, {"events:read"}, "only-events");
  ASSERT_TRUE(no_events && only_events);

  HttpResponse anonymous = suite_->AnonymousHttp().Get(kStreamPath);
  HttpResponse forbidden = http.WithToken(no_events->token).Get(kStreamPath);
  HttpResponse bad_type = http.Get(kStreamPath + "?types=issue.created,issue.exploded");
  HttpResponse empty_types = http.Get(kStreamPath + "?types=");
  HttpResponse bad_header = http.Get(kStreamPath, {{"Last-Event-ID", "12abc"}});
  HttpResponse negative_query = http.Get(kStreamPath + "?last_event_id=-1");
  HttpResponse never_sent = http.Get(kStreamPath, {{"Last-Event-ID", "999999"}});
  RequestOptions head_only{.timeout = 30s, .headers_only = true};
  HttpResponse allowed =
      http.WithToken(only_events->token).Request("GET", kStreamPath, {}, {}, head_only);

  EXPECT_TRUE(IsErrorEnvelope(anonymous, 401, "unauthorized"));
  EXPECT_TRUE(IsErrorEnvelope(forbidden, 403, "forbidden"));
  EXPECT_TRUE(IsErrorEnvelope(bad_type, 400, "validation_error"));
  EXPECT_NE(bad_type.body.find("issue.exploded"), std::string::npos) << bad_type.body;
  EXPECT_TRUE(IsErrorEnvelope(empty_types, 400, "validation_error"));
  EXPECT_TRUE(IsErrorEnvelope(bad_header, 400, "validation_error"));
  EXPECT_NE(bad_header.body.find("Last-Event-ID"), std::string::npos) << bad_header.body;
  EXPECT_TRUE(IsErrorEnvelope(negative_query, 400, "validation_error"));
  EXPECT_TRUE(IsErrorEnvelope(never_sent, 400, "validation_error"));
  EXPECT_TRUE(HasStatus(allowed, 200));
  EXPECT_EQ(allowed.Header("content-type"), "text/event-stream");
}

TEST(StreamShutdownTest, SigtermEndsOpenStreamsCleanlyAndPromptly) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::optional<Credentials> ws = server.Bootstrap();
  ASSERT_TRUE(ws);
  std::string error;
  auto c = SseConnection::Open(server.port(), kStreamPath,
                               {{"Authorization", "Bearer " + ws->token}}, error);
  ASSERT_TRUE(c) << error;
  ASSERT_TRUE(c->ReadHead(30s));
  ASSERT_EQ(c->status(), 200);
  ASSERT_TRUE(c->Next(30s));

  const auto t0 = Clock::now();
  EXPECT_TRUE(server.Terminate(20s)) << server.LogTail();
  const auto took = Clock::now() - t0;

  EXPECT_LT(took, 9s) << "the open stream held shutdown for the grace period (10 s)";
  EXPECT_TRUE(c->WaitClosed(10s));
  EXPECT_TRUE(c->saw_last_chunk()) << "the stream ended with its terminating chunk";
}

// A server with a 1 s ping and a small per-connection buffer.
class StreamTunedTest : public ServerTest<StreamTunedTest> {
 public:
  static ServerProcess::Options SuiteOptions() {
    ServerProcess::Options o;
    o.extra_args = {"--stream-ping-seconds", "1", "--stream-buffer-events", "200"};
    return o;
  }
};

TEST_F(StreamTunedTest, PingsKeepASilentStreamAlive) {
  Credentials ws;
  FreshWorkspace(&ws);
  std::string error;
  auto c = SseConnection::Open(server().port(), kStreamPath,
                               {{"Authorization", "Bearer " + ws.token}}, error);
  ASSERT_TRUE(c) << error;
  ASSERT_TRUE(c->ReadHead(30s));

  int pings = 0;
  const auto deadline = Clock::now() + 30s;
  while (pings < 2 && Clock::now() < deadline) {
    std::optional<SseMessage> m = c->Next(5s);
    if (m && m->comment == "ping") ++pings;
    ASSERT_TRUE(m || !c->closed()) << "the stream closed";
  }

  EXPECT_EQ(pings, 2);
}

TEST_F(StreamTunedTest, AStalledClientIsDroppedOnceItsBufferOverflowsWhileIngestStaysFast) {
  Credentials ws;
  Http http = FreshWorkspace(&ws);
  const std::string overflows = R"(causeloop_stream_disconnects_total{reason="overflow"})";
  const double overflows_before = MetricValue(http, overflows);
  std::string error;
  // A tiny receive window, and it never reads.
  auto stalled = SseConnection::Open(server().port(), kStreamPath,
                                     {{"Authorization", "Bearer " + ws.token}}, error,
                                     /*receive_buffer=*/2048);
  ASSERT_TRUE(stalled) << error;
  ASSERT_TRUE(
      PollUntil([&] { return MetricValue(http, "causeloop_stream_connections") >= 1; }, 30s, 50ms));

  // ~40 events (issues and their patterns) per batch, ~600-byte frames: the socket buffers
  // fill within a few batches, then the 200-event buffer overflows.
  std::vector<double> batch_seconds;
  bool dropped = false;
  for (int batch = 0; batch < 60 && !dropped; ++batch) {
    std::string body = R"({"records":[)";
    for (int i = 0; i < 20; ++i) {
      if (i > 0) body += ",";
      body += R"({"source":"datadog","external_id":"stall-)" + UniqueSuffix() +
              R"(","title":"Disk latency high on db-)" + std::to_string(i) + " batch " +
              std::to_string(batch) + R"(","body":")" + std::string(300, 'x') + "\"}";
    }
    body += "]}";
    const auto t0 = Clock::now();
    HttpResponse r = http.Post("/v1/ingest/batch", body);
    batch_seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    ASSERT_TRUE(HasStatus(r, 202)) << "batch " << batch;
    dropped = MetricValue(http, overflows) > overflows_before;
  }
  if (!dropped) {
    dropped = PollUntil([&] { return MetricValue(http, overflows) > overflows_before; }, 30s, 50ms);
  }

  EXPECT_TRUE(dropped) << "the stalled stream was never dropped for overflow";
  EXPECT_LT(*std::max_element(batch_seconds.begin(), batch_seconds.end()), 10.0)
      << "a stalled stream slowed ingestion down";
  // Reading now drains what the kernel held, then the end: the server closed it.
  EXPECT_TRUE(stalled->WaitClosed(60s));
  EXPECT_FALSE(stalled->saw_last_chunk()) << "an overflow is an abort, not a clean end";
  // The server still streams to others.
  auto fresh = SseConnection::Open(server().port(), kStreamPath,
                                   {{"Authorization", "Bearer " + ws.token}}, error);
  ASSERT_TRUE(fresh) << error;
  ASSERT_TRUE(fresh->ReadHead(30s));
  EXPECT_EQ(fresh->status(), 200);
}

}  // namespace
}  // namespace causeloop::e2e

#pragma once
// End-to-end test harness: runs the real `causeloop` binary, talks HTTP to it, reads JSON.
//
// Nothing here sleeps to wait for a condition: every wait polls the condition against a
// deadline and reports what it last saw when the deadline passes.

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeloop::e2e {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Processes

// Path of the binary under test: $CAUSELOOP_BINARY if set, else the path CMake compiled in.
std::string BinaryPath();

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed; -1 when it never ran
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `path args...` to completion (at most `timeout`; then it is killed and exit_code is -1).
ProcessResult RunProcess(const std::string& path, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = 30s);

// Runs the causeloop binary with `args`.
ProcessResult RunCli(const std::vector<std::string>& args);

struct Credentials {
  std::string organization_id;
  std::string workspace_id;
  std::string token;
};

struct CreatedToken {
  std::string id;
  std::string token;
};

// One `causeloop serve` process with its own temporary root directory:
//   <root>/data (the data dir, kept across restarts), <root>/port, <root>/server.log.
// The destructor kills the process and removes the directory (unless
// $CAUSELOOP_E2E_KEEP_DIRS is set, for post-mortems).
class ServerProcess {
 public:
  struct Options {
    std::vector<std::string> extra_args;  // e.g. {"--rate-limit-per-token", "5"}
    std::string binary;                   // empty: BinaryPath()
    std::chrono::milliseconds start_timeout = 20s;
  };

  ServerProcess();
  explicit ServerProcess(Options options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the process and waits until it has written its port file. Fails (with the tail of
  // the server log) when the process exits first or the deadline passes.
  ::testing::AssertionResult Start();
  // SIGKILL + reap. No-op when not running.
  void Kill9();
  // SIGTERM, then waits for exit up to `timeout`. Succeeds only on exit status 0 in time
  // (on timeout the process is SIGKILLed).
  ::testing::AssertionResult Terminate(std::chrono::milliseconds timeout = 15s);
  // Kill9() (when running) and Start() again on the same data dir.
  ::testing::AssertionResult Restart();

  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string BaseUrl() const;
  [[nodiscard]] const std::string& root_dir() const { return root_; }
  [[nodiscard]] std::string data_dir() const { return root_ + "/data"; }
  [[nodiscard]] std::string log_path() const { return root_ + "/server.log"; }
  // The last `max_bytes` of the server log, for failure messages.
  [[nodiscard]] std::string LogTail(size_t max_bytes = 4000) const;

  // `causeloop admin bootstrap --data-dir <data dir>`; nullopt (with a test failure) on error.
  std::optional<Credentials> Bootstrap();
  // `causeloop admin create-token --data-dir … --workspace ws --scopes a,b --name n`.
  std::optional<CreatedToken> CreateToken(const std::string& workspace_id,
                                          const std::vector<std::string>& scopes,
                                          const std::string& name = "e2e");

 private:
  Options options_;
  std::string root_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// ---------------------------------------------------------------------------------------------
// HTTP

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  long status = 0;                             // 0 when the transport failed
  std::map<std::string, std::string> headers;  // names lower-cased; repeats joined by ", "
  std::string body;
  std::string transport_error;  // curl's message when status == 0

  // The header's value, or "" when absent. `name` must be lower-case.
  [[nodiscard]] std::string Header(const std::string& name) const;
  [[nodiscard]] bool HasHeader(const std::string& name) const;
  // "<status> <body (truncated)>", for failure messages.
  [[nodiscard]] std::string Describe() const;
};

struct RequestOptions {
  std::chrono::milliseconds timeout = 30s;
  // Stop reading once the response headers are in (for text/event-stream endpoints).
  bool headers_only = false;
};

// A small libcurl client bound to one base URL and, optionally, one bearer token. Each
// thread reuses its own curl handle, so sequential requests on a thread share keep-alive
// connections. Safe to use from several threads at once.
class Http {
 public:
  Http() = default;
  explicit Http(std::string base_url, std::string token = "")
      : base_url_(std::move(base_url)), token_(std::move(token)) {}

  // `path` starts with "/". Adds `Authorization: Bearer <token>` unless `headers` has an
  // Authorization header already, and `Content-Type: application/json` on POST/PUT/PATCH
  // (or any request with a body) without one.
  HttpResponse Request(std::string_view method, std::string_view path, std::string_view body = {},
                       const Headers& headers = {}, const RequestOptions& options = {}) const;

  HttpResponse Get(std::string_view path, const Headers& headers = {}) const {
    return Request("GET", path, {}, headers);
  }
  HttpResponse Post(std::string_view path, std::string_view body,
                    const Headers& headers = {}) const {
    return Request("POST", path, body, headers);
  }

  [[nodiscard]] Http WithToken(std::string token) const {
    return Http(base_url_, std::move(token));
  }
  [[nodiscard]] const std::string& base_url() const { return base_url_; }
  [[nodiscard]] const std::string& token() const { return token_; }

 private:
  std::string base_url_;
  std::string token_;
};

// ---------------------------------------------------------------------------------------------
// JSON

// A parsed document that owns its parser, so elements stay valid as long as the Json does.
class Json {
 public:
  Json() = default;
  static Json Parse(std::string_view text);

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] simdjson::dom::element root() const { return root_; }

  // RFC 6901 pointer lookups ("" is the root, "/error/code", "/data/0/id").
  [[nodiscard]] std::optional<simdjson::dom::element> At(std::string_view pointer) const;
  [[nodiscard]] bool Has(std::string_view pointer) const { return At(pointer).has_value(); }
  [[nodiscard]] std::optional<std::string> Str(std::string_view pointer) const;
  [[nodiscard]] std::optional<int64_t> Int(std::string_view pointer) const;
  [[nodiscard]] std::optional<bool> Bool(std::string_view pointer) const;
  // A JSON number (integer or not) as a double.
  [[nodiscard]] std::optional<double> Num(std::string_view pointer) const;
  [[nodiscard]] bool IsNull(std::string_view pointer) const;
  // Size of the array or object at `pointer`; nullopt when it is neither.
  [[nodiscard]] std::optional<size_t> Size(std::string_view pointer) const;
  // The value at `pointer` serialized (minified), or "" when absent.
  [[nodiscard]] std::string Raw(std::string_view pointer) const;

 private:
  std::shared_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
  bool ok_ = false;
  std::string error_;
};

// The array's elements (empty when `e` is not an array). Returns the array by value: ranging
// over `e.get_array().value_unsafe()` directly would range over a dead temporary.
simdjson::dom::array Elements(simdjson::dom::element e);
// Element helpers for walking arrays.
std::optional<std::string> StrOf(simdjson::dom::element e, std::string_view pointer);
std::optional<int64_t> IntOf(simdjson::dom::element e, std::string_view pointer);
std::string RawOf(simdjson::dom::element e);

// `s` as a JSON string literal, quotes included.
std::string Quote(std::string_view s);
// Percent-encodes a query parameter value.
std::string UrlEncode(std::string_view s);
// RFC 3339 UTC ("2024-05-01T12:00:00Z") for now + offset.
std::string Rfc3339FromNow(std::chrono::seconds offset);
// A process-wide unique suffix for external ids and names ("<pid>-<counter>").
std::string UniqueSuffix();
// The whole file (empty when it cannot be read), and the last `max_bytes` of a text ("…" first
// when cut): for printing logs on failure.
std::string ReadFile(const std::string& path);
std::string Tail(const std::string& s, size_t max_bytes);

// Polls `condition` until it is true or `timeout` passes; returns its last value.
bool PollUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = 10ms);

// ---------------------------------------------------------------------------------------------
// Assertions

// Status is `status`, the body is the error envelope with `code`, a message, `details` object,
// and `trace_id` equal to the X-Request-Id header.
::testing::AssertionResult IsErrorEnvelope(const HttpResponse& response, long status,
                                           std::string_view code);
// Status is `status` (with the body in the message when it is not).
::testing::AssertionResult HasStatus(const HttpResponse& response, long status);

// ---------------------------------------------------------------------------------------------
// API helpers (each records a test failure, with the response, when the call fails)

// POST /v1/ingest/events; the issue_id, or "" on failure.
std::string IngestEvent(const Http& http, const std::string& body);
// Follows next_cursor through a list endpoint (`path` may carry a query; `limit` is added).
// Returns each item's JSON text in page order; nullopt on failure.
std::optional<std::vector<std::string>> ListAll(const Http& http, const std::string& path,
                                                int limit = 100);

// ---------------------------------------------------------------------------------------------
// A per-suite server: each test suite owns one process on its own temporary directory, plus
// the credentials of a first bootstrapped workspace.
struct SuiteServer {
  std::unique_ptr<ServerProcess> server;
  Credentials admin;
  std::string error;  // why it is unusable; empty when ok

  static std::unique_ptr<SuiteServer> Start(ServerProcess::Options options = {});
  [[nodiscard]] bool ok() const { return error.empty(); }
  [[nodiscard]] Http AdminHttp() const { return Http(server->BaseUrl(), admin.token); }
  [[nodiscard]] Http AnonymousHttp() const { return Http(server->BaseUrl()); }
};

// Base fixture: each suite (each `Suite` type) starts its own server once, on its own
// temporary directory. A suite may define `static ServerProcess::Options SuiteOptions()`.
template <typename Suite>
class ServerTest : public ::testing::Test {
 protected:
  static ServerProcess::Options SuiteOptions() { return {}; }
  static void SetUpTestSuite() { suite_ = SuiteServer::Start(Suite::SuiteOptions()); }
  static void TearDownTestSuite() { suite_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(suite_ && suite_->ok()) << (suite_ ? suite_->error : "no server");
    http_ = suite_->AdminHttp();
  }
  void TearDown() override {
    if (HasFailure() && suite_ && suite_->server) {
      std::cerr << "---- server log tail (" << suite_->server->log_path() << ")\n"
                << suite_->server->LogTail(2500) << "\n----\n";
    }
  }

  static ServerProcess& server() { return *suite_->server; }
  static const Credentials& admin() { return suite_->admin; }
  // A client for a brand-new workspace (a fresh `admin bootstrap` on the running server),
  // for tests that count what a workspace holds.
  Http FreshWorkspace(Credentials* out = nullptr) {
    std::optional<Credentials> c = server().Bootstrap();
    if (!c) return Http(server().BaseUrl(), "clp_bootstrap_failed");
    if (out != nullptr) *out = *c;
    return Http(server().BaseUrl(), c->token);
  }

  static inline std::unique_ptr<SuiteServer> suite_;
  Http http_;
};

}  // namespace causeloop::e2e

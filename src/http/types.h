#pragma once
// The contract between the HTTP server (server.cc, router.cc, middleware) and the API
// handlers (http/api/). Handlers never see Beast types.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace causeloop::http {

enum class Method { kGet, kPost, kPut, kPatch, kDelete, kOther };

// The authenticated caller. Resolved by an Authenticator before the handler runs.
struct Principal {
  std::string workspace_id;
  std::string organization_id;
  std::string token_id;
  std::vector<std::string> scopes;  // as granted; admin scopes imply read/write (auth::HasScope)
};

struct Request {
  Method method = Method::kGet;
  std::string method_name;                                 // "GET", …
  std::string target;                                      // path + query as received
  std::string path;                                        // decoded path without query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  // Header names are stored lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;  // X-Request-Id (the client's if sane, else generated)
  std::string client_ip;
  // Path parameters from the route pattern ("{id}" -> value), in order.
  std::vector<std::pair<std::string, std::string>> params;
  std::optional<Principal> principal;  // set for authenticated routes

  // First header with this (lower-case) name, or empty.
  [[nodiscard]] std::string_view Header(std::string_view lower_name) const;
  [[nodiscard]] bool HasHeader(std::string_view lower_name) const;
  // First query parameter with this name.
  [[nodiscard]] std::optional<std::string_view> Query(std::string_view name) const;
  // Path parameter by name; empty when absent.
  [[nodiscard]] std::string_view Param(std::string_view name) const;
};

// Streaming responses (text/event-stream). A handler answers with a Response whose `stream`
// is set; the server then writes the head (the Response's status, content type and headers,
// plus Cache-Control: no-cache, X-Accel-Buffering: no and Connection: close; no
// Content-Length) and afterwards whatever the StreamBody produces, asynchronously, without a
// thread per connection. Framing: chunked transfer coding for HTTP/1.1 clients (each write is
// one chunk; the terminating chunk is sent when the stream ends gracefully), the end of the
// connection for HTTP/1.0 clients. The connection is never reused after a stream.
//
// Flow control is pull-based: the server calls Pull() when the body has notified it and no
// write is in flight, and again after each write completes, so a body buffers while the
// client is slow and the server never holds more than one Pull() worth of bytes. A write
// that does not complete within ServerOptions::write_timeout (checked every half of it) drops
// the connection (a stalled reader); an idle stream has no timeout. The server detects a
// client that closes its side.

// How a StreamBody wakes the server. Thread-safe, cheap and non-blocking (it posts to the
// connection's strand and coalesces); calls after the connection ended are ignored.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // New bytes are ready: the server will call Pull() soon.
  virtual void Notify() = 0;
  // End the stream now: pending and unsent bytes are dropped and the connection is closed
  // (e.g. the body's buffer overflowed because the client does not keep up).
  virtual void Abort() = 0;
};

enum class StreamEnd {
  kFinished,      // Pull() returned false and the rest was written
  kClientClosed,  // the client closed the connection or sent something we do not accept
  kWriteFailed,   // a write failed or did not complete within write_timeout
  kAborted,       // StreamSink::Abort()
  kServerStopping,
};

class StreamBody {
 public:
  virtual ~StreamBody() = default;
  // Once, before any Pull(), on an io thread. The sink stays valid as long as the body.
  virtual void Start(std::shared_ptr<StreamSink> sink) = 0;
  // Appends the next bytes to `out` (appending nothing is fine: the server then waits for
  // Notify()). Returns false when the stream is finished: `out` is written, then the stream
  // ends. Called on an io thread, never concurrently with itself or Start().
  virtual bool Pull(std::string& out) = 0;
  // Bytes to write when the stream has written nothing for heartbeat_interval(); zero
  // interval disables heartbeats. Read once, when the stream starts.
  [[nodiscard]] virtual std::chrono::milliseconds heartbeat_interval() const { return {}; }
  [[nodiscard]] virtual std::string Heartbeat() { return {}; }
  // Exactly once, when the stream has ended for any reason; nothing is called after it.
  // Any thread (an io thread, or the thread running Server::Stop()).
  virtual void Finish(StreamEnd reason) = 0;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for a streaming response (see StreamBody); `body` is then ignored.
  std::shared_ptr<StreamBody> stream;

  Response& SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Completes a request. Call exactly once, from any thread.
using Responder = std::function<void(Response)>;

// A route handler. It may respond synchronously or later (e.g. after a group commit),
// from any thread. The Request stays valid until the responder is called.
using Handler = std::function<void(const Request&, Responder)>;

struct RouteOptions {
  // Scope the principal must hold; empty means the route needs no token (e.g. /health).
  std::string scope;
  // Whether a token is required at all. Routes with a scope always require one.
  bool authenticate = true;
  // Maximum request body in bytes; 413 payload_too_large above it.
  size_t max_body_bytes = 1 << 20;
  // Honour Idempotency-Key (POST/PATCH/PUT).
  bool idempotent = true;
};

// Resolves the bearer token to a principal. Errors: kUnauthorized. Thread-safe.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<Principal> Authenticate(std::string_view bearer_token) = 0;
};

// Durable store for idempotent responses (SPEC §4). Thread-safe.
struct StoredResponse {
  std::string request_hash;  // SHA-256 hex of method, path and body
  int status = 200;
  std::string body;
  std::string content_type;
};
class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;
  // The stored response for (workspace, key, method, path) younger than 24 h, if any.
  virtual Result<std::optional<StoredResponse>> Find(const std::string& workspace_id,
                                                     const std::string& key,
                                                     const std::string& method,
                                                     const std::string& path) = 0;
  // Stores a 2xx response; `done` runs once it is durable (or failed).
  virtual void Save(const std::string& workspace_id, const std::string& key,
                    const std::string& method, const std::string& path, StoredResponse response,
                    std::function<void(Status)> done) = 0;
};

// Builds the error envelope (SPEC §4) for `error`, with the status from the single
// ErrorCode -> HTTP mapping. `request_id` becomes trace_id.
Response ErrorResponse(const Error& error, std::string_view request_id);
int HttpStatusFor(ErrorCode code);

// A JSON response with the given status.
inline Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace causeloop::http

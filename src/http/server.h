#pragma once
// The HTTP/1.1 server: Beast/Asio underneath, Beast-free contract on top (types.h).
// Per request, in this order: X-Request-Id (client's if 1–128 chars of [A-Za-z0-9._-],
// else generated; on every response) → rate limit (per bearer token, else per client IP;
// X-RateLimit-* on every response of a parsed request, 429 + Retry-After when over) →
// route match (404 not_found; 405 validation_error with Allow) → authentication
// (401 unauthorized + WWW-Authenticate: Bearer) and scope (403 forbidden) → body limit
// (413 payload_too_large, connection closed) → body read → idempotency (idempotency.h) →
// handler. Rate limiting runs before route match so that every response carries the
// X-RateLimit-* headers and 404 scans are limited too.
//
// A request that is answered before its body was read keeps the connection alive when
// the body fits the route's limit (the body is read and discarded); otherwise the
// connection is closed after the answer. A header block over max_header_bytes answers
// 413 and closes. A 503 without Retry-After gets "Retry-After: 1".

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/types.h"

namespace causeloop::http {

struct ServerOptions {
  // Address to listen on (numeric, or "localhost").
  std::string host = "127.0.0.1";
  // TCP port; 0 picks an ephemeral port (see Server::port()).
  uint16_t port = 4000;
  // Threads running the event loop; handlers are called on them.
  int io_threads = 2;
  // Maximum request line + header block, bytes; over → 413 and the connection closes.
  size_t max_header_bytes = size_t{16} * 1024;
  // Time allowed to receive a complete header block once its first byte arrived (and for
  // the first byte on a new connection).
  std::chrono::milliseconds header_timeout{10'000};
  // Time allowed to receive the whole body (slow clients are disconnected).
  std::chrono::milliseconds body_timeout{30'000};
  // How long an idle keep-alive connection is kept open between requests.
  std::chrono::milliseconds idle_timeout{60'000};
  // Time allowed to write one response (slow readers are disconnected).
  std::chrono::milliseconds write_timeout{30'000};
  // Stop(): how long in-flight requests may take to finish before connections are closed.
  std::chrono::milliseconds shutdown_grace{10'000};
  // Open connections beyond this are answered 503 and closed right after accept.
  size_t max_connections = 10'000;
  // Kernel send buffer (SO_SNDBUF) of a streaming connection, bytes; 0 keeps the system's
  // autotuning (up to tcp_wmem max, 4 MiB). Bounds what a stalled reader pins in the kernel
  // and makes it show as a stalled write (then a body's overflow) sooner.
  int stream_send_buffer_bytes = 128 * 1024;
  // Requests per minute per bearer token; 0 disables.
  int64_t rate_limit_per_token_per_minute = 1'200'000;
  // Requests per minute per client IP for requests without a token; 0 disables.
  int64_t rate_limit_per_ip_per_minute = 6000;

  // kValidation naming the bad field.
  [[nodiscard]] Status Validate() const;
};

class Server {
 public:
  // Binds and listens (so port() is known) but serves nothing until Start().
  // REQUIRES: every route is in `router` already; router, authenticator, idempotency (if
  // not null), metrics and clock outlive the Server. Errors: kValidation (options),
  // kUnavailable (cannot bind/listen).
  static Result<std::unique_ptr<Server>> Create(ServerOptions options, Router& router,
                                                Authenticator& authenticator,
                                                IdempotencyStore* idempotency, Metrics& metrics,
                                                const Clock& clock);
  ~Server();  // Stop()s if needed.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port.
  [[nodiscard]] uint16_t port() const;

  // Starts the io threads. Call once.
  void Start();

  // Graceful, two-stage: stops accepting; lets in-flight requests finish and their
  // responses be written (new requests on open connections are answered with
  // "Connection: close") and ends open streams (their last write, then the terminating
  // chunk; StreamEnd::kServerStopping), for up to shutdown_grace; then closes every
  // connection and joins
  // the io threads. Idempotent. Must not be called from a handler / io thread. A responder
  // called after Stop() returned is dropped.
  void Stop();

  struct Impl;

 private:
  explicit Server(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace causeloop::http

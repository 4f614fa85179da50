#pragma once
// Outbound HTTP client: the interface the rest of the code depends on (webhook dispatcher,
// connectors) and its libcurl implementation (HttpClient::Create).
//
// The libcurl client runs one thread with a curl multi handle. Send() only enqueues and wakes
// that thread; the thread admits requests within the concurrency limits, drives all
// transfers, and runs every completion callback. Connections are kept alive and reused per
// host. Redirects are never followed (a 3xx is an ordinary result); TLS peer and host names
// are always verified; no proxy is used (environment proxy variables are ignored, since a
// proxy would hide the connected address from the SSRF guard).
//
// SSRF guard (SPEC §7.2), unless HttpClientOptions::allow_private_targets:
//  - the URL must pass CheckOutboundUrl (https only, no private IP literals, …) before it
//    is queued; otherwise the request completes with refused = true and no network IO;
//  - every address libcurl is about to connect to is judged with IsForbiddenAddress from the
//    open-socket callback; a forbidden one is never connected to, so a name that resolves to
//    127.0.0.1 (or re-resolves there: DNS rebinding) fails with refused = true.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace causeloop::net {

struct HttpRequest {
  // Absolute http(s) URL.
  std::string url;
  // Request headers in order, sent as given. A "user-agent" here replaces the client's.
  std::vector<std::pair<std::string, std::string>> headers;
  // Request body; sent for every method except GET and HEAD.
  std::string body;
  // "POST", "GET", "HEAD", "PUT", "PATCH", "DELETE", …
  std::string method = "POST";
  // Whole-transfer deadline (connect, TLS, request and response), counted from when the
  // request leaves the queue. Default 15 s; values below 1 ms count as 1 ms.
  std::chrono::milliseconds timeout{15000};
  // Concurrency bucket (e.g. a webhook endpoint id): at most max_per_pool requests with the
  // same key run at once; the rest wait in FIFO order. "" is a bucket like any other.
  std::string pool_key;
  // libcurl CURLOPT_RESOLVE entries ("host:port:address"), pinning a name to an address without
  // DNS. For tests (DNS rebinding simulation) and for pinning a pre-resolved address; the
  // connect-time SSRF check still applies to the pinned address.
  std::vector<std::string> resolve;
};

struct HttpResult {
  // HTTP status of the final response; 0 when no response was received.
  int status = 0;
  // Empty when a response came; otherwise why not ("Timeout was reached: …", "stopped",
  // "refused: …").
  std::string error;
  // Time from the start of the transfer to its end (0 when refused before any IO).
  std::chrono::microseconds latency{};
  // The first 1 KiB of the response body.
  std::string body_excerpt;
  // Response headers of the final response, names lower-cased, values trimmed, in order.
  // At most 100 headers are kept.
  std::vector<std::pair<std::string, std::string>> headers;
  // True when no response came because the SSRF guard refused the URL, or refused an address
  // libcurl was about to connect to (error then says which address and why).
  bool refused = false;
};

struct HttpClientOptions {
  // Requests running at once over all pools; more wait. Default 512. Must be ≥ 1.
  size_t max_concurrent = 512;
  // Requests running at once per HttpRequest::pool_key; more wait. Default 16. Must be ≥ 1.
  size_t max_per_pool = 16;
  // Lifts the SSRF guard: http:// URLs and private, loopback, link-local… targets are allowed
  // (--allow-private-webhook-targets; tests and on-prem). Default false.
  bool allow_private_targets = false;
  // PEM CA bundle used to verify servers instead of the default bundle file (libcurl
  // CURLOPT_CAINFO); empty = the system trust store. For tests and private CAs.
  std::string ca_file;
  // User-Agent header when a request does not set one. Default "causeloop".
  std::string user_agent = "causeloop";
};

class HttpClient {
 public:
  using Callback = std::function<void(HttpResult)>;

  // Starts the libcurl client thread. kValidation when a limit is 0 or ca_file is set but not
  // readable; kInternal when libcurl cannot be initialised.
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options);

  // The libcurl client stops (see Stop) in its destructor. Must not be destroyed from a
  // callback.
  virtual ~HttpClient() = default;

  // Queues `request`; `done` is called exactly once with its result. Thread-safe, never blocks
  // on IO. `done` runs on the client thread (it must not block; it may call Send). After Stop()
  // has returned, `done` runs at once on the caller's thread with error "stopped". Exceptions
  // thrown by `done` are caught and logged.
  virtual void Send(HttpRequest request, Callback done) = 0;

  // Aborts running transfers and drops queued requests, calling their callbacks with error
  // "stopped" (on the client thread), and joins the client thread. Idempotent, thread-safe.
  // Called from a callback it only asks the thread to stop once that callback returns.
  virtual void Stop() = 0;

  // Requests sent and not yet completed (queued or running). Thread-safe.
  [[nodiscard]] virtual size_t in_flight() const = 0;
};

}  // namespace causeloop::net

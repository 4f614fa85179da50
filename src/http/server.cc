#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "auth/scopes.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/random.h"
#include "core/thread_name.h"
#include "http/idempotency.h"
#include "http/rate_limiter.h"

namespace causeloop::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Status ServerOptions::Validate() const {
  if (io_threads < 1) return FailField("io_threads", "must be at least 1");
  if (max_header_bytes < 1024) return FailField("max_header_bytes", "must be at least 1024");
  if (header_timeout.count() <= 0) return FailField("header_timeout", "must be positive");
  if (body_timeout.count() <= 0) return FailField("body_timeout", "must be positive");
  if (idle_timeout.count() <= 0) return FailField("idle_timeout", "must be positive");
  if (write_timeout.count() <= 0) return FailField("write_timeout", "must be positive");
  if (max_connections < 1) return FailField("max_connections", "must be at least 1");
  if (stream_send_buffer_bytes < 0) {
    return FailField("stream_send_buffer_bytes", "must not be negative");
  }
  if (rate_limit_per_token_per_minute < 0) {
    return FailField("rate_limit_per_token_per_minute", "must not be negative");
  }
  if (rate_limit_per_ip_per_minute < 0) {
    return FailField("rate_limit_per_ip_per_minute", "must not be negative");
  }
  return {};
}

namespace {

constexpr size_t kMaxIdempotencyKey = 255;
constexpr std::string_view kUnmatchedRoute = "unmatched";

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string FormDecode(std::string_view in) {
  std::string plus_as_space(in);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  return PercentDecode(plus_as_space);
}

void ParseQuery(std::string_view raw, std::vector<std::pair<std::string, std::string>>& out) {
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view part = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(FormDecode(part), std::string());
    } else {
      out.emplace_back(FormDecode(part.substr(0, eq)), FormDecode(part.substr(eq + 1)));
    }
  }
}

// "Bearer <token>" (scheme case-insensitive) -> token; empty otherwise.
std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  return token;
}

Response Envelope(ErrorCode code, std::string message, std::string_view request_id) {
  return ErrorResponse(Error{code, std::move(message), {}}, request_id);
}

// Per-route metric objects, looked up once.
struct RouteMetrics {
  Histogram* duration = nullptr;
  // Counter per status code 100..599, created on first use.
  std::array<std::atomic<Counter*>, 500> by_status{};
};

}  // namespace

namespace {
class Session;
class SessionStreamSink;
}  // namespace

struct Server::Impl {
  Impl(ServerOptions opts, Router& r, Authenticator& a, IdempotencyStore* store, Metrics& m,
       const Clock& c)
      : options(std::move(opts)),
        router(r),
        authenticator(a),
        metrics(m),
        clock(c),
        limiter(c),
        acceptor(asio::make_strand(ioc)),
        connections_gauge(m.Gauge("http_connections_active", "Open HTTP connections.")),
        route_metrics(r.size()) {
    if (store != nullptr) gate = std::make_unique<IdempotencyGate>(*store);
    for (int i = 1; i < options.io_threads; ++i) {
      more_contexts.push_back(std::make_unique<asio::io_context>(1));
    }
    for (size_t i = 0; i < r.size(); ++i) {
      const Route& route = r.route(i);
      route_metrics[i].duration = &m.Histogram(
          "http_request_duration_seconds", "Time from request header to response written.",
          {{"method", std::string(MethodName(route.method))}, {"route", route.pattern}});
    }
  }

  Counter& StatusCounter(const Route* route, std::string_view method, int status) {
    if (route != nullptr && status >= 100 && status < 600) {
      std::atomic<Counter*>& slot = route_metrics[route->index].by_status[status - 100];
      Counter* c = slot.load(std::memory_order_acquire);
      if (c == nullptr) {
        c = &metrics.Counter("http_requests_total", "HTTP requests answered.",
                             {{"method", std::string(MethodName(route->method))},
                              {"route", route->pattern},
                              {"status", std::to_string(status)}});
        slot.store(c, std::memory_order_release);
      }
      return *c;
    }
    return metrics.Counter("http_requests_total", "HTTP requests answered.",
                           {{"method", std::string(method)},
                            {"route", std::string(kUnmatchedRoute)},
                            {"status", std::to_string(status)}});
  }

  void BeginRequest() {
    std::lock_guard lock(mu);
    ++in_flight;
  }
  void EndRequest() {
    std::lock_guard lock(mu);
    if (--in_flight == 0) cv.notify_all();
  }
  void BeginStream() {
    std::lock_guard lock(mu);
    ++open_streams;
  }
  void EndStream() {
    std::lock_guard lock(mu);
    if (--open_streams == 0) cv.notify_all();
  }

  void Register(const std::shared_ptr<Session>& s);
  void Unregister(Session* s) {
    std::lock_guard lock(mu);
    sessions.erase(s);
    if (sessions.empty()) cv.notify_all();
  }

  std::string NewRequestId() { return NewId("req_", clock.Now(), random); }

  asio::io_context& Context(size_t i) { return i == 0 ? ioc : *more_contexts[i - 1]; }
  [[nodiscard]] size_t Contexts() const { return more_contexts.size() + 1; }

  void Accept();
  void Reject(tcp::socket socket);

  const ServerOptions options;
  Router& router;
  Authenticator& authenticator;
  Metrics& metrics;
  const Clock& clock;
  std::unique_ptr<IdempotencyGate> gate;
  RateLimiter limiter;
  // Request ids need to be unique, not secret: OpenSSL's CSPRNG cost ~9 % of an HTTP thread
  // in single-event ingest (its fork check and locking on every call).
  FastRandom random;

  // One event loop per IO thread: ioc (also the acceptor's and its timers') for the first,
  // more_contexts for the others. A connection lives on one loop, so its handlers never run
  // concurrently without a strand; a shared loop with a strand per connection cost ~15 % of
  // an IO thread in single-event ingest (strand locks, and atomic reference counts on every
  // copy of the strand executor). Connections are spread over the loops round-robin.
  asio::io_context ioc;
  std::vector<std::unique_ptr<asio::io_context>> more_contexts;
  size_t next_context = 0;  // acceptor strand only
  tcp::acceptor acceptor;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::jthread> threads;
  uint16_t port = 0;
  std::weak_ptr<Impl> self;

  Gauge& connections_gauge;
  std::vector<RouteMetrics> route_metrics;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  // Set once Stop() has returned: late responders are dropped.
  std::atomic<bool> closed{false};
  bool started = false;  // guarded by lifecycle_mu
  bool stopped = false;  // guarded by lifecycle_mu
  std::mutex lifecycle_mu;

  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;                                              // guarded by mu
  int open_streams = 0;                                           // guarded by mu
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mu
};

namespace {

// One connection. All IO and state changes run on the connection's event loop (one thread);
// Deliver() is the only entry point from other threads.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Server::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ip_ = endpoint.address().to_string();
    buffer_.reserve(8192);
    server_->connections_gauge.Add(1);
  }

  ~Session() {
    if (stream_body_ && !stream_ended_) {
      stream_body_->Finish(StreamEnd::kServerStopping);
      server_->EndStream();
    }
    if (counted_) server_->EndRequest();
    server_->connections_gauge.Add(-1);
    server_->connections.fetch_sub(1, std::memory_order_relaxed);
    server_->Unregister(this);
  }

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // Completes the current request; any thread.
  void Deliver(Response response) {
    if (server_->closed.load()) {
      log::Warn("response after server stop dropped");
      return;
    }
    asio::post(stream_.get_executor(),
               [self = shared_from_this(), r = std::move(response)]() mutable {
                 self->Write(std::move(r));
               });
  }

  void Close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

  [[nodiscard]] const std::string& request_id() const { return request_id_; }

  // Server::Stop(): ends a stream gracefully (the write in flight completes, then the
  // terminating chunk); no-op for a connection that is not streaming.
  void StopStream() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->stream_body_ || self->stream_ended_) return;
      self->stream_ending_ = true;
      self->stream_end_reason_ = StreamEnd::kServerStopping;
      self->StreamPump();
    });
  }

  // From the StreamSink, any thread.
  void PostStreamPump() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->StreamPump(); });
  }
  void PostStreamAbort() {
    asio::post(stream_.get_executor(),
               [self = shared_from_this()] { self->EndStream(StreamEnd::kAborted); });
  }

 private:
  void WaitForRequest() {
    if (server_->stopping.load() && !first_request_) return Shutdown();
    if (buffer_.size() > 0) return ReadHeader();
    // Wait for the first byte under the idle timeout, then give the header its own
    // deadline, so a half-sent header cannot hide behind the long keep-alive timeout.
    stream_.expires_after(first_request_ ? server_->options.header_timeout
                                         : server_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Shutdown();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    // The route decides the body limit; checked after the header (ReadBodyOrAnswer).
    // (Not boost::none: Boost 1.74 compares Content-Length > none as true.)
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(server_->options.header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void ResetRequestState() {
    request_ = Request();
    route_ = nullptr;
    rate_.reset();
    early_.reset();
    method_label_.clear();
    close_after_ = false;
    keep_alive_ = false;
    version_ = 11;
  }

  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      StartRequest();
      request_id_ = server_->NewRequestId();
      close_after_ = true;
      return Write(
          Envelope(ErrorCode::kPayloadTooLarge, "request header block is too large", request_id_));
    }
    if (ec) {
      // Timeouts, resets, and EOF between requests close silently; garbage gets a 400.
      if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
          ec == bhttp::error::partial_message || ec == asio::error::eof ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
        return Shutdown();
      }
      StartRequest();
      request_id_ = server_->NewRequestId();
      close_after_ = true;
      return Write(Envelope(ErrorCode::kValidation, "malformed HTTP request", request_id_));
    }
    StartRequest();
    try {
      PrepareRequest();
      if (!early_) CheckAccess();
    } catch (const std::exception& e) {
      log::Error("request setup threw", {{"request_id", request_id_}, {"error", e.what()}});
      early_ = Envelope(ErrorCode::kInternal, "internal error", request_id_);
    } catch (...) {
      early_ = Envelope(ErrorCode::kInternal, "internal error", request_id_);
    }
    ReadBodyOrAnswer();
  }

  void StartRequest() {
    ResetRequestState();
    start_ = std::chrono::steady_clock::now();
    if (!counted_) {
      counted_ = true;
      server_->BeginRequest();
    }
  }

  // Request id, request fields, rate limit, route match.
  void PrepareRequest() {
    const auto& msg = header_parser_->get();
    version_ = msg.version();
    keep_alive_ = msg.keep_alive();
    request_.method_name = std::string(msg.method_string());
    request_.method = ParseMethod(request_.method_name);
    method_label_ = request_.method_name;
    request_.target = std::string(msg.target());
    std::string_view target = request_.target;
    size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    if (q != std::string_view::npos) ParseQuery(target.substr(q + 1), request_.query);
    request_.path = PercentDecode(raw_path);
    request_.headers.reserve(16);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      request_.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request_.client_ip = client_ip_;
    std::string_view client_id = request_.Header("x-request-id");
    request_.request_id =
        IsSaneRequestId(client_id) ? std::string(client_id) : server_->NewRequestId();
    request_id_ = request_.request_id;

    std::string_view token = BearerToken(request_.Header("authorization"));
    const ServerOptions& o = server_->options;
    const int64_t limit =
        token.empty() ? o.rate_limit_per_ip_per_minute : o.rate_limit_per_token_per_minute;
    if (limit > 0) {
      std::string key;
      key.reserve(token.size() + client_ip_.size() + 3);
      key += token.empty() ? "ip:" : "tk:";
      key += token.empty() ? std::string_view(client_ip_) : token;
      rate_ = server_->limiter.Acquire(key, limit);
      if (!rate_->allowed) {
        early_ = Envelope(ErrorCode::kRateLimited, "rate limit exceeded", request_id_);
        early_->SetHeader("Retry-After", std::to_string(rate_->retry_after_seconds));
        return;
      }
    }

    RouteMatch match = server_->router.Match(request_.method, raw_path);
    switch (match.kind) {
      case RouteMatch::Kind::kFound:
        route_ = match.route;
        request_.params = std::move(match.params);
        break;
      case RouteMatch::Kind::kNotFound:
        early_ = Envelope(ErrorCode::kNotFound, "no such resource", request_id_);
        break;
      case RouteMatch::Kind::kMethodNotAllowed:
        early_ = ErrorResponse(Error{ErrorCode::kValidation,
                                     "method " + request_.method_name + " is not allowed here",
                                     {{"method", "allowed: " + match.allow}}},
                               request_id_);
        early_->status = 405;
        early_->SetHeader("Allow", match.allow);
        break;
    }
  }

  // Authentication and scope.
  void CheckAccess() {
    const RouteOptions& opts = route_->options;
    if (!opts.authenticate && opts.scope.empty()) return;
    std::string_view token = BearerToken(request_.Header("authorization"));
    if (token.empty()) {
      early_ = Envelope(ErrorCode::kUnauthorized, "a bearer token is required", request_id_);
      early_->SetHeader("WWW-Authenticate", "Bearer");
      return;
    }
    Result<Principal> principal = server_->authenticator.Authenticate(token);
    if (!principal) {
      // A failed token also spends the client IP's budget: otherwise every made-up token
      // would get a fresh per-token budget and guessing would be unlimited.
      const int64_t ip_limit = server_->options.rate_limit_per_ip_per_minute;
      if (principal.error().code == ErrorCode::kUnauthorized && ip_limit > 0) {
        RateDecision ip = server_->limiter.Acquire("ip:" + client_ip_, ip_limit);
        if (!ip.allowed) {
          rate_ = ip;
          early_ = Envelope(ErrorCode::kRateLimited, "rate limit exceeded", request_id_);
          early_->SetHeader("Retry-After", std::to_string(ip.retry_after_seconds));
          return;
        }
      }
      early_ = ErrorResponse(principal.error(), request_id_);
      if (principal.error().code == ErrorCode::kUnauthorized) {
        early_->SetHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      }
      return;
    }
    if (!opts.scope.empty() && !auth::HasScope(principal->scopes, opts.scope)) {
      early_ = ErrorResponse(
          Error{
              ErrorCode::kForbidden, "the token lacks the required scope", {{"scope", opts.scope}}},
          request_id_);
      return;
    }
    request_.principal = std::move(*principal);
  }

  void ReadBodyOrAnswer() {
    const size_t limit =
        route_ != nullptr ? route_->options.max_body_bytes : RouteOptions{}.max_body_bytes;
    auto& header = *header_parser_;
    boost::optional<std::uint64_t> length = header.content_length();
    if (length && *length > limit) {
      close_after_ = true;
      if (early_) return Write(std::move(*early_));
      return Write(Envelope(ErrorCode::kPayloadTooLarge,
                            "request body exceeds " + std::to_string(limit) + " bytes",
                            request_id_));
    }
    const bool has_body = !header.is_done();
    if (early_ && !has_body) return Write(std::move(*early_));
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(limit);
    if (!has_body) return OnBody({});
    const auto& msg = body_parser_->get();
    if (!early_ && beast::iequals(msg[bhttp::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(server_->options.write_timeout);
      asio::async_write(stream_, asio::buffer(kContinue),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->Abandon();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(server_->options.body_timeout);
    bhttp::async_read(
        stream_, buffer_, *body_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      close_after_ = true;
      return Write(Envelope(ErrorCode::kPayloadTooLarge, "request body is too large", request_id_));
    }
    if (ec) {
      if (ec == beast::error::timeout || ec == asio::error::eof ||
          ec == bhttp::error::partial_message || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset) {
        return Abandon();
      }
      close_after_ = true;
      return Write(Envelope(ErrorCode::kValidation, "malformed request body", request_id_));
    }
    if (early_) return Write(std::move(*early_));
    request_.body = std::move(body_parser_->get().body());
    body_parser_.reset();
    Dispatch();
  }

  // Idempotency, then the handler. Runs on the strand; the handler may answer later.
  void Dispatch();

  void Write(Response r) {
    if (r.stream) return StartStream(std::move(r));
    bhttp::response<bhttp::string_body>& res = response_;
    res = {};
    res.version(version_);
    res.result(static_cast<unsigned>(r.status));
    if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
    res.set("X-Request-Id", request_id_);
    if (rate_) {
      res.set("X-RateLimit-Limit", std::to_string(rate_->limit));
      res.set("X-RateLimit-Remaining", std::to_string(rate_->remaining));
      res.set("X-RateLimit-Reset", std::to_string(rate_->reset_seconds));
    }
    bool has_retry_after = false;
    for (auto& [name, value] : r.headers) {
      if (beast::iequals(name, "retry-after")) has_retry_after = true;
      res.insert(name, value);
    }
    if (r.status == 503 && !has_retry_after) res.set(bhttp::field::retry_after, "1");
    const bool keep_alive = keep_alive_ && !close_after_ && !server_->stopping.load();
    res.keep_alive(keep_alive);
    res.body() = std::move(r.body);
    res.prepare_payload();
    status_ = r.status;
    // Recorded when the response is ready rather than when it is written, so a client
    // that has read its response always finds it counted.
    Record();
    stream_.expires_after(server_->options.write_timeout);
    bhttp::async_write(stream_, res,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                         self->OnWrite(ec, keep_alive);
                       });
  }

  void OnWrite(beast::error_code ec, bool keep_alive) {
    if (counted_) {
      counted_ = false;
      server_->EndRequest();
    }
    if (ec) return Shutdown();
    if (!keep_alive) return LingeringClose();
    first_request_ = false;
    header_parser_.reset();
    body_parser_.reset();
    WaitForRequest();
  }

  void Record() {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    server_->StatusCounter(route_, method_label_.empty() ? "UNKNOWN" : method_label_, status_)
        .Inc();
    if (route_ != nullptr) server_->route_metrics[route_->index].duration->Observe(seconds);
  }

  // Closes after a response the client may still be sending a body for (e.g. a 413 decided
  // from Content-Length): closing with unread data makes the kernel send a RST, which can
  // destroy the response before the client reads it. So: stop sending, read and discard
  // what still arrives (bounded in bytes and time), then close — as nginx's lingering close.
  void LingeringClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return stream_.close();
    stream_.expires_after(std::chrono::seconds(2));
    drain_.resize(size_t{16} * 1024);
    Drain(0);
  }

  void Drain(size_t so_far) {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this(), so_far](beast::error_code ec, size_t n) {
                              constexpr size_t kMaxDrain = 16u << 20;
                              if (ec || so_far + n > kMaxDrain) return self->stream_.close();
                              self->Drain(so_far + n);
                            });
  }

  // The request cannot be completed (client gone or too slow): drop the connection.
  void Abandon() { Shutdown(); }

  void Shutdown() {
    if (counted_) {
      counted_ = false;
      server_->EndRequest();
    }
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::vector<char> drain_;  // scratch for LingeringClose
  std::shared_ptr<Server::Impl> server_;
  std::string client_ip_;
  bool first_request_ = true;
  bool counted_ = false;  // whether this request is in the server's in-flight count

  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  bhttp::response<bhttp::string_body> response_;  // alive until its write completes

  // The current request.
  Request request_;
  std::string request_id_;
  std::string method_label_;
  const Route* route_ = nullptr;
  std::optional<RateDecision> rate_;
  std::optional<Response> early_;  // answer decided before the body was read
  std::chrono::steady_clock::time_point start_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool close_after_ = false;
  int status_ = 0;

  // --- Streaming responses (types.h, StreamBody). All on the strand. ---------------------
  void StartStream(Response r);
  void StreamPump();
  void StreamWrite(bool chunk);
  void OnStreamWrite(beast::error_code ec);
  void ReadWhileStreaming();
  void ArmStreamTimer();
  void EndStream(StreamEnd reason);

  std::shared_ptr<StreamBody> stream_body_;
  std::shared_ptr<SessionStreamSink> stream_sink_;
  std::string stream_out_;         // the bytes of the write in flight
  std::string pull_buffer_;        // what Pull() appends to (swapped with stream_out_)
  std::string stream_chunk_head_;  // "<hex size>\r\n" of the write in flight
  bool stream_chunked_ = false;
  bool stream_writing_ = false;
  bool stream_ending_ = false;  // no more Pull(): write what is pulled, then end
  bool stream_ended_ = false;
  bool stream_last_write_ = false;  // the write in flight is the terminating chunk
  StreamEnd stream_end_reason_ = StreamEnd::kFinished;
  size_t stream_junk_bytes_ = 0;                    // bytes the client sent while streaming
  std::optional<asio::steady_timer> stream_timer_;  // ArmStreamTimer()
  std::chrono::milliseconds heartbeat_interval_{0};
  std::chrono::steady_clock::time_point last_stream_write_;  // when the last write started
};

// Wakes a streaming Session from any thread; coalesces wake-ups until the next Pull().
class SessionStreamSink final : public StreamSink {
 public:
  explicit SessionStreamSink(std::weak_ptr<Session> session) : session_(std::move(session)) {}
  void Notify() override {
    if (pending_.exchange(true, std::memory_order_acq_rel)) return;
    if (auto s = session_.lock()) s->PostStreamPump();
  }
  void Abort() override {
    if (auto s = session_.lock()) s->PostStreamAbort();
  }
  // Called by the session right before Pull(): a Notify() from now on wakes it again.
  void Rearm() { pending_.store(false, std::memory_order_release); }

 private:
  std::weak_ptr<Session> session_;
  std::atomic<bool> pending_{false};
};

void Session::StartStream(Response r) {
  std::shared_ptr<StreamBody> body = std::move(r.stream);
  if (server_->stopping.load()) {
    body->Finish(StreamEnd::kServerStopping);
    close_after_ = true;
    return Write(Envelope(ErrorCode::kUnavailable, "the server is shutting down", request_id_));
  }
  bhttp::response<bhttp::empty_body> res;
  res.version(version_);
  res.result(static_cast<unsigned>(r.status));
  if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
  res.set("X-Request-Id", request_id_);
  if (rate_) {
    res.set("X-RateLimit-Limit", std::to_string(rate_->limit));
    res.set("X-RateLimit-Remaining", std::to_string(rate_->remaining));
    res.set("X-RateLimit-Reset", std::to_string(rate_->reset_seconds));
  }
  for (auto& [name, value] : r.headers) res.insert(name, value);
  res.set(bhttp::field::cache_control, "no-cache");
  res.set("X-Accel-Buffering", "no");
  res.keep_alive(false);
  // HTTP/1.0 has no chunked coding: the end of the connection ends the body.
  stream_chunked_ = version_ >= 11;
  if (stream_chunked_) res.chunked(true);
  std::ostringstream head;
  head << res.base();
  status_ = r.status;
  Record();
  // A stream is a long-lived connection, not a request in flight: Stop() ends it (StopStream)
  // and waits, within the grace period, for its last write.
  if (counted_) {
    counted_ = false;
    server_->EndRequest();
  }
  server_->BeginStream();
  stream_body_ = std::move(body);
  stream_sink_ = std::make_shared<SessionStreamSink>(weak_from_this());
  if (server_->options.stream_send_buffer_bytes > 0) {
    beast::error_code ec;
    stream_.socket().set_option(
        asio::socket_base::send_buffer_size(server_->options.stream_send_buffer_bytes), ec);
  }
  heartbeat_interval_ = stream_body_->heartbeat_interval();
  stream_body_->Start(stream_sink_);
  // Stream writes go to the socket directly, not through the tcp_stream's per-operation
  // timers (re-arming a timer per write is a large share of a small write's cost with many
  // streams): one watchdog timer per stream enforces write_timeout and writes heartbeats.
  stream_.expires_never();
  stream_out_ = head.str();
  StreamWrite(/*chunk=*/false);
  ReadWhileStreaming();
  stream_timer_.emplace(stream_.get_executor());
  ArmStreamTimer();
}

void Session::StreamPump() {
  if (!stream_body_ || stream_ended_ || stream_writing_) return;
  pull_buffer_.clear();
  if (!stream_ending_) {
    stream_sink_->Rearm();
    if (!stream_body_->Pull(pull_buffer_)) stream_ending_ = true;
  }
  if (!pull_buffer_.empty()) {
    std::swap(stream_out_, pull_buffer_);  // both keep their capacity
    return StreamWrite(stream_chunked_);
  }
  if (!stream_ending_) return;  // idle until Notify()
  if (!stream_chunked_) return EndStream(stream_end_reason_);
  // The terminating chunk, then the end.
  stream_out_ = "0\r\n\r\n";
  stream_last_write_ = true;
  StreamWrite(/*chunk=*/false);
}

// Writes stream_out_, as one chunk when `chunk`.
void Session::StreamWrite(bool chunk) {
  stream_writing_ = true;
  last_stream_write_ = std::chrono::steady_clock::now();
  auto done = [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnStreamWrite(ec);
  };
  if (!chunk) {
    asio::async_write(stream_.socket(), asio::buffer(stream_out_), std::move(done));
    return;
  }
  static const std::string kCrlf = "\r\n";
  char hex[32];
  int n = std::snprintf(hex, sizeof hex, "%zx\r\n", stream_out_.size());
  stream_chunk_head_.assign(hex, static_cast<size_t>(n));
  std::array<asio::const_buffer, 3> buffers = {asio::buffer(stream_chunk_head_),
                                               asio::buffer(stream_out_), asio::buffer(kCrlf)};
  asio::async_write(stream_.socket(), buffers, std::move(done));
}

void Session::OnStreamWrite(beast::error_code ec) {
  stream_writing_ = false;
  if (stream_ended_) return;
  if (ec) return EndStream(StreamEnd::kWriteFailed);
  if (stream_last_write_) return EndStream(stream_end_reason_);
  StreamPump();
}

// While streaming, a read is kept pending only to learn that the client went away (EOF or
// reset). Clients send nothing on a stream; bytes that do arrive are discarded, up to a bound.
void Session::ReadWhileStreaming() {
  if (drain_.empty()) drain_.resize(size_t{4} * 1024);
  stream_.socket().async_read_some(
      asio::buffer(drain_), [self = shared_from_this()](beast::error_code ec, size_t n) {
        // Aborted: the socket was closed here (a write timed out, or Stop()); whoever closed
        // it reports the end.
        if (self->stream_ended_ || ec == asio::error::operation_aborted) return;
        constexpr size_t kMaxJunk = size_t{64} * 1024;
        self->stream_junk_bytes_ += n;
        if (ec || self->stream_junk_bytes_ > kMaxJunk) {
          return self->EndStream(self->server_->stopping.load() ? StreamEnd::kServerStopping
                                                                : StreamEnd::kClientClosed);
        }
        self->ReadWhileStreaming();
      });
}

// The stream's watchdog: drops a write that has not completed within write_timeout (checked
// every write_timeout / 2, so a stalled reader goes after 1–1.5 × write_timeout) and writes a
// heartbeat once nothing was written for heartbeat_interval_.
void Session::ArmStreamTimer() {
  const auto now = std::chrono::steady_clock::now();
  auto next = now + server_->options.write_timeout / 2;
  if (heartbeat_interval_.count() > 0) {
    const auto due = last_stream_write_ + heartbeat_interval_;
    next = std::min(next, due > now ? due : now + heartbeat_interval_);
  }
  stream_timer_->expires_at(next);
  stream_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->stream_ended_) return;
    const auto at = std::chrono::steady_clock::now();
    if (self->stream_writing_) {
      if (at - self->last_stream_write_ >= self->server_->options.write_timeout) {
        return self->EndStream(StreamEnd::kWriteFailed);
      }
    } else if (self->heartbeat_interval_.count() > 0 && !self->stream_ending_ &&
               at - self->last_stream_write_ >= self->heartbeat_interval_) {
      self->stream_out_ = self->stream_body_->Heartbeat();
      if (!self->stream_out_.empty()) self->StreamWrite(self->stream_chunked_);
    }
    self->ArmStreamTimer();
  });
}

void Session::EndStream(StreamEnd reason) {
  if (!stream_body_ || stream_ended_) return;
  stream_ended_ = true;
  if (stream_timer_) stream_timer_->cancel();
  stream_body_->Finish(reason);
  server_->EndStream();
  beast::error_code ec;
  if (reason == StreamEnd::kFinished || reason == StreamEnd::kServerStopping) {
    // Everything was written: a normal close (FIN after the data).
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  } else {
    // The client is gone or does not read: reset rather than leave unsent bytes queued in
    // the kernel for it.
    stream_.socket().set_option(asio::socket_base::linger(true, 0), ec);
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  }
  stream_.close();
}

// Owns the Request while the handler works on it; every copy of the Responder holds it.
// If the last copy goes away unanswered, the client gets a 500 instead of a hang.
struct Exchange {
  Exchange(std::shared_ptr<Session> s, Request r) : session(std::move(s)), request(std::move(r)) {}
  ~Exchange() {
    if (!responded.exchange(true)) {
      log::Error("handler dropped its responder without answering",
                 {{"request_id", request.request_id}});
      session->Deliver(Envelope(ErrorCode::kInternal, "internal error", request.request_id));
    }
  }
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  std::shared_ptr<Session> session;
  Request request;
  std::atomic<bool> responded{false};
};

Responder MakeResponder(const std::shared_ptr<Exchange>& exchange) {
  return [exchange](Response response) {
    if (exchange->responded.exchange(true)) {
      log::Warn("responder called twice; second response ignored",
                {{"request_id", exchange->request.request_id}});
      return;
    }
    exchange->session->Deliver(std::move(response));
  };
}

void RunHandler(const Route& route, const Request& request, const Responder& respond) {
  try {
    route.handler(request, respond);
  } catch (const std::exception& e) {
    log::Error("handler threw", {{"request_id", request.request_id}, {"error", e.what()}});
    respond(Envelope(ErrorCode::kInternal, "internal error", request.request_id));
  } catch (...) {
    log::Error("handler threw", {{"request_id", request.request_id}});
    respond(Envelope(ErrorCode::kInternal, "internal error", request.request_id));
  }
}

}  // namespace

void Session::Dispatch() {
  auto exchange = std::make_shared<Exchange>(shared_from_this(), std::move(request_));
  request_ = Request();
  Responder respond = MakeResponder(exchange);
  const Route& route = *route_;
  const Request& req = exchange->request;
  try {
    const bool mutating =
        req.method == Method::kPost || req.method == Method::kPatch || req.method == Method::kPut;
    if (route.options.idempotent && mutating && server_->gate && req.principal &&
        req.HasHeader("idempotency-key")) {
      std::string_view key = req.Header("idempotency-key");
      if (key.empty() || key.size() > kMaxIdempotencyKey) {
        return respond(ErrorResponse(Error{ErrorCode::kValidation,
                                           "Idempotency-Key must be 1-255 characters",
                                           {{"Idempotency-Key", "must be 1-255 characters"}}},
                                     req.request_id));
      }
      server_->gate->Handle(
          req, key, [&route, &req](const Responder& r) { RunHandler(route, req, r); }, respond);
      return;
    }
    RunHandler(route, req, respond);
  } catch (const std::exception& e) {
    log::Error("request dispatch threw", {{"request_id", req.request_id}, {"error", e.what()}});
    respond(Envelope(ErrorCode::kInternal, "internal error", req.request_id));
  } catch (...) {
    respond(Envelope(ErrorCode::kInternal, "internal error", req.request_id));
  }
}

void Server::Impl::Register(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(mu);
  sessions.emplace(s.get(), s);
}

void Server::Impl::Reject(tcp::socket socket) {
  std::string id = NewRequestId();
  std::string body =
      ErrorResponse(Error{ErrorCode::kUnavailable, "too many connections", {}}, id).body;
  auto text = std::make_shared<std::string>(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
      "Connection: close\r\nX-Request-Id: " +
      id + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  auto sock = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*sock, asio::buffer(*text), [sock, text](beast::error_code, size_t) {
    beast::error_code ec;
    sock->shutdown(tcp::socket::shutdown_both, ec);
    sock->close(ec);
  });
}

void Server::Impl::Accept() {
  asio::io_context& loop = Context(next_context++ % Contexts());
  acceptor.async_accept(loop.get_executor(), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping.load() || !acceptor.is_open()) {
      return;
    }
    if (ec) {
      // E.g. out of file descriptors: back off briefly instead of spinning.
      log::Warn("accept failed", {{"error", ec.message()}});
      auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) {
        asio::dispatch(acceptor.get_executor(), [this] { Accept(); });
      });
      return;
    }
    if (connections.fetch_add(1, std::memory_order_relaxed) >= options.max_connections) {
      connections.fetch_sub(1, std::memory_order_relaxed);
      Reject(std::move(socket));
    } else {
      // Sessions hold the Impl (shared) so late responders never touch freed memory.
      auto session = std::make_shared<Session>(std::move(socket), self.lock());
      Register(session);
      session->Run();
    }
    Accept();
  });
}

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options, Router& router,
                                               Authenticator& authenticator,
                                               IdempotencyStore* idempotency, Metrics& metrics,
                                               const Clock& clock) {
  if (Status valid = options.Validate(); !valid) return Fail(valid.error());
  auto impl = std::make_shared<Impl>(std::move(options), router, authenticator, idempotency,
                                     metrics, clock);
  impl->self = impl;
  const ServerOptions& o = impl->options;
  beast::error_code ec;
  asio::ip::address address;
  if (o.host == "localhost") {
    address = asio::ip::make_address("127.0.0.1");
  } else {
    address = asio::ip::make_address(o.host, ec);
    if (ec) return Fail(ErrorCode::kValidation, "listen host must be an IP address: " + o.host);
  }
  tcp::endpoint endpoint(address, o.port);
  const std::string where = o.host + ":" + std::to_string(o.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "cannot listen on " + where + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint(ec).port();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  // A destructor must not throw; Stop() only throws on thread or allocation failure.
  try {
    Stop();
  } catch (...) {
    log::Error("server stop failed in the destructor");
  }
}

uint16_t Server::port() const { return impl_->port; }

void Server::Start() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  for (size_t i = 0; i < impl_->Contexts(); ++i) {
    impl_->work.push_back(asio::make_work_guard(impl_->Context(i)));
  }
  asio::dispatch(impl_->acceptor.get_executor(), [impl = impl_.get()] { impl->Accept(); });
  for (size_t i = 0; i < impl_->Contexts(); ++i) {
    impl_->threads.emplace_back([impl = impl_.get(), i] {
      NameThisThread("cl-io-" + std::to_string(i));
      for (;;) {
        try {
          impl->Context(i).run();
          return;
        } catch (const std::exception& e) {
          // Handlers catch their own; this is a last line of defence for the loop.
          log::Error("io thread caught", {{"error", e.what()}});
        }
      }
    });
  }
}

void Server::Stop() {
  Impl& s = *impl_;
  std::lock_guard lifecycle(s.lifecycle_mu);
  if (s.stopped) return;
  s.stopped = true;
  s.stopping = true;
  if (!s.started) {
    beast::error_code ec;
    s.acceptor.close(ec);
    s.closed = true;
    return;
  }
  // Stage 1: stop accepting, let in-flight requests finish.
  asio::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
  });
  // Streams never finish on their own: end them now, gracefully (stage 2 closes whatever
  // is left, e.g. a stream whose last write is stuck).
  {
    std::vector<std::shared_ptr<Session>> open;
    {
      std::lock_guard lock(s.mu);
      for (auto& [ptr, weak] : s.sessions) {
        if (auto session = weak.lock()) open.push_back(std::move(session));
      }
    }
    for (auto& session : open) session->StopStream();
  }
  const auto deadline = std::chrono::steady_clock::now() + s.options.shutdown_grace;
  {
    std::unique_lock lock(s.mu);
    if (!s.cv.wait_until(lock, deadline, [&] { return s.in_flight == 0 && s.open_streams == 0; })) {
      log::Warn("shutdown grace expired with requests in flight",
                {{"in_flight", std::to_string(s.in_flight)},
                 {"open_streams", std::to_string(s.open_streams)}});
    }
  }
  // Stage 2: close every connection (idle keep-alive ones and stragglers), then join.
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(s.mu);
    for (auto& [ptr, weak] : s.sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  for (auto& session : open) session->Close();
  open.clear();
  {
    std::unique_lock lock(s.mu);
    s.cv.wait_for(lock, std::chrono::seconds(2), [&] { return s.sessions.empty(); });
  }
  s.work.clear();
  for (size_t i = 0; i < s.Contexts(); ++i) s.Context(i).stop();
  s.threads.clear();  // joins
  s.closed = true;
  // Run what is still queued (completions of the closed sockets) so sessions are released
  // and nothing queued keeps the Impl alive through a reference cycle.
  for (size_t i = 0; i < s.Contexts(); ++i) {
    s.Context(i).restart();
    s.Context(i).poll();
  }
}

}  // namespace causeloop::http

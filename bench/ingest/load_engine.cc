#include "ingest/load_engine.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <memory>
#include <optional>
#include <utility>

#include "ingest/server_process.h"

namespace causeloop::bench {

std::atomic<bool> g_interrupted{false};

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kResponseBodyLimit = 64ull << 20;
constexpr std::uint32_t kResponseHeaderLimit = 64u << 10;

class Engine;

// One keep-alive connection: connect, then write a request / read its response until the
// engine stops or the source runs dry. Transport failures reconnect after a short delay; a
// response with Connection: close reconnects before the next request; 429/503 sleep for
// Retry-After on this connection only.
//
// A plain socket rather than beast::tcp_stream: the stream arms a timer on every operation,
// which costs the generator more CPU than the request itself. Timeouts are enforced instead by
// the engine's watchdog calling CheckDeadline().
class Connection {
 public:
  Connection(Engine& engine, asio::io_context& io) : engine_(engine), socket_(io), timer_(io) {}

  void Start() { Connect(); }
  // Wakes a sleeping connection so it notices the engine is stopping.
  void Wake() { timer_.cancel(); }
  // Aborts whatever is pending; handlers then finish the connection.
  void ForceClose() {
    timer_.cancel();
    Close();
  }
  // Aborts the pending connect or request when it has run past `timeout`.
  void CheckDeadline(Clock::time_point now, std::chrono::milliseconds timeout) {
    if (in_flight_ && now - sent_at_ > timeout) {
      timed_out_ = true;
      Close();
    }
  }
  bool done() const { return done_; }

 private:
  void Connect();
  void Issue();
  void OnRead(beast::error_code ec);
  void Continue();
  void Fail(beast::error_code ec);
  void SleepThen(std::chrono::milliseconds delay);
  void Finish();
  void Close() {
    beast::error_code ignored;
    socket_.close(ignored);
  }

  Engine& engine_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string request_;
  int expected_ = 0;
  Clock::time_point sent_at_;
  bool connected_ = false;
  bool in_flight_ = false;  // a connect or a request is pending; sent_at_ is its start
  bool timed_out_ = false;
  bool done_ = false;
};

class Engine {
 public:
  Engine(const EngineOptions& options, RequestSource& source,
         const std::vector<std::chrono::milliseconds>& phases, ServerProcess* server)
      : options_(options),
        source_(source),
        phases_(phases),
        server_(server),
        endpoint_(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(options.port)),
        phase_timer_(io_),
        drain_timer_(io_),
        watch_timer_(io_) {}

  EngineResult Run() {
    for (int i = 0; i < options_.connections; ++i) {
      connections_.push_back(std::make_unique<Connection>(*this, io_));
    }
    StartPhase(0);
    for (auto& c : connections_) c->Start();
    Watch();
    io_.run();
    return std::move(result_);
  }

  bool stopping() const { return stopping_; }
  PhaseStats& stats() { return *current_; }
  RequestSource& source() { return source_; }
  const EngineOptions& options() const { return options_; }
  const asio::ip::tcp::endpoint& endpoint() const { return endpoint_; }

  void OnConnectionDone() {
    if (++done_count_ < connections_.size()) return;
    // Every connection is finished: the source is exhausted, or we are stopping.
    if (!stopping_) {
      EndPhase();
      BeginStop();
    }
    phase_timer_.cancel();
    drain_timer_.cancel();
    watch_timer_.cancel();
  }

 private:
  void StartPhase(std::size_t index) {
    phase_index_ = index;
    phase_stats_ = PhaseStats{};
    current_ = &phase_stats_;
    phase_started_ = Clock::now();
    gen_cpu_at_start_ = SelfCpuSeconds();
    server_cpu_at_start_ = server_ != nullptr ? server_->CpuSeconds() : 0;
    phase_timer_.expires_at(phase_started_ + phases_[index]);
    phase_timer_.async_wait([this](beast::error_code ec) {
      if (ec || stopping_) return;
      EndPhase();
      if (phase_index_ + 1 < phases_.size()) {
        StartPhase(phase_index_ + 1);
      } else {
        BeginStop();
      }
    });
  }

  void EndPhase() {
    PhaseStats& s = phase_stats_;
    s.seconds = std::chrono::duration<double>(Clock::now() - phase_started_).count();
    s.generator_cpu_seconds = SelfCpuSeconds() - gen_cpu_at_start_;
    if (server_ != nullptr) {
      const double cpu = server_->CpuSeconds();
      s.server_cpu_seconds = cpu > 0 ? cpu - server_cpu_at_start_ : 0;
      s.server_rss_kib = server_->RssKib();
    }
    result_.phases.push_back(std::move(s));
    current_ = &discard_;  // until the next phase starts (drain, or stop)
  }

  void BeginStop() {
    if (stopping_) return;
    stopping_ = true;
    phase_timer_.cancel();
    for (auto& c : connections_) c->Wake();
    drain_timer_.expires_after(options_.drain_timeout);
    drain_timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      for (auto& c : connections_) {
        if (!c->done()) c->ForceClose();
      }
    });
  }

  void Abort(std::string reason) {
    result_.aborted = true;
    result_.abort_reason = std::move(reason);
    current_ = &discard_;
    BeginStop();
    for (auto& c : connections_) {
      if (!c->done()) c->ForceClose();
    }
  }

  void Watch() {
    watch_timer_.expires_after(std::chrono::milliseconds(200));
    watch_timer_.async_wait([this](beast::error_code ec) {
      if (ec || done_count_ == connections_.size()) return;
      if (g_interrupted.load()) {
        Abort("interrupted");
        return;
      }
      if (server_ != nullptr && server_->Exited()) {
        Abort("the server exited during the workload");
        return;
      }
      const auto now = Clock::now();
      for (auto& c : connections_) c->CheckDeadline(now, options_.request_timeout);
      Watch();
    });
  }

  EngineOptions options_;
  RequestSource& source_;
  std::vector<std::chrono::milliseconds> phases_;
  ServerProcess* server_;
  asio::io_context io_;
  asio::ip::tcp::endpoint endpoint_;
  asio::steady_timer phase_timer_;
  asio::steady_timer drain_timer_;
  asio::steady_timer watch_timer_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::size_t done_count_ = 0;
  bool stopping_ = false;
  std::size_t phase_index_ = 0;
  Clock::time_point phase_started_;
  double gen_cpu_at_start_ = 0;
  double server_cpu_at_start_ = 0;
  PhaseStats phase_stats_;
  PhaseStats discard_;
  PhaseStats* current_ = &discard_;
  EngineResult result_;
};

void Connection::Connect() {
  if (engine_.stopping()) return Finish();
  sent_at_ = Clock::now();
  in_flight_ = true;
  socket_.async_connect(engine_.endpoint(), [this](beast::error_code ec) {
    in_flight_ = false;
    if (ec) return Fail(ec);
    connected_ = true;
    ++engine_.stats().connects;
    beast::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    Issue();
  });
}

void Connection::Issue() {
  if (engine_.stopping()) return Finish();
  expected_ = engine_.source().Next(request_);
  if (expected_ == 0) return Finish();
  parser_.emplace();
  parser_->body_limit(kResponseBodyLimit);
  parser_->header_limit(kResponseHeaderLimit);
  sent_at_ = Clock::now();
  in_flight_ = true;  // one deadline covers the write and the whole response
  asio::async_write(socket_, asio::buffer(request_), [this](beast::error_code ec, std::size_t) {
    if (ec) return Fail(ec);
    http::async_read(socket_, buffer_, *parser_,
                     [this](beast::error_code ec2, std::size_t) { OnRead(ec2); });
  });
}

void Connection::OnRead(beast::error_code ec) {
  in_flight_ = false;
  if (ec) return Fail(ec);
  const auto latency = Clock::now() - sent_at_;
  const http::response<http::string_body>& res = parser_->get();
  const int status = static_cast<int>(res.result_int());
  PhaseStats& stats = engine_.stats();
  std::chrono::milliseconds backoff{0};
  if (status >= 200 && status < 300) {
    const long long accepted = JsonIntField(res.body(), "accepted");
    if (accepted >= 0) stats.accepted_records += static_cast<std::uint64_t>(accepted);
    if (accepted == expected_) {
      ++stats.ok_requests;
    } else {
      ++stats.bad_bodies;
      if (accepted >= 0 && accepted < expected_) {
        stats.rejected_records += static_cast<std::uint64_t>(expected_ - accepted);
      }
    }
    stats.deduplicated_records += CountJsonTrue(res.body(), "deduplicated");
    stats.latency_us.push_back(static_cast<std::uint32_t>(std::min<long long>(
        std::chrono::duration_cast<std::chrono::microseconds>(latency).count(), UINT32_MAX)));
  } else {
    ++stats.non_2xx[status];
    if (status == 429 || status == 503) {
      const auto header = res[http::field::retry_after];
      long long seconds = -1;
      const auto [ptr, err] =
          std::from_chars(header.data(), header.data() + header.size(), seconds);
      if (err != std::errc() || ptr != header.data() + header.size() || seconds < 0) {
        ++stats.missing_retry_after;
        seconds = 1;
      }
      // Retry-After: 0 still yields a little, so a refusing server is not hammered in a loop.
      backoff = std::clamp<std::chrono::milliseconds>(std::chrono::seconds(seconds),
                                                      std::chrono::milliseconds(10),
                                                      engine_.options().max_backoff);
    }
  }
  const bool keep_alive = res.keep_alive();
  parser_.reset();
  if (!keep_alive) {
    Close();
    buffer_.clear();
    connected_ = false;
  }
  if (backoff.count() > 0) return SleepThen(backoff);
  Continue();
}

void Connection::Continue() {
  if (engine_.stopping()) return Finish();
  if (connected_) {
    Issue();
  } else {
    Connect();
  }
}

void Connection::Fail(beast::error_code ec) {
  in_flight_ = false;
  connected_ = false;
  Close();
  buffer_.clear();
  const bool timed_out = std::exchange(timed_out_, false);
  if (engine_.stopping() || (ec == asio::error::operation_aborted && !timed_out)) return Finish();
  ++engine_.stats().transport_errors;
  if (timed_out) ++engine_.stats().timeouts;
  SleepThen(engine_.options().reconnect_delay);
}

void Connection::SleepThen(std::chrono::milliseconds delay) {
  timer_.expires_after(delay);
  timer_.async_wait([this](beast::error_code) { Continue(); });
}

void Connection::Finish() {
  if (done_) return;
  done_ = true;
  Close();
  engine_.OnConnectionDone();
}

}  // namespace

EngineResult RunLoad(const EngineOptions& options, RequestSource& source,
                     const std::vector<std::chrono::milliseconds>& phases, ServerProcess* server) {
  Engine engine(options, source, phases, server);
  return engine.Run();
}

namespace {
// Finds the next occurrence of `"key"` at or after `pos` and returns the position just past
// it and the following blanks and colon, or npos. Scans text; does not parse JSON.
std::size_t NextValueOf(std::string_view body, std::string_view key, std::size_t pos) {
  while ((pos = body.find(key, pos)) != std::string_view::npos) {
    const bool quoted = pos > 0 && body[pos - 1] == '"' && pos + key.size() < body.size() &&
                        body[pos + key.size()] == '"';
    pos += key.size();
    if (!quoted) continue;
    ++pos;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t' || body[pos] == '\n' ||
                                 body[pos] == '\r' || body[pos] == ':')) {
      ++pos;
    }
    return pos;
  }
  return std::string_view::npos;
}
}  // namespace

long long JsonIntField(std::string_view body, std::string_view key) {
  const std::size_t pos = NextValueOf(body, key, 0);
  if (pos == std::string_view::npos) return -1;
  long long value = -1;
  const auto [ptr, err] = std::from_chars(body.data() + pos, body.data() + body.size(), value);
  return err == std::errc() && value >= 0 ? value : -1;
}

std::uint64_t CountJsonTrue(std::string_view body, std::string_view key) {
  std::uint64_t count = 0;
  std::size_t pos = 0;
  while ((pos = NextValueOf(body, key, pos)) != std::string_view::npos) {
    if (body.substr(pos, 4) == "true") ++count;
  }
  return count;
}

}  // namespace causeloop::bench

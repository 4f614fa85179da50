// GET /v1/notifications/stream (SPEC §7.3): the live event stream as Server-Sent Events.
//
// Resuming: the Last-Event-ID header (what EventSource sends when it reconnects) wins over
// ?last_event_id= (what a client puts in the URL of its first connection), since the header
// is the newer of the two on a reconnect. An empty value counts as absent. The stream starts
// with a `retry:` hint, then one frame per event (stream/frame.h), and a `: ping` comment
// whenever nothing was sent for --stream-ping-seconds. A client that falls more than the
// hub's buffer behind is disconnected and resumes with Last-Event-ID.

#include <atomic>
#include <charconv>
#include <optional>
#include <string_view>

#include "http/api/common.h"
#include "http/api/handlers.h"
#include "stream/event_stream.h"
#include "stream/frame.h"

namespace causeloop::http::api {

namespace {

// How long EventSource clients wait before reconnecting.
constexpr long long kRetryMillis = 2000;

// Where the hub's wake-ups go: the server's sink, once the stream has started. Lock-free:
// the sink is set once (before `ready_`) and kept; after the stream ends its calls are no-ops.
class SinkSlot {
 public:
  void Set(std::shared_ptr<StreamSink> sink) {
    sink_ = std::move(sink);
    ready_.store(true, std::memory_order_release);
  }
  void Wake(stream::Signal signal) {
    // Not started yet: the first Pull() drains whatever arrived anyway.
    if (!ready_.load(std::memory_order_acquire)) return;
    if (signal == stream::Signal::kOverflowed) {
      sink_->Abort();  // the client is stalled or far behind: do not wait for its writes
    } else {
      sink_->Notify();
    }
  }

 private:
  std::shared_ptr<StreamSink> sink_;  // written once, before ready_
  std::atomic<bool> ready_{false};
};

std::string_view EndLabel(StreamEnd end, stream::StreamEndReason reason) {
  switch (reason) {
    case stream::StreamEndReason::kOverflowed:
      return "overflow";
    case stream::StreamEndReason::kHubClosed:
      return "server_stopping";
    case stream::StreamEndReason::kStoreFailed:
      return "store_failed";
    case stream::StreamEndReason::kNone:
      break;
  }
  switch (end) {
    case StreamEnd::kFinished:
      return "finished";
    case StreamEnd::kClientClosed:
      return "client_closed";
    case StreamEnd::kWriteFailed:
      return "write_failed";
    case StreamEnd::kAborted:
      return "overflow";
    case StreamEnd::kServerStopping:
      return "server_stopping";
  }
  return "unknown";
}

class SseBody final : public StreamBody {
 public:
  SseBody(store::Store& store, Metrics& metrics, std::chrono::milliseconds ping)
      : log_(store), metrics_(metrics), ping_(ping) {}

  Status Open(stream::EventHub& hub, stream::EventStreamOptions options) {
    auto opened = stream::EventStream::Open(hub, log_, std::move(options),
                                            [slot = slot_](stream::Signal s) { slot->Wake(s); });
    if (!opened) return Fail(opened.error());
    stream_ = std::move(*opened);
    return {};
  }

  void Start(std::shared_ptr<StreamSink> sink) override {
    started_ = true;
    metrics_.Gauge("causeloop_stream_connections", "Open live-stream connections.").Add(1);
    slot_->Set(std::move(sink));
  }

  bool Pull(std::string& out) override {
    if (!stream_) return false;
    if (!sent_retry_) {
      sent_retry_ = true;
      out += stream::RetryFrame(kRetryMillis);
    }
    return stream_->Pull(out);
  }

  [[nodiscard]] std::chrono::milliseconds heartbeat_interval() const override { return ping_; }
  std::string Heartbeat() override { return std::string(stream::kPingFrame); }

  void Finish(StreamEnd end) override {
    const auto reason = stream_ ? stream_->end_reason() : stream::StreamEndReason::kNone;
    stream_.reset();  // unsubscribes now rather than when the connection is freed
    if (started_) {
      metrics_.Gauge("causeloop_stream_connections", "Open live-stream connections.").Add(-1);
    }
    metrics_
        .Counter("causeloop_stream_disconnects_total", "Live-stream connections ended, by reason.",
                 {{"reason", std::string(EndLabel(end, reason))}})
        .Inc();
  }

 private:
  stream::StoreEventLog log_;
  Metrics& metrics_;
  const std::chrono::milliseconds ping_;
  std::shared_ptr<SinkSlot> slot_ = std::make_shared<SinkSlot>();
  std::unique_ptr<stream::EventStream> stream_;
  bool started_ = false;
  bool sent_retry_ = false;
};

// Last-Event-ID (header) or ?last_event_id=: nullopt when absent, kValidation when not a
// non-negative integer.
Result<std::optional<long long>> ParseLastEventId(const Request& req) {
  std::string_view raw = req.Header("last-event-id");
  std::string field = "Last-Event-ID";
  if (raw.empty()) {
    raw = req.Query("last_event_id").value_or(std::string_view());
    field = "last_event_id";
  }
  if (raw.empty()) return std::optional<long long>();
  long long value = -1;
  auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
  if (ec != std::errc() || end != raw.data() + raw.size() || value < 0) {
    return FailField(field, field + " must be a non-negative event sequence (the id of a frame)");
  }
  return std::optional<long long>(value);
}

}  // namespace

void GetNotificationStream(ApiContext& ctx, const Request& req, const Responder& respond) {
  if (ctx.events == nullptr) {
    return ReplyError(req, respond,
                      Error{ErrorCode::kUnavailable, "the live stream is not enabled", {}});
  }
  auto after = ParseLastEventId(req);
  if (!after) return ReplyError(req, respond, after.error());
  stream::TypeFilter types;
  if (auto raw = req.Query("types")) {
    auto parsed = stream::TypeFilter::Parse(*raw);
    if (!parsed) return ReplyError(req, respond, parsed.error());
    types = *parsed;
  }
  auto body = std::make_shared<SseBody>(ctx.store, ctx.metrics, ctx.stream_ping);
  Status opened = body->Open(*ctx.events, stream::EventStreamOptions{
                                              .workspace_id = Who(req).workspace_id,
                                              .after = *after,
                                              .types = types,
                                          });
  if (!opened) return ReplyError(req, respond, opened.error());
  Response r;
  r.status = 200;
  r.content_type = "text/event-stream";
  r.stream = std::move(body);
  respond(std::move(r));
}

}  // namespace causeloop::http::api

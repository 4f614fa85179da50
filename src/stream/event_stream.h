#pragma once
// One client's live stream (SPEC §7.3): optionally a replay from the durable event log after
// a Last-Event-ID, then the live events from the hub, with no gap and no duplicate between
// the two.
//
// The handoff: the stream subscribes to the hub *before* it reads the log, so every event
// committed from then on lands in its bounded buffer. It then replays the log page by page
// after `after` until a read returns less than a page (the log's end as of that read) and
// switches to the buffer, skipping frames whose sequence it already sent. No gap: an event
// missing from the buffer was reported committed before the subscription, so any later read
// of the log sees it; an event that is in both is sent once because sequences only grow.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/store.h"
#include "stream/event_hub.h"
#include "stream/event_types.h"

namespace causeloop::stream {

// The part of the durable event log a stream reads (a seam for tests).
class EventLog {
 public:
  virtual ~EventLog() = default;
  // Events with sequence > after, ascending, at most `limit`.
  virtual Result<std::vector<model::Event>> ListEvents(const std::string& workspace_id,
                                                       long long after, int limit) = 0;
  virtual Result<long long> LastSequence(const std::string& workspace_id) = 0;
};

// The store's event log. Thread-safe as the store is.
class StoreEventLog final : public EventLog {
 public:
  explicit StoreEventLog(store::Store& store) : store_(store) {}
  Result<std::vector<model::Event>> ListEvents(const std::string& workspace_id, long long after,
                                               int limit) override {
    return store_.ListEvents(workspace_id, after, limit);
  }
  Result<long long> LastSequence(const std::string& workspace_id) override {
    return store_.LastSequence(workspace_id);
  }

 private:
  store::Store& store_;
};

struct EventStreamOptions {
  std::string workspace_id;
  // Resume after this sequence (Last-Event-ID), replaying from the log first. nullopt: only
  // events committed from now on.
  std::optional<long long> after;
  TypeFilter types;
  // Events read from the log per Pull() while replaying. Default 500.
  int replay_page = 500;
  // Bytes of live frames taken per Pull() (one write). Default 64 KiB.
  size_t max_pull_bytes = size_t{64} * 1024;
};

enum class StreamEndReason {
  kNone,         // still open
  kOverflowed,   // the client fell behind by more than the hub's buffer
  kHubClosed,    // the hub shut down (server stopping)
  kStoreFailed,  // reading the log failed
};

// Not thread-safe: one caller (the connection) at a time. `wake` (see EventHub::Subscribe)
// asks that caller to Pull() again.
class EventStream {
 public:
  // Subscribes, then checks `after`: kValidation (detail "Last-Event-ID") when it is beyond
  // the workspace's last sequence (it was never sent), kUnavailable when the store cannot be
  // read.
  // REQUIRES: hub and log outlive the stream.
  static Result<std::unique_ptr<EventStream>> Open(EventHub& hub, EventLog& log,
                                                   EventStreamOptions options,
                                                   std::function<void(Signal)> wake);

  // Appends the next frames to `out`: a replay page, or the live frames waiting. May append
  // nothing (wait for a wake). Returns false when the stream is over (end_reason() says why);
  // what was appended is still to be sent.
  bool Pull(std::string& out);

  [[nodiscard]] StreamEndReason end_reason() const { return end_; }
  [[nodiscard]] bool replaying() const { return replaying_; }
  // The sequence of the last event considered (sent, or skipped by the filter while
  // replaying); the value a reconnecting client would send as Last-Event-ID.
  [[nodiscard]] long long cursor() const { return cursor_; }

 private:
  EventStream(EventLog& log, EventStreamOptions options, std::function<void(Signal)> wake);

  EventLog& log_;
  const EventStreamOptions options_;
  std::function<void(Signal)> wake_;
  std::unique_ptr<Subscription> subscription_;
  bool replaying_ = false;
  long long cursor_ = 0;
  StreamEndReason end_ = StreamEndReason::kNone;
  std::vector<FramePtr> scratch_;
};

}  // namespace causeloop::stream

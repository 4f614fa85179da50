#pragma once
// The live-stream hub (SPEC §7.3): learns of every committed event from the store and hands
// it to the subscribers of its workspace, each through a bounded buffer.
//
// Per event the hub encodes one SSE frame (shared by all subscribers) and appends it to the
// buffer of every subscriber of that workspace whose type filter matches: O(subscribers of
// the workspace), never O(all subscribers). A subscriber whose buffer would exceed
// max_buffered_events or max_buffered_bytes is overflowed: its buffer is dropped, it is
// closed and told so, and it receives nothing more (the client resumes with Last-Event-ID
// from the durable log). Nothing the hub does blocks the store's writer: OnCommitted() only
// copies the events into a queue that a hub thread fans out (or, with dispatch_thread =
// false, fans out inline; for tests).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "model/event.h"
#include "store/store.h"
#include "stream/event_types.h"
#include "stream/frame.h"

namespace causeloop::stream {

struct HubOptions {
  // Frames a subscriber may have waiting (not yet taken by its connection) before it is
  // overflowed. Default 10,000.
  size_t max_buffered_events = 10'000;
  // Bytes of frames a subscriber may have waiting before it is overflowed. Default 16 MiB.
  size_t max_buffered_bytes = size_t{16} << 20;
  // Fan out on a hub thread, so the store's writer pays O(events) per commit whatever the
  // number of subscribers. false: fan out inside OnCommitted() (deterministic tests).
  bool dispatch_thread = true;
  // The hub thread fans out at most once per interval: under load, events go out in batches,
  // so each subscriber is woken (and its connection writes) a bounded number of times a
  // second however high the event rate; after a quiet interval an event goes out at once.
  // The interval is the larger of min_fanout_interval and subscribers / max_wakes_per_second,
  // so the total wake-ups (each one a write to a socket) stay within a budget as subscribers
  // are added, at up to one interval of added latency under load. Defaults: 5 ms and 20,000
  // wakes/s (1,000 subscribers: 50 ms). Zero disables either. (Hub thread only.)
  std::chrono::milliseconds min_fanout_interval{5};
  size_t max_wakes_per_second = 20'000;
  // Events queued for the hub thread beyond which the queue is dropped and every subscriber
  // is overflowed (the hub fell behind; memory stays bounded). Default 200,000.
  size_t max_queued_events = 200'000;

  // kValidation naming the bad field.
  [[nodiscard]] Status Validate() const;
};

// What a subscriber's wake callback is told.
enum class Signal {
  kData,        // frames arrived into an empty buffer
  kOverflowed,  // the buffer overflowed: the subscription is closed, its frames dropped
  kClosed,      // the hub shut down: the subscription is closed after its buffered frames
};

class EventHub;

// One subscriber. Created by EventHub::Subscribe(); unsubscribes when destroyed.
// Thread-safe. REQUIRES: the hub outlives it.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Moves waiting frames to `out`, oldest first (ascending sequence), until about
  // `max_bytes` are taken (always at least one frame when any waits). Returns false once the
  // subscription is closed and nothing is left to take (after an overflow: at once).
  bool Drain(std::vector<FramePtr>& out, size_t max_bytes);

  [[nodiscard]] bool overflowed() const;
  [[nodiscard]] const std::string& workspace_id() const;

  struct State;  // shared with the hub

 private:
  friend class EventHub;
  Subscription(EventHub& hub, std::shared_ptr<State> state);
  EventHub& hub_;
  std::shared_ptr<State> state_;
};

struct HubStats {
  size_t subscribers = 0;
  uint64_t overflows = 0;         // subscriptions closed because their buffer overflowed
  uint64_t frames_delivered = 0;  // frames appended to subscriber buffers
  uint64_t queue_drops = 0;       // times the hub's own queue overflowed
};

class EventHub final : public store::CommitObserver {
 public:
  // REQUIRES: options.Validate() succeeds.
  explicit EventHub(HubOptions options = {});
  ~EventHub() override;  // Shutdown()s and joins the hub thread.
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Starts buffering the workspace's events matching `types` committed from now on (an event
  // whose commit was reported before this call is not delivered). `wake` is called with the
  // subscription's lock held, from the hub thread or OnCommitted(): it must be cheap, must
  // not block and must not call into the hub or the subscription. It is never called once
  // the Subscription's destructor has returned. After Shutdown() the subscription starts
  // closed (Drain() returns false).
  std::unique_ptr<Subscription> Subscribe(std::string workspace_id, TypeFilter types,
                                          std::function<void(Signal)> wake);

  // store::CommitObserver: copies the events and hands them off; never blocks on
  // subscribers.
  void OnCommitted(const std::vector<model::Event>& events) override;

  // Closes every subscription (each gets kClosed and keeps its buffered frames) and every
  // later one. Events still queued are dropped. Idempotent.
  void Shutdown();

  [[nodiscard]] HubStats Stats() const;

 private:
  friend class Subscription;
  using Subscribers = std::vector<std::shared_ptr<Subscription::State>>;

  void Unsubscribe(const std::shared_ptr<Subscription::State>& state);
  void FanOut(const std::vector<model::Event>& events);
  void Deliver(Subscription::State& s, const std::vector<FramePtr>& frames);
  void Run(const std::stop_token& stop);
  [[nodiscard]] std::chrono::microseconds FanoutInterval() const;
  std::vector<std::shared_ptr<Subscription::State>> AllSubscribers();
  void OverflowEverySubscriber();

  const HubOptions options_;

  // Subscribers by workspace, copy-on-write: fan-out takes a snapshot under the lock and
  // walks it without; (un)subscribe replaces the workspace's vector.
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Subscribers>> by_workspace_;
  bool shut_down_ = false;  // guarded by mu_
  std::atomic<size_t> subscriber_count_{0};

  // Events waiting for the hub thread.
  std::mutex queue_mu_;
  std::condition_variable_any queue_cv_;
  std::vector<model::Event> queue_;  // guarded by queue_mu_
  bool stopped_ = false;             // guarded by queue_mu_; after Shutdown() nothing queues

  std::atomic<uint64_t> overflows_{0};
  std::atomic<uint64_t> frames_delivered_{0};
  std::atomic<uint64_t> queue_drops_{0};

  std::jthread thread_;  // last: started after everything above exists
};

}  // namespace causeloop::stream

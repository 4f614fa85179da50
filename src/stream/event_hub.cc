#include "stream/event_hub.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "core/thread_name.h"

namespace causeloop::stream {

Status HubOptions::Validate() const {
  if (max_buffered_events < 1) return FailField("max_buffered_events", "must be at least 1");
  if (max_buffered_bytes < 1024) return FailField("max_buffered_bytes", "must be at least 1024");
  if (max_queued_events < 1) return FailField("max_queued_events", "must be at least 1");
  return {};
}

struct Subscription::State {
  State(std::string ws, TypeFilter t, std::function<void(Signal)> w)
      : workspace_id(std::move(ws)), types(t), wake(std::move(w)) {}

  const std::string workspace_id;
  const TypeFilter types;

  std::mutex mu;
  std::deque<FramePtr> buffer;       // guarded by mu
  size_t buffered_bytes = 0;         // guarded by mu
  bool closed = false;               // guarded by mu
  bool overflowed = false;           // guarded by mu
  bool detached = false;             // guarded by mu; the Subscription is gone: no more wakes
  std::function<void(Signal)> wake;  // guarded by mu (called with it held)

  void Notify(Signal signal) const {
    if (!detached && wake) wake(signal);
  }
};

Subscription::Subscription(EventHub& hub, std::shared_ptr<State> state)
    : hub_(hub), state_(std::move(state)) {}

Subscription::~Subscription() { hub_.Unsubscribe(state_); }

bool Subscription::Drain(std::vector<FramePtr>& out, size_t max_bytes) {
  std::lock_guard lock(state_->mu);
  size_t taken = 0;
  auto& buffer = state_->buffer;
  while (!buffer.empty() && (taken == 0 || taken + buffer.front()->text.size() <= max_bytes)) {
    taken += buffer.front()->text.size();
    out.push_back(std::move(buffer.front()));
    buffer.pop_front();
  }
  state_->buffered_bytes -= taken;
  return !(state_->closed && buffer.empty());
}

bool Subscription::overflowed() const {
  std::lock_guard lock(state_->mu);
  return state_->overflowed;
}

const std::string& Subscription::workspace_id() const { return state_->workspace_id; }

EventHub::EventHub(HubOptions options) : options_(options) {
  if (options_.dispatch_thread) {
    thread_ = std::jthread([this](const std::stop_token& stop) { Run(stop); });
  }
}

EventHub::~EventHub() {
  Shutdown();
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

std::unique_ptr<Subscription> EventHub::Subscribe(std::string workspace_id, TypeFilter types,
                                                  std::function<void(Signal)> wake) {
  auto state =
      std::make_shared<Subscription::State>(std::move(workspace_id), types, std::move(wake));
  {
    std::lock_guard lock(mu_);
    if (shut_down_) {
      state->closed = true;
    } else {
      auto& slot = by_workspace_[state->workspace_id];
      auto next = slot ? std::make_shared<Subscribers>(*slot) : std::make_shared<Subscribers>();
      next->push_back(state);
      slot = std::move(next);
      subscriber_count_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return std::unique_ptr<Subscription>(new Subscription(*this, std::move(state)));
}

void EventHub::Unsubscribe(const std::shared_ptr<Subscription::State>& state) {
  {
    std::lock_guard lock(state->mu);
    state->detached = true;
  }
  std::lock_guard lock(mu_);
  auto it = by_workspace_.find(state->workspace_id);
  if (it == by_workspace_.end()) return;
  const Subscribers& current = *it->second;
  if (std::find(current.begin(), current.end(), state) == current.end()) return;
  subscriber_count_.fetch_sub(1, std::memory_order_relaxed);
  if (current.size() == 1) {
    by_workspace_.erase(it);
    return;
  }
  auto next = std::make_shared<Subscribers>();
  next->reserve(current.size() - 1);
  for (const auto& s : current) {
    if (s != state) next->push_back(s);
  }
  it->second = std::move(next);
}

void EventHub::OnCommitted(const std::vector<model::Event>& events) {
  // Nobody listening: nothing to do. A subscriber that registers concurrently only needs
  // events committed after it subscribed, and these were committed before this call.
  if (events.empty() || subscriber_count_.load(std::memory_order_relaxed) == 0) return;
  if (!options_.dispatch_thread) return FanOut(events);
  bool dropped = false;
  {
    std::lock_guard lock(queue_mu_);
    if (stopped_) return;
    if (queue_.size() + events.size() > options_.max_queued_events) {
      queue_.clear();
      dropped = true;
    } else {
      queue_.insert(queue_.end(), events.begin(), events.end());
    }
  }
  if (dropped) {
    // Every current subscriber may miss events now: close them all (they resume from the
    // log). Rare (the hub thread is far behind), so O(all subscribers) here is acceptable.
    queue_drops_.fetch_add(1, std::memory_order_relaxed);
    OverflowEverySubscriber();
    return;
  }
  queue_cv_.notify_one();
}

void EventHub::Run(const std::stop_token& stop) {
  NameThisThread("cl-event-hub");
  std::vector<model::Event> batch;
  auto last_fanout = std::chrono::steady_clock::time_point::min();
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, stop, [this] { return !queue_.empty(); });
      if (stop.stop_requested()) return;
      const std::chrono::microseconds interval = FanoutInterval();
      if (interval.count() > 0 && last_fanout != std::chrono::steady_clock::time_point::min()) {
        // Let more events join this batch (see HubOptions::min_fanout_interval).
        queue_cv_.wait_until(lock, stop, last_fanout + interval, [] { return false; });
        if (stop.stop_requested()) return;
      }
      batch.swap(queue_);
    }
    last_fanout = std::chrono::steady_clock::now();
    FanOut(batch);
    batch.clear();
  }
}

std::chrono::microseconds EventHub::FanoutInterval() const {
  std::chrono::microseconds interval = options_.min_fanout_interval;
  if (options_.max_wakes_per_second > 0) {
    const size_t subscribers = subscriber_count_.load(std::memory_order_relaxed);
    interval = std::max(interval, std::chrono::microseconds(subscribers * 1'000'000 /
                                                            options_.max_wakes_per_second));
  }
  return interval;
}

void EventHub::FanOut(const std::vector<model::Event>& events) {
  // Runs of one workspace (a commit groups several workspaces; each is in sequence order).
  size_t begin = 0;
  std::vector<FramePtr> frames;
  while (begin < events.size()) {
    const std::string& ws = events[begin].workspace_id;
    size_t end = begin + 1;
    while (end < events.size() && events[end].workspace_id == ws) ++end;
    std::shared_ptr<const Subscribers> subscribers;
    {
      std::lock_guard lock(mu_);
      auto it = by_workspace_.find(ws);
      if (it != by_workspace_.end()) subscribers = it->second;
    }
    if (subscribers) {
      frames.clear();
      for (size_t i = begin; i < end; ++i) frames.push_back(MakeFrame(events[i]));
      for (const auto& s : *subscribers) Deliver(*s, frames);
    }
    begin = end;
  }
}

void EventHub::Deliver(Subscription::State& s, const std::vector<FramePtr>& frames) {
  std::lock_guard lock(s.mu);
  if (s.closed) return;
  const bool was_empty = s.buffer.empty();
  uint64_t added = 0;
  for (const FramePtr& f : frames) {
    if (!s.types.Matches(f->type_index)) continue;
    if (s.buffer.size() + 1 > options_.max_buffered_events ||
        s.buffered_bytes + f->text.size() > options_.max_buffered_bytes) {
      s.buffer.clear();
      s.buffered_bytes = 0;
      s.closed = true;
      s.overflowed = true;
      overflows_.fetch_add(1, std::memory_order_relaxed);
      frames_delivered_.fetch_add(added, std::memory_order_relaxed);
      s.Notify(Signal::kOverflowed);
      return;
    }
    s.buffered_bytes += f->text.size();
    s.buffer.push_back(f);
    ++added;
  }
  if (added == 0) return;
  frames_delivered_.fetch_add(added, std::memory_order_relaxed);
  if (was_empty) s.Notify(Signal::kData);
}

std::vector<std::shared_ptr<Subscription::State>> EventHub::AllSubscribers() {
  std::vector<std::shared_ptr<Subscription::State>> all;
  std::lock_guard lock(mu_);
  for (const auto& [ws, subscribers] : by_workspace_) {
    all.insert(all.end(), subscribers->begin(), subscribers->end());
  }
  return all;
}

void EventHub::OverflowEverySubscriber() {
  for (const auto& s : AllSubscribers()) {
    std::lock_guard lock(s->mu);
    if (s->closed) continue;
    s->buffer.clear();
    s->buffered_bytes = 0;
    s->closed = true;
    s->overflowed = true;
    overflows_.fetch_add(1, std::memory_order_relaxed);
    s->Notify(Signal::kOverflowed);
  }
}

void EventHub::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  {
    std::lock_guard lock(queue_mu_);
    stopped_ = true;
    queue_.clear();
  }
  for (const auto& s : AllSubscribers()) {
    std::lock_guard lock(s->mu);
    if (s->closed) continue;
    s->closed = true;
    s->Notify(Signal::kClosed);
  }
}

HubStats EventHub::Stats() const {
  HubStats stats;
  stats.subscribers = subscriber_count_.load(std::memory_order_relaxed);
  stats.overflows = overflows_.load(std::memory_order_relaxed);
  stats.frames_delivered = frames_delivered_.load(std::memory_order_relaxed);
  stats.queue_drops = queue_drops_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace causeloop::stream

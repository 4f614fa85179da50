#include "webhooks/outbound/dispatcher.h"

#include <simdjson.h>

#include <algorithm>
#include <future>

#include "auth/secretbox.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "webhooks/outbound/retry.h"
#include "webhooks/outbound/signing.h"

namespace causeloop::webhooks {
namespace {

constexpr int kPendingPage = 1000;
constexpr size_t kExcerptBytes = 1024;

std::string BusyKey(const model::WebhookDelivery& d) { return d.endpoint_id + "\n" + d.order_key; }

template <typename T>
Result<T> Await(const std::function<void(store::Callback<T>)>& start) {
  auto p = std::make_shared<std::promise<Result<T>>>();
  auto f = p->get_future();
  start([p](Result<T> r) { p->set_value(std::move(r)); });
  return f.get();
}

}  // namespace

Dispatcher::Dispatcher(store::Store& store, net::HttpClient& client, const Clock& clock,
                       Random& jitter, DispatcherOptions options)
    : store_(store),
      client_(client),
      clock_(clock),
      jitter_(jitter),
      options_(std::move(options)) {}

Dispatcher::~Dispatcher() { Stop(); }

std::string Dispatcher::OrderKey(const model::Event& event) {
  simdjson::dom::parser parser;
  simdjson::dom::element data;
  if (parser.parse(event.data_json).get(data) == simdjson::SUCCESS) {
    std::string_view id;
    if (data.at_pointer("/pattern/id").get(id) == simdjson::SUCCESS)
      return "pattern:" + std::string(id);
    if (data.at_pointer("/issue/pattern_id").get(id) == simdjson::SUCCESS && !id.empty()) {
      return "pattern:" + std::string(id);
    }
    if (data.at_pointer("/issue/id").get(id) == simdjson::SUCCESS)
      return "issue:" + std::string(id);
  }
  return "event:" + event.id;
}

bool Dispatcher::Matches(const model::WebhookEndpoint& endpoint, const model::Event& event) {
  if (!endpoint.enabled || event.timestamp < endpoint.created_at) return false;
  const auto& types = endpoint.event_types;
  if (!types.empty() && std::find(types.begin(), types.end(), event.type) == types.end() &&
      std::find(types.begin(), types.end(), "*") == types.end()) {
    return false;
  }
  if (endpoint.connector_ids.empty()) return true;
  // Only events about an issue that came through one of the connectors.
  simdjson::dom::parser parser;
  simdjson::dom::element data;
  std::string_view connector;
  if (parser.parse(event.data_json).get(data) != simdjson::SUCCESS ||
      data.at_pointer("/issue/connector_id").get(connector) != simdjson::SUCCESS) {
    return false;
  }
  return std::find(endpoint.connector_ids.begin(), endpoint.connector_ids.end(), connector) !=
         endpoint.connector_ids.end();
}

Status Dispatcher::LoadEndpoints(const std::string& ws) {
  auto rows = store_.ListWebhookEndpoints(ws);
  if (!rows) return Fail(rows.error());
  std::unordered_map<std::string, std::vector<std::shared_ptr<Endpoint>>> loaded;
  for (auto& row : *rows) {
    auto e = std::make_shared<Endpoint>();
    for (const auto& s : row.secrets) {
      auto plain = auth::Open(options_.secret_key, s.sealed);
      if (!plain) {
        log::Warn("webhook secret cannot be unsealed", {{"webhook_id", row.id}});
        continue;
      }
      e->secrets.emplace_back(std::move(*plain), s.expires_at);
    }
    e->row = std::move(row);
    loaded[e->row.workspace_id].push_back(std::move(e));
  }
  // A first endpoint starts the workspace's cursor (in the store, with the endpoint).
  auto cursors = store_.ListDispatchCursors();
  if (!cursors) return Fail(cursors.error());
  std::lock_guard lock(mu_);
  if (ws.empty()) {
    endpoints_ = std::move(loaded);
  } else {
    endpoints_[ws] = std::move(loaded[ws]);
  }
  for (const auto& [w, seq] : *cursors) cursors_.try_emplace(w, seq);
  return {};
}

Status Dispatcher::Load() {
  if (auto s = LoadEndpoints(""); !s) return s;
  long long after = 0;
  std::vector<model::WebhookDelivery> pending;
  for (;;) {
    auto page = store_.ListPendingDeliveries(after, kPendingPage);
    if (!page) return Fail(page.error());
    for (auto& [rowid, d] : *page) {
      after = rowid;
      pending.push_back(std::move(d));
    }
    if (page->size() < static_cast<size_t>(kPendingPage)) break;
  }
  {
    std::lock_guard lock(mu_);
    for (auto& d : pending) Schedule(std::move(d));
  }
  {
    // Events committed while the server was down are fanned out now.
    std::lock_guard lock(wake_mu_);
    wake_all_ = true;
  }
  return {};
}

Status Dispatcher::Start() {
  if (auto s = Load(); !s) return s;
  thread_ = std::jthread([this](const std::stop_token& st) { Loop(st); });
  return {};
}

void Dispatcher::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    cv_.notify_all();
    thread_.join();
  }
}

void Dispatcher::OnCommitted(const std::vector<model::Event>& events) {
  {
    std::lock_guard lock(wake_mu_);
    for (const auto& e : events) woken_.insert(e.workspace_id);
  }
  cv_.notify_all();
}

void Dispatcher::EndpointsChanged(const std::string& ws) {
  if (auto s = LoadEndpoints(ws); !s) {
    log::Error("webhook endpoints not reloaded", {{"error", s.error().message}});
  }
  {
    std::lock_guard lock(wake_mu_);
    woken_.insert(ws);
  }
  cv_.notify_all();
}

void Dispatcher::Enqueue(const std::vector<model::WebhookDelivery>& deliveries) {
  {
    std::lock_guard lock(mu_);
    for (const auto& d : deliveries) Schedule(d);
    kicked_ = true;
  }
  cv_.notify_all();
}

void Dispatcher::Schedule(model::WebhookDelivery d) {
  if (d.status != model::DeliveryStatus::kPending) return;
  std::string id = d.id;
  auto [it, inserted] = deliveries_.insert_or_assign(id, std::move(d));
  (void)inserted;
  due_.insert(Due{it->second.next_attempt_at, due_seq_++, id});
}

void Dispatcher::FanOut(const std::string& ws) {
  for (;;) {
    std::vector<std::shared_ptr<Endpoint>> endpoints;
    long long cursor = -1;
    {
      std::lock_guard lock(mu_);
      auto e = endpoints_.find(ws);
      if (e == endpoints_.end() || e->second.empty()) return;
      endpoints = e->second;
      auto c = cursors_.find(ws);
      if (c == cursors_.end()) return;  // no endpoint was ever created here
      cursor = c->second;
    }
    auto events = store_.ListEvents(ws, cursor, options_.fanout_batch);
    if (!events) {
      log::Error("webhook fan-out cannot read events", {{"error", events.error().message}});
      return;
    }
    if (events->empty()) return;
    SystemTime now = clock_.Now();
    std::vector<model::WebhookDelivery> deliveries;
    for (const auto& event : *events) {
      std::string key;
      for (const auto& ep : endpoints) {
        if (!Matches(ep->row, event)) continue;
        if (key.empty()) key = OrderKey(event);
        model::WebhookDelivery d;
        d.id = NewId("whd_", now, jitter_);
        d.workspace_id = ws;
        d.endpoint_id = ep->row.id;
        d.event_id = event.id;
        d.event_sequence = event.sequence;
        d.event_type = event.type;
        d.payload = model::EncodeEvent(event);
        d.order_key = key;
        d.next_attempt_at = now;
        d.created_at = now;
        d.updated_at = now;
        deliveries.push_back(std::move(d));
      }
    }
    long long last = events->back().sequence;
    auto added = Await<size_t>([&](store::Callback<size_t> cb) {
      store_.AddDeliveries(ws, deliveries, last, std::move(cb));
    });
    if (!added) {
      log::Error("webhook fan-out not stored", {{"error", added.error().message}});
      return;  // retried on the next wake-up
    }
    {
      std::lock_guard lock(mu_);
      cursors_[ws] = std::max(cursors_[ws], last);
      for (auto& d : deliveries) Schedule(std::move(d));
    }
    if (events->size() < static_cast<size_t>(options_.fanout_batch)) return;
  }
}

void Dispatcher::RunOnce() {
  std::set<std::string> woken;
  bool all = false;
  {
    std::lock_guard lock(wake_mu_);
    woken.swap(woken_);
    all = wake_all_;
    wake_all_ = false;
  }
  if (all) {
    std::vector<std::string> every;
    {
      std::lock_guard lock(mu_);
      for (const auto& [ws, eps] : endpoints_) every.push_back(ws);
    }
    woken.insert(every.begin(), every.end());
  }
  for (const auto& ws : woken) FanOut(ws);

  // Attempts are started after mu_ is released: the client may call back at once.
  std::vector<Attempt> starting;
  {
    std::lock_guard lock(mu_);
    SystemTime now = clock_.Now();
    while (!due_.empty() && in_flight_ < options_.max_in_flight) {
      Due next = *due_.begin();
      if (next.at > now) break;
      due_.erase(due_.begin());
      auto it = deliveries_.find(next.delivery_id);
      if (it == deliveries_.end() || it->second.next_attempt_at != next.at) continue;  // stale
      std::string key = BusyKey(it->second);
      if (busy_keys_.count(key) != 0) {
        waiting_[key].push_back(next.delivery_id);  // goes when the one in flight is done
        continue;
      }
      busy_keys_.insert(key);
      ++in_flight_;
      ++attempts_;
      starting.push_back(PrepareAttempt(it->second, now));
    }
  }
  for (auto& a : starting) {
    if (!a.request) {
      Finish(a.delivery_id, a.failure, a.started);
      continue;
    }
    std::string id = a.delivery_id;
    SystemTime started = a.started;
    client_.Send(std::move(*a.request),
                 [this, id, started](const net::HttpResult& r) { Finish(id, r, started); });
  }
}

Dispatcher::Attempt Dispatcher::PrepareAttempt(const model::WebhookDelivery& d, SystemTime now) {
  Attempt a;
  a.delivery_id = d.id;
  a.started = now;
  std::shared_ptr<Endpoint> endpoint;
  if (auto e = endpoints_.find(d.workspace_id); e != endpoints_.end()) {
    for (const auto& ep : e->second) {
      if (ep->row.id == d.endpoint_id) endpoint = ep;
    }
  }
  if (!endpoint || !endpoint->row.enabled) {
    // Deleted or disabled: the delivery fails now (recover re-sends it once re-enabled).
    a.failure.error = endpoint ? "endpoint disabled" : "endpoint deleted";
    a.failure.refused = true;
    return a;
  }
  std::vector<std::string> live;
  for (const auto& [secret, expires] : endpoint->secrets) {
    if (model::SecretIsLive(expires, now)) live.push_back(secret);
  }
  net::HttpRequest req;
  req.url = endpoint->row.url;
  req.body = d.payload;
  req.timeout = options_.timeout;
  req.pool_key = d.endpoint_id;
  req.headers = DeliveryHeaders(
      d.event_id, d.event_type,
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(), d.payload,
      live, options_.version);
  a.request = std::move(req);
  return a;
}

void Dispatcher::Finish(const std::string& id, const net::HttpResult& result, SystemTime started) {
  store::AttemptRecord rec;
  bool failing_long = false;
  {
    std::unique_lock lock(mu_);
    auto it = deliveries_.find(id);
    if (it == deliveries_.end()) {
      lock.unlock();
      Release(id);  // not expected: the delivery is kept while in flight
      return;
    }
    model::WebhookDelivery& d = it->second;
    SystemTime now = clock_.Now();
    Outcome outcome = Decide(d.cycle_attempts + 1, result, now, jitter_);
    rec.workspace_id = d.workspace_id;
    rec.endpoint_id = d.endpoint_id;
    rec.delivery_id = d.id;
    rec.attempt.number = d.attempts + 1;
    rec.attempt.at = started;
    rec.attempt.status_code = result.status;
    rec.attempt.latency_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(result.latency).count();
    rec.attempt.error = result.error;
    rec.attempt.response_excerpt = result.body_excerpt.substr(0, kExcerptBytes);
    rec.cycle_attempts = d.cycle_attempts + 1;
    rec.next_attempt_at = now;
    switch (outcome.kind) {
      case Outcome::kDelivered:
        rec.status = model::DeliveryStatus::kDelivered;
        rec.endpoint_ok = true;
        break;
      case Outcome::kRetry:
        rec.status = model::DeliveryStatus::kPending;
        rec.next_attempt_at = outcome.next_attempt_at;
        break;
      case Outcome::kFailed:
        rec.status = model::DeliveryStatus::kFailed;
        break;
      case Outcome::kDisableEndpoint:
        rec.status = model::DeliveryStatus::kFailed;
        rec.disable_reason = "gone";
        break;
    }
    if (!rec.endpoint_ok && rec.disable_reason.empty()) {
      if (auto e = endpoints_.find(d.workspace_id); e != endpoints_.end()) {
        for (const auto& ep : e->second) {
          if (ep->row.id != d.endpoint_id || !ep->row.enabled) continue;
          SystemTime since = ep->row.failing_since.value_or(started);
          failing_long = ShouldDisableEndpoint(since, now);
        }
      }
      if (failing_long) rec.disable_reason = "failing";
    }
  }
  auto endpoint_id = rec.endpoint_id;
  auto ws = rec.workspace_id;
  bool ok = rec.endpoint_ok;
  std::string disable = rec.disable_reason;
  SystemTime at = rec.attempt.at;
  store_.RecordAttempt(std::move(rec), [this, id, ws, endpoint_id, ok, disable,
                                        at](Result<model::WebhookDelivery> r) {
    {
      std::lock_guard lock(mu_);
      if (auto e = endpoints_.find(ws); e != endpoints_.end()) {
        for (const auto& ep : e->second) {
          if (ep->row.id != endpoint_id) continue;
          if (ok) {
            ep->row.failing_since.reset();
          } else if (!ep->row.failing_since) {
            ep->row.failing_since = at;
          }
          if (!disable.empty()) {
            ep->row.enabled = false;
            ep->row.disabled_reason = disable;
          }
        }
      }
      auto it = deliveries_.find(id);
      if (it != deliveries_.end()) {
        if (!r) {
          // Not recorded (the store is closing or failing): try again from the same state.
          log::Error("delivery attempt not recorded", {{"error", r.error().message}});
          it->second.next_attempt_at = clock_.Now() + std::chrono::seconds(5);
          due_.insert(Due{it->second.next_attempt_at, due_seq_++, id});
        } else {
          it->second = std::move(*r);
          if (it->second.status == model::DeliveryStatus::kPending) {
            due_.insert(Due{it->second.next_attempt_at, due_seq_++, id});
          } else {
            if (it->second.status == model::DeliveryStatus::kDelivered) ++delivered_;
            // Keep the busy key until the waiting ones are re-queued below.
          }
        }
      }
    }
    Release(id);
  });
}

void Dispatcher::Release(const std::string& id) {
  // Notified under mu_: once the lock is released, Stop() may return and the dispatcher be
  // destroyed, so nothing here may touch `this` after the lock is dropped.
  std::lock_guard lock(mu_);
  auto it = deliveries_.find(id);
  if (it != deliveries_.end()) {
    std::string key = BusyKey(it->second);
    busy_keys_.erase(key);
    if (auto w = waiting_.find(key); w != waiting_.end()) {
      SystemTime now = clock_.Now();
      for (const auto& waiting_id : w->second) {
        auto d = deliveries_.find(waiting_id);
        if (d == deliveries_.end()) continue;
        d->second.next_attempt_at = std::min(d->second.next_attempt_at, now);
        due_.insert(Due{d->second.next_attempt_at, due_seq_++, waiting_id});
      }
      waiting_.erase(w);
    }
    if (it->second.status != model::DeliveryStatus::kPending) deliveries_.erase(it);
  }
  --in_flight_;
  kicked_ = true;
  cv_.notify_all();
  idle_cv_.notify_all();
}

std::optional<SystemTime> Dispatcher::NextDue() const {
  std::lock_guard lock(mu_);
  if (due_.empty()) return std::nullopt;
  return due_.begin()->at;
}

DispatcherStats Dispatcher::Stats() const {
  std::lock_guard lock(mu_);
  return DispatcherStats{deliveries_.size(), in_flight_, attempts_, delivered_};
}

void Dispatcher::Loop(const std::stop_token& stop) {
  NameThisThread("cl-webhooks");
  while (!stop.stop_requested()) {
    {
      std::lock_guard lock(mu_);
      kicked_ = false;
    }
    RunOnce();
    std::unique_lock lock(mu_);
    // New events, or room / new work for attempts (an attempt finished, deliveries queued).
    auto woken = [this] {
      if (kicked_) return true;
      std::lock_guard w(wake_mu_);
      return !woken_.empty() || wake_all_;
    };
    if (woken()) continue;
    std::chrono::milliseconds wait{1000};
    if (!due_.empty() && in_flight_ < options_.max_in_flight) {
      auto until = due_.begin()->at - clock_.Now();
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until),
                        std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
    }
    cv_.wait_for(lock, stop, wait, [&] { return woken(); });
  }
  // Let attempts in flight be recorded: their completions call back into this object, so it
  // must outlive them. The HTTP client bounds each attempt by its timeout and the store
  // answers every submitted write (with an error once closing), so this wait ends.
  std::unique_lock lock(mu_);
  while (!idle_cv_.wait_for(lock, std::chrono::seconds(20), [this] { return in_flight_ == 0; })) {
    log::Warn("webhook dispatcher still waiting for attempts in flight",
              {{"in_flight", std::to_string(in_flight_)}});
  }
}

}  // namespace causeloop::webhooks

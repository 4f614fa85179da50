#pragma once
// The outbound delivery engine (SPEC §7.2): turns committed events into durable deliveries
// and sends them with retries.
//
// Fan-out: each workspace has a dispatch cursor in the store. Woken by the store's commit
// observer, the dispatcher reads the events after the cursor, creates one delivery per
// matching endpoint and moves the cursor in the same transaction — so every event is fanned
// out exactly once, also across crashes (a restart resumes from the cursor).
// Sending: pending deliveries wait in a due-time queue (loaded from the store on start, so a
// retry that fell due while the server was down runs right after it starts). Each attempt
// is signed (signing.h), sent through the SSRF-guarded HTTP client, and its outcome is
// written (RecordAttempt) before the next step of that delivery: at-least-once. Deliveries
// with the same order key (the event's pattern, else its issue) to one endpoint go one at a
// time, in sequence order. An endpoint that answers 410 is disabled at once; one failing for
// 5 days is disabled with webhook.endpoint_disabled.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "model/webhook.h"
#include "net/http_client.h"
#include "store/store.h"

namespace causeloop::webhooks {

struct DispatcherOptions {
  std::string version = "0.0.0";  // user-agent: causeloop/<version>
  std::string secret_key;         // 32 bytes: unseals the endpoints' signing secrets
  std::chrono::milliseconds timeout{15'000};
  size_t max_in_flight = 1024;  // attempts in flight over all endpoints
  int fanout_batch = 500;       // events read per fan-out step
};

struct DispatcherStats {
  size_t pending = 0;    // deliveries waiting for an attempt
  size_t in_flight = 0;  // attempts on the wire or being recorded
  long long attempts = 0;
  long long delivered = 0;
};

class Dispatcher final : public store::CommitObserver {
 public:
  Dispatcher(store::Store& store, net::HttpClient& client, const Clock& clock, Random& jitter,
             DispatcherOptions options);
  ~Dispatcher() override;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Loads endpoints, cursors and pending deliveries. Called by Start(); tests that drive
  // the dispatcher with RunOnce() call it directly.
  Status Load();
  // Load() and the dispatcher thread.
  Status Start();
  // Stops the thread; attempts in flight finish being recorded first (bounded by the HTTP
  // client's own stop). Idempotent.
  void Stop();

  // store::CommitObserver: wakes the fan-out of the events' workspaces. Never blocks.
  void OnCommitted(const std::vector<model::Event>& events) override;
  // An endpoint was created, changed or deleted through the API.
  void EndpointsChanged(const std::string& workspace_id);
  // Deliveries made pending again (redeliver, recover, test pings): schedule them.
  void Enqueue(const std::vector<model::WebhookDelivery>& deliveries);

  // One step without the thread: fans out woken workspaces, then starts every due attempt
  // the limits allow. Returns when those attempts are started (not finished).
  void RunOnce();
  // When the next queued delivery is due (nullopt: none queued).
  [[nodiscard]] std::optional<SystemTime> NextDue() const;
  [[nodiscard]] DispatcherStats Stats() const;

  // The order key of an event: its pattern, else its issue, else the event itself.
  static std::string OrderKey(const model::Event& event);
  // Whether `endpoint` takes `event` (type filter, connector filter, created before it).
  static bool Matches(const model::WebhookEndpoint& endpoint, const model::Event& event);

 private:
  struct Endpoint {
    model::WebhookEndpoint row;
    std::vector<std::pair<std::string, std::optional<SystemTime>>> secrets;  // unsealed
  };
  struct Due {
    SystemTime at;
    long long seq;  // FIFO among equal times
    std::string delivery_id;
    bool operator<(const Due& o) const { return at != o.at ? at < o.at : seq < o.seq; }
  };

  struct Attempt {
    std::string delivery_id;
    SystemTime started{};
    std::optional<net::HttpRequest> request;  // nullopt: fails at once with `failure`
    net::HttpResult failure;
  };

  Status LoadEndpoints(const std::string& workspace_id);  // empty: all
  void FanOut(const std::string& workspace_id);
  void Schedule(model::WebhookDelivery delivery);                           // mu_ held
  Attempt PrepareAttempt(const model::WebhookDelivery& d, SystemTime now);  // mu_ held
  void Finish(const std::string& delivery_id, const net::HttpResult& result, SystemTime started);
  void Release(const std::string& delivery_id);  // after the outcome is recorded
  void Loop(const std::stop_token& stop);

  store::Store& store_;
  net::HttpClient& client_;
  const Clock& clock_;
  Random& jitter_;
  DispatcherOptions options_;

  // Workspaces with new events; guarded by wake_mu_ only (OnCommitted runs on the store's
  // completion thread, which the dispatcher may be waiting on while it holds mu_).
  std::mutex wake_mu_;
  std::set<std::string> woken_;
  bool wake_all_ = false;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Endpoint>>> endpoints_;  // by ws
  std::unordered_map<std::string, long long> cursors_;
  std::unordered_map<std::string, model::WebhookDelivery> deliveries_;  // pending, by id
  std::set<Due> due_;
  long long due_seq_ = 0;
  std::unordered_set<std::string> busy_keys_;  // endpoint + order key with an attempt in flight
  std::unordered_map<std::string, std::vector<std::string>> waiting_;  // busy key -> ids
  size_t in_flight_ = 0;
  bool kicked_ = false;  // an attempt finished or deliveries were queued: run again now
  long long attempts_ = 0;
  long long delivered_ = 0;
  std::condition_variable_any idle_cv_;
  std::jthread thread_;
};

}  // namespace causeloop::webhooks

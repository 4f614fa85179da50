#pragma once
// Idempotency-Key handling (SPEC §4) on top of a durable IdempotencyStore.
//
// - A stored response for (workspace, key, method, path) with the same request hash is
//   replayed with "Idempotency-Replayed: true" and the handler does not run; a different
//   hash answers 422 unprocessable.
// - Concurrent requests with one key run the handler once: the first one runs it, later
//   ones (same hash) wait for it in memory. When it succeeded they get the replay; when it
//   failed (non-2xx, or the store could not save) they get 409 conflict, and the client may
//   retry with the same key. A waiting request with a different hash gets 422 at once.
// - A 2xx is saved through IdempotencyStore::Save and handed to the client only after
//   Save's callback, so once a client has seen a 2xx a retry is guaranteed to be a replay.
//   If Save fails the client gets 503 unavailable instead of the 2xx.
// - Non-2xx responses are not stored.
// The in-flight map is per process; across nodes the store is what dedups. Thread-safe.

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/types.h"

namespace causeloop::http {

class IdempotencyGate {
 public:
  // `store` may not be null and must outlive the gate.
  explicit IdempotencyGate(IdempotencyStore& store) : store_(store) {}

  // REQUIRES: request.principal is set; 1 <= key.size() <= 255.
  // Either calls `run` with a responder that the handler must call once, or answers
  // `respond` directly (replay, 422, 409, store errors). `respond` is called exactly once.
  void Handle(const Request& request, std::string_view key,
              const std::function<void(Responder)>& run, Responder respond);

  // The request hash: SHA-256 hex of method + "\n" + path + "\n" + body.
  static std::string RequestHash(const Request& request);

 private:
  struct Waiter {
    std::string request_id;
    Responder respond;
  };
  struct InFlight {
    std::string request_hash;
    std::vector<Waiter> waiters;
  };
  // Removes the in-flight entry and answers its waiters: with `stored` when set, else 409.
  void Finish(const std::string& map_key, const StoredResponse* stored);

  IdempotencyStore& store_;
  std::mutex mu_;
  std::unordered_map<std::string, InFlight> in_flight_;  // guarded by mu_
};

// The replay of a stored response.
Response ReplayResponse(const StoredResponse& stored);

}  // namespace causeloop::http

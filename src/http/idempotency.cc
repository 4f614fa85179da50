#include "http/idempotency.h"

#include <memory>

#include "auth/crypto.h"
#include "core/log.h"

namespace causeloop::http {

namespace {
bool Is2xx(int status) { return status >= 200 && status < 300; }

Response Unprocessable(std::string_view request_id) {
  return ErrorResponse(Error{ErrorCode::kUnprocessable,
                             "Idempotency-Key was already used with a different request body",
                             {{"Idempotency-Key", "reused with a different request"}}},
                       request_id);
}
}  // namespace

std::string IdempotencyGate::RequestHash(const Request& request) {
  std::string material;
  material.reserve(request.method_name.size() + request.path.size() + request.body.size() + 2);
  material += request.method_name;
  material.push_back('\n');
  material += request.path;
  material.push_back('\n');
  material += request.body;
  return auth::Sha256Hex(material);
}

Response ReplayResponse(const StoredResponse& stored) {
  Response r;
  r.status = stored.status;
  r.body = stored.body;
  if (!stored.content_type.empty()) r.content_type = stored.content_type;
  r.SetHeader("Idempotency-Replayed", "true");
  return r;
}

void IdempotencyGate::Handle(const Request& request, std::string_view key,
                             const std::function<void(Responder)>& run, Responder respond) {
  const std::string& workspace = request.principal->workspace_id;
  std::string map_key;
  map_key.reserve(workspace.size() + key.size() + request.method_name.size() + request.path.size() +
                  3);
  map_key.append(workspace).push_back('\0');
  map_key.append(key).push_back('\0');
  map_key.append(request.method_name).push_back('\0');
  map_key.append(request.path);
  std::string hash = RequestHash(request);

  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(map_key);
    if (it != in_flight_.end()) {
      if (it->second.request_hash != hash) {
        respond(Unprocessable(request.request_id));
      } else {
        it->second.waiters.push_back(Waiter{request.request_id, std::move(respond)});
      }
      return;
    }
    in_flight_.emplace(map_key, InFlight{hash, {}});
  }

  const std::string key_str(key);
  Result<std::optional<StoredResponse>> found =
      store_.Find(workspace, key_str, request.method_name, request.path);
  if (!found) {
    Finish(map_key, nullptr);
    respond(ErrorResponse(found.error(), request.request_id));
    return;
  }
  if (found->has_value()) {
    const StoredResponse& stored = **found;
    if (stored.request_hash != hash) {
      // Waiters carry the same hash as this request, so they get the 422 too.
      std::vector<Waiter> waiters;
      {
        std::lock_guard lock(mu_);
        auto it = in_flight_.find(map_key);
        waiters = std::move(it->second.waiters);
        in_flight_.erase(it);
      }
      for (Waiter& w : waiters) w.respond(Unprocessable(w.request_id));
      respond(Unprocessable(request.request_id));
      return;
    }
    Finish(map_key, &stored);
    respond(ReplayResponse(stored));
    return;
  }

  // Not seen before: run the handler once. The responder may be called from any thread,
  // later; the captured copies keep everything the save needs alive.
  auto once = std::make_shared<std::atomic<bool>>(false);
  Responder wrapped = [this, once, map_key, hash, workspace, key_str, method = request.method_name,
                       path = request.path, request_id = request.request_id,
                       respond = std::move(respond)](Response response) {
    if (once->exchange(true)) {
      log::Warn("responder called twice; ignored", {{"request_id", request_id}});
      return;
    }
    if (!Is2xx(response.status)) {
      Finish(map_key, nullptr);
      respond(std::move(response));
      return;
    }
    StoredResponse stored{hash, response.status, response.body, response.content_type};
    auto shared_response = std::make_shared<Response>(std::move(response));
    store_.Save(workspace, key_str, method, path, stored,
                [this, map_key, stored, shared_response, request_id, respond](const Status& saved) {
                  if (!saved) {
                    log::Error("idempotency: save failed",
                               {{"request_id", request_id}, {"error", saved.error().message}});
                    Finish(map_key, nullptr);
                    respond(ErrorResponse(Error{ErrorCode::kUnavailable,
                                                "the response could not be recorded; retry "
                                                "with the same Idempotency-Key",
                                                {}},
                                          request_id));
                    return;
                  }
                  Finish(map_key, &stored);
                  respond(std::move(*shared_response));
                });
  };
  run(std::move(wrapped));
}

void IdempotencyGate::Finish(const std::string& map_key, const StoredResponse* stored) {
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(map_key);
    if (it == in_flight_.end()) return;
    waiters = std::move(it->second.waiters);
    in_flight_.erase(it);
  }
  for (Waiter& w : waiters) {
    if (stored != nullptr) {
      w.respond(ReplayResponse(*stored));
    } else {
      w.respond(ErrorResponse(Error{ErrorCode::kConflict,
                                    "a concurrent request with this Idempotency-Key did not "
                                    "succeed; retry",
                                    {}},
                              w.request_id));
    }
  }
}

}  // namespace causeloop::http

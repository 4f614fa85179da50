#pragma once
// The server's IdempotencyStore on top of the store (24 h window, SPEC §4).

#include "core/clock.h"
#include "http/types.h"
#include "store/store.h"

namespace causeloop::http::api {

class StoreIdempotency final : public IdempotencyStore {
 public:
  StoreIdempotency(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  Result<std::optional<StoredResponse>> Find(const std::string& workspace_id,
                                             const std::string& key, const std::string& method,
                                             const std::string& path) override {
    auto r = store_.FindIdempotent(workspace_id, key, method, path,
                                   clock_.Now() - std::chrono::hours(24));
    if (!r) return Fail(r.error());
    if (!*r) return std::optional<StoredResponse>{};
    const auto& s = **r;
    return std::optional<StoredResponse>{
        StoredResponse{s.request_hash, s.status, s.body, s.content_type}};
  }

  void Save(const std::string& workspace_id, const std::string& key, const std::string& method,
            const std::string& path, StoredResponse response,
            std::function<void(Status)> done) override {
    store_.SaveIdempotent(
        workspace_id, key, method, path,
        store::StoredResponse{std::move(response.request_hash), response.status,
                              std::move(response.body), std::move(response.content_type)},
        std::move(done));
  }

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace causeloop::http::api

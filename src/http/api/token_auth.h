#pragma once
// Bearer-token authentication against the store, with a short verified-token cache
// (≤ 2 s, SPEC §3) and batched last_used_at updates.

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "http/types.h"
#include "store/store.h"

namespace causeloop::http::api {

class TokenAuthenticator final : public Authenticator {
 public:
  TokenAuthenticator(store::Store& store, const Clock& clock,
                     std::chrono::milliseconds cache_ttl = std::chrono::seconds(2))
      : store_(store), clock_(clock), cache_ttl_(cache_ttl) {}

  // kUnauthorized for unknown, revoked, expired or rotated-out tokens.
  Result<Principal> Authenticate(std::string_view bearer_token) override;
  // Drops cached verifications of `token_id` (after a revoke or rotate on this node).
  void Invalidate(const std::string& token_id);
  // Writes the collected last_used_at times. Called periodically by the app.
  void FlushLastUsed();

 private:
  struct Cached {
    Principal principal;
    SystemTime valid_until{};
  };
  store::Store& store_;
  const Clock& clock_;
  const std::chrono::milliseconds cache_ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;               // by token hash; guarded by mu_
  std::unordered_map<std::string, std::string> workspace_org_;  // guarded by mu_
  std::map<std::string, SystemTime> last_used_;                 // guarded by mu_
};

}  // namespace causeloop::http::api

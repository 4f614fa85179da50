#include "http/api/token_auth.h"

#include "auth/tokens.h"

namespace causeloop::http::api {

Result<Principal> TokenAuthenticator::Authenticate(std::string_view bearer) {
  auto unauthorized = [] {
    return Fail(ErrorCode::kUnauthorized, "missing, invalid, expired or revoked token");
  };
  if (!auth::LooksLikeToken(bearer)) return unauthorized();
  std::string hash = auth::HashTokenSecret(bearer);
  SystemTime now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.valid_until > now) {
      last_used_[it->second.principal.token_id] = now;
      return it->second.principal;
    }
  }
  auto found = store_.FindTokenByHash(hash);
  if (!found) return Fail(found.error());
  if (!*found) return unauthorized();
  const model::ApiToken& t = **found;
  if (t.revoked_at) return unauthorized();
  if (t.expires_at && *t.expires_at <= now) return unauthorized();
  Principal p;
  p.workspace_id = t.workspace_id;
  p.token_id = t.id;
  p.scopes = t.scopes;
  std::string org;
  {
    std::lock_guard lock(mu_);
    auto o = workspace_org_.find(t.workspace_id);
    if (o != workspace_org_.end()) org = o->second;
  }
  if (org.empty()) {
    auto ws = store_.GetWorkspace(t.workspace_id);
    if (!ws) return unauthorized();
    org = ws->organization_id;
  }
  p.organization_id = org;
  // Never cache past the moment the token (or its grace period) ends.
  SystemTime valid_until = now + cache_ttl_;
  if (t.expires_at && *t.expires_at < valid_until) valid_until = *t.expires_at;
  if (t.hash_hex != hash && t.previous_expires_at && *t.previous_expires_at < valid_until) {
    valid_until = *t.previous_expires_at;
  }
  std::lock_guard lock(mu_);
  workspace_org_[t.workspace_id] = org;
  if (cache_.size() > 100000) cache_.clear();  // bound memory under token churn
  cache_[hash] = Cached{p, valid_until};
  last_used_[t.id] = now;
  return p;
}

void TokenAuthenticator::Invalidate(const std::string& token_id) {
  std::lock_guard lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.principal.token_id == token_id) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
}

void TokenAuthenticator::FlushLastUsed() {
  std::map<std::string, SystemTime> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(last_used_);
  }
  store_.TouchTokens(batch);
}

}  // namespace causeloop::http::api

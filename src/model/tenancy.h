#pragma once
// Organizations, workspaces and API tokens (SPEC §3).

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace causeloop::model {

struct Organization {
  std::string id;  // org_…
  std::string name;
  SystemTime created_at{};
};

struct Workspace {
  std::string id;  // ws_…
  std::string organization_id;
  std::string name;
  SystemTime created_at{};
};

struct ApiToken {
  std::string id;  // tok_…
  std::string workspace_id;
  std::string name;
  std::vector<std::string> scopes;
  std::string hash_hex;  // SHA-256 of the secret; the secret itself is never stored
  std::string prefix;    // first characters of the secret, safe to show ("clp_AbCd")
  std::optional<SystemTime> expires_at;
  std::optional<SystemTime> last_used_at;
  std::optional<SystemTime> revoked_at;
  // After a rotation with grace: the previous secret's hash and when it stops working.
  std::string previous_hash_hex;
  std::optional<SystemTime> previous_expires_at;
  SystemTime created_at{};
};

}  // namespace causeloop::model

#include "auth/scopes.h"

#include <array>

namespace causeloop::auth {
namespace {
constexpr std::array<ScopeInfo, 15> kScopes = {{
    {"issues:read", "Read issues, their similar issues and explanations"},
    {"issues:write", "Create, update, resolve and bulk-edit issues"},
    {"patterns:read", "Read patterns"},
    {"patterns:write", "Rename, change status and merge patterns"},
    {"predictions:read", "Read recurrence predictions"},
    {"recommendations:read", "Read fix recommendations"},
    {"recommendations:write", "Change recommendation status"},
    {"ingest:write", "Push signals through the ingestion API and alert webhooks"},
    {"connectors:read", "Read connectors, their syncs and health"},
    {"connectors:admin", "Create, change, sync and delete connectors"},
    {"webhooks:read", "Read outbound webhook endpoints and deliveries"},
    {"webhooks:admin", "Create, change and delete outbound webhook endpoints"},
    {"events:read", "Read the event log and the live stream"},
    {"tokens:admin", "Create, rotate and revoke API tokens"},
    {"workspace:admin", "Change workspace settings"},
}};
}  // namespace

std::span<const ScopeInfo> AllScopes() { return kScopes; }

bool IsKnownScope(std::string_view scope) {
  for (const auto& s : kScopes) {
    if (s.name == scope) return true;
  }
  return false;
}

bool HasScope(const std::vector<std::string>& granted, std::string_view required) {
  auto colon = required.find(':');
  std::string_view resource = required.substr(0, colon);
  for (const auto& g : granted) {
    if (g == required) return true;
    // "<resource>:admin" implies every scope of that resource.
    if (colon != std::string_view::npos && g.size() == resource.size() + 6 &&
        std::string_view(g).substr(0, resource.size()) == resource &&
        std::string_view(g).substr(resource.size()) == ":admin") {
      return true;
    }
  }
  return false;
}

}  // namespace causeloop::auth

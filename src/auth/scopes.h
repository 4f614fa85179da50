#pragma once
// The scope vocabulary (SPEC §3) and the check every route uses.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace causeloop::auth {

struct ScopeInfo {
  std::string_view name;
  std::string_view description;
};

// Every scope, in documentation order.
std::span<const ScopeInfo> AllScopes();
bool IsKnownScope(std::string_view scope);

// True when `granted` holds `required`, directly or through the matching ":admin" scope
// (e.g. "connectors:admin" implies "connectors:read"; "webhooks:admin" implies "webhooks:read").
bool HasScope(const std::vector<std::string>& granted, std::string_view required);

}  // namespace causeloop::auth

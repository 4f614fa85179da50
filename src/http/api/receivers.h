#pragma once
// Shared by the inbound receivers (inbound_api.cc) and the resources that configure them
// (connectors_api.cc): the alert-tool providers of SPEC §6.2 and receiver URLs.

#include <array>
#include <string>
#include <string_view>

#include "http/api/api.h"
#include "http/types.h"

namespace causeloop::http::api {

// SPEC §6.2's providers, in documentation order.
inline constexpr std::array<std::string_view, 7> kAlertProviders = {
    "custom", "datadog", "grafana", "alertmanager", "cloudwatch", "sentry", "pagerduty"};

inline const std::array<std::string_view, 7>& AlertProviders() { return kAlertProviders; }

inline bool IsAlertProvider(std::string_view provider) {
  for (std::string_view p : kAlertProviders) {
    if (p == provider) return true;
  }
  return false;
}

// "--public-url" when set, else "http://" + the request's Host header, without a trailing '/'.
std::string ReceiverBaseUrl(const ApiContext& ctx, const Request& req);

}  // namespace causeloop::http::api

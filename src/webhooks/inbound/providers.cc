// Dispatch of provider webhooks, delivery ids, and the helpers every provider shares.

#include "webhooks/inbound/providers.h"

#include <charconv>

#include "auth/crypto.h"
#include "normalize/text.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound {
namespace {

constexpr size_t kMaxDeliveryIdBytes = 200;
constexpr int64_t kMaxEpochSeconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr int64_t kSecondsBelow = 100'000'000'000;  // 10^11 s is year 5138; 10^11 ms is 1973

// "custom_api" is the connector type of the custom provider; both name it.
std::string_view Canonical(std::string_view provider) {
  return provider == "custom_api" ? std::string_view("custom") : provider;
}

std::optional<std::string> StringOrNumber(simdjson::dom::element e) {
  std::string_view s;
  int64_t i = 0;
  uint64_t u = 0;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  if (e.get_int64().get(i) == simdjson::SUCCESS) return std::to_string(i);
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return std::to_string(u);
  return std::nullopt;
}

std::optional<std::string> PayloadId(simdjson::dom::element payload,
                                     std::initializer_list<std::string_view> path) {
  simdjson::dom::element e = payload;
  for (std::string_view key : path) {
    simdjson::dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
    if (obj.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
  }
  auto id = StringOrNumber(e);
  if (!id || normalize::TrimAscii(*id).empty()) return std::nullopt;
  return std::string(normalize::TrimAscii(*id));
}

}  // namespace

const char* ActionName(Action action) {
  switch (action) {
    case Action::kUpsert:
      return "upsert";
    case Action::kResolve:
      return "resolve";
    case Action::kIgnore:
      return "ignore";
  }
  return "ignore";
}

bool IsWebhookProvider(std::string_view provider) {
  for (std::string_view p : {"github", "jira", "pagerduty", "sentry", "alertmanager", "grafana",
                             "datadog", "cloudwatch", "custom"}) {
    if (p == Canonical(provider)) return true;
  }
  return false;
}

Result<std::vector<InboundRecord>> ParseWebhook(std::string_view provider,
                                                const HeaderLookup& headers,
                                                simdjson::dom::element payload) {
  std::string_view p = Canonical(provider);
  if (p == "github") return internal::ParseGitHub(headers, payload);
  if (p == "jira") return internal::ParseJira(payload);
  if (p == "pagerduty") return internal::ParsePagerDuty(payload);
  if (p == "sentry") return internal::ParseSentry(headers, payload);
  if (p == "alertmanager") return internal::ParseAlertmanager(payload);
  if (p == "grafana") return internal::ParseGrafana(payload);
  if (p == "datadog") return internal::ParseDatadog(payload);
  if (p == "cloudwatch") return internal::ParseCloudWatch(payload);
  if (p == "custom") return internal::ParseCustom(payload);
  return Fail(ErrorCode::kNotFound, "unknown webhook provider \"" + std::string(provider) + "\"");
}

std::optional<std::string> DeliveryId(std::string_view provider, const HeaderLookup& headers,
                                      simdjson::dom::element payload) {
  std::string_view p = Canonical(provider);
  std::optional<std::string> id;
  if (p == "github") {
    id = internal::HeaderValue(headers, "x-github-delivery");
  } else if (p == "jira") {
    id = internal::HeaderValue(headers, "x-atlassian-webhook-identifier");
  } else if (p == "pagerduty") {
    id = PayloadId(payload, {"event", "id"});
    if (!id) id = internal::HeaderValue(headers, "x-webhook-id");
  } else if (p == "sentry") {
    id = internal::HeaderValue(headers, "request-id");
  } else if (p == "cloudwatch") {
    id = PayloadId(payload, {"MessageId"});
  } else if (p == "datadog") {
    id = PayloadId(payload, {"id"});
  } else if (p == "alertmanager" || p == "grafana") {
    id = internal::AlertGroupDeliveryId(payload);
  }
  if (!id) id = internal::HeaderValue(headers, "webhook-id");
  if (id && id->size() > kMaxDeliveryIdBytes) id = "h_" + auth::Sha256Hex(*id).substr(0, 32);
  return id;
}

namespace internal {

Result<InboundRecord> Finish(model::IssueRecord record, std::string_view source, Action action) {
  record.source = std::string(source);
  record.connector_id.clear();
  if (action == Action::kResolve && record.status != model::IssueStatus::kClosed) {
    record.status = model::IssueStatus::kResolved;
  }
  auto finalized = normalize::internal::Finalize(std::move(record));
  if (!finalized) return Fail(std::move(finalized.error()));
  return InboundRecord{std::move(*finalized), action};
}

Error Under(Error error, std::string_view parent) {
  std::string field = error.details.empty() ? std::string() : error.details[0].first;
  std::string path = field.empty() ? std::string(parent) : std::string(parent) + "." + field;
  error.message = std::string(parent) + ": " + error.message;
  error.details.clear();
  error.details.emplace_back(std::move(path), error.message);
  return error;
}

std::optional<std::string> HeaderValue(const HeaderLookup& headers, std::string_view name) {
  auto value = headers(name);
  if (!value) return std::nullopt;
  std::string_view v = normalize::TrimAscii(*value);
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

std::optional<SystemTime> EpochTime(simdjson::dom::element value) {
  int64_t n = -1;
  double d = 0;
  std::string_view s;
  if (value.get_int64().get(n) == simdjson::SUCCESS) {
    // n as is
  } else if (value.get_double().get(d) == simdjson::SUCCESS && d >= 0 && d < 1e15) {
    n = static_cast<int64_t>(d);
  } else if (value.get_string().get(s) == simdjson::SUCCESS) {
    s = normalize::TrimAscii(s);
    if (s.empty() || s.size() > 15) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  }
  if (n < 0) return std::nullopt;
  int64_t millis = n < kSecondsBelow ? n * 1000 : n;
  if (millis / 1000 > kMaxEpochSeconds) return std::nullopt;
  return SystemTime(Millis(millis));
}

void AddTags(simdjson::dom::element tags, model::IssueRecord& record) {
  auto add = [&record](std::string_view tag) {
    tag = normalize::TrimAscii(tag);
    size_t colon = tag.find(':');
    std::string key(normalize::TrimAscii(tag.substr(0, colon)));
    std::string value(colon == std::string_view::npos ? "" : tag.substr(colon + 1));
    if (key.empty()) return;
    if (key == "service" && record.service.empty()) record.service = value;
    if ((key == "env" || key == "environment") && record.environment.empty()) {
      record.environment = value;
    }
    if (key == "team" && record.team.empty()) record.team = value;
    record.labels[key] = value;
  };
  std::string_view text;
  simdjson::dom::array arr;
  if (tags.get_string().get(text) == simdjson::SUCCESS) {
    while (!text.empty()) {
      size_t comma = text.find(',');
      add(text.substr(0, comma));
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
  } else if (tags.get_array().get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element tag : arr) {
      if (tag.get_string().get(text) == simdjson::SUCCESS) add(text);
    }
  }
}

}  // namespace internal
}  // namespace causeloop::webhooks::inbound

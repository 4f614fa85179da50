#pragma once
// Shared machinery of the provider webhook parsers (one .cc per provider). Not part of the
// module's public API.

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/issue.h"
#include "normalize/internal.h"
#include "webhooks/inbound/headers.h"
#include "webhooks/inbound/providers.h"

namespace causeloop::webhooks::inbound::internal {

using normalize::internal::FieldError;
using normalize::internal::ObjectView;
using Records = std::vector<InboundRecord>;

// Runs normalize's final step on `record` as coming from `source` and pairs it with `action`.
// A resolve makes sure the status says the issue is over (resolved unless already closed).
Result<InboundRecord> Finish(model::IssueRecord record, std::string_view source, Action action);

// `error` (from a mapper run on a nested object) with its field path put under `parent`, e.g.
// "title" under "issue" -> "issue.title"; the message is prefixed with the parent too.
Error Under(Error error, std::string_view parent);

// A header's trimmed value; nullopt when absent or blank.
std::optional<std::string> HeaderValue(const HeaderLookup& headers, std::string_view name);

// Milliseconds (or seconds, below 10^11) since the epoch, as a JSON number or a digit string;
// nullopt for anything else or a time before 1970 or after 9999.
std::optional<SystemTime> EpochTime(simdjson::dom::element value);

// "k:v,k2:v2" tags (Datadog's $TAGS) or an array of "k:v" strings into labels; a tag without
// a colon gets an empty value. service/env/environment/team tags also fill those fields when
// they are still empty.
void AddTags(simdjson::dom::element tags, model::IssueRecord& record);

// The per-provider parsers ParseWebhook dispatches to.
Result<Records> ParseGitHub(const HeaderLookup& headers, simdjson::dom::element payload);
Result<Records> ParseJira(simdjson::dom::element payload);
Result<Records> ParsePagerDuty(simdjson::dom::element payload);
Result<Records> ParseSentry(const HeaderLookup& headers, simdjson::dom::element payload);
Result<Records> ParseAlertmanager(simdjson::dom::element payload);
Result<Records> ParseGrafana(simdjson::dom::element payload);
Result<Records> ParseDatadog(simdjson::dom::element payload);
Result<Records> ParseCloudWatch(simdjson::dom::element payload);
Result<Records> ParseCustom(simdjson::dom::element payload);

// Alertmanager/Grafana have no delivery id: a digest of what makes a notification distinct.
std::optional<std::string> AlertGroupDeliveryId(simdjson::dom::element payload);

}  // namespace causeloop::webhooks::inbound::internal

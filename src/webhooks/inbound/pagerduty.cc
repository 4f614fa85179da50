// PagerDuty Webhooks v3: {"event": {"id", "event_type", "resource_type", "occurred_at", "agent",
// "client", "data"}}; for incident events data is the incident.

#include "normalize/text.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound::internal {
namespace {

// incident.* events whose data is the incident itself, and what each means.
struct IncidentEvent {
  std::string_view type;
  Action action;
};
constexpr IncidentEvent kIncidentEvents[] = {
    {"incident.triggered", Action::kUpsert},      {"incident.acknowledged", Action::kUpsert},
    {"incident.unacknowledged", Action::kUpsert}, {"incident.reopened", Action::kUpsert},
    {"incident.escalated", Action::kUpsert},      {"incident.delegated", Action::kUpsert},
    {"incident.reassigned", Action::kUpsert},     {"incident.priority_updated", Action::kUpsert},
    {"incident.resolved", Action::kResolve},
};

}  // namespace

Result<Records> ParsePagerDuty(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  CAUSELOOP_TRY_ASSIGN(event, root.Object("event"));
  if (!event) return Fail(FieldError("event", "a PagerDuty v3 webhook needs its event"));
  CAUSELOOP_TRY_ASSIGN(type, event->String("event_type"));
  if (!type) return Fail(FieldError("event.event_type", "a PagerDuty event needs its event_type"));

  std::optional<Action> action;
  for (const auto& e : kIncidentEvents) {
    if (e.type == *type) action = e.action;
  }
  auto data = event->ObjectOr("data");
  std::string_view data_type = data ? data->StringOr("type").value_or("") : "";
  // Unknown incident events that still carry the incident are acknowledged, not stored.
  if (!action && type->substr(0, 9) == "incident." && data_type == "incident") {
    action = Action::kIgnore;
  }
  if (!action) return Records{};
  if (!data) return Fail(FieldError("event.data", "an incident event needs its data"));

  auto record = normalize::internal::NativePagerDuty(*event->Get("data"));
  if (!record) {
    if (*action == Action::kIgnore) return Records{};
    return Fail(Under(std::move(record.error()), "event.data"));
  }
  CAUSELOOP_TRY_ASSIGN(occurred, event->String("occurred_at"));
  if (occurred && !record->source_updated_at) {
    CAUSELOOP_TRY_ASSIGN(t, normalize::internal::ParseTimestamp(*occurred, "event.occurred_at"));
    record->source_updated_at = t;
  }
  if (*action == Action::kResolve) {
    model::Resolution res = record->resolution.value_or(model::Resolution{});
    if (res.resolved_by.empty()) {
      if (auto agent = event->Display("agent")) {
        res.resolved_by = std::string(*agent);
        res.source_field = "event.agent";
      }
    }
    if (!res.empty()) record->resolution = std::move(res);
  }
  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(*record), "pagerduty", *action));
  return Records{std::move(out)};
}

}  // namespace causeloop::webhooks::inbound::internal

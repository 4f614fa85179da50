// Jira Cloud webhooks: {"webhookEvent": "jira:issue_created"|…, "timestamp", "issue", …}.

#include "normalize/text.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound::internal {

Result<Records> ParseJira(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  CAUSELOOP_TRY_ASSIGN(event, root.String("webhookEvent"));
  if (!event) return Fail(FieldError("webhookEvent", "a Jira webhook needs its webhookEvent"));
  const bool deleted = *event == "jira:issue_deleted";
  if (*event != "jira:issue_created" && *event != "jira:issue_updated" && !deleted) {
    return Records{};
  }
  auto issue = root.Get("issue");
  if (!issue) return Fail(FieldError("issue", "an issue event needs its issue"));
  auto record = normalize::internal::NativeJira(*issue);
  if (!record) return Fail(Under(std::move(record.error()), "issue"));

  // The event's time is when the issue last changed; for a deletion it is the only such time.
  std::optional<SystemTime> event_time;
  if (auto timestamp = root.Get("timestamp")) event_time = EpochTime(*timestamp);
  if (event_time && (deleted || !record->source_updated_at)) record->source_updated_at = event_time;
  Action action = Action::kUpsert;
  if (deleted) {
    // Gone at the source, but nothing was fixed: closed, with no resolution to learn from.
    action = Action::kResolve;
    record->status = model::IssueStatus::kClosed;
    record->resolution.reset();
  } else if (record->resolution || record->status == model::IssueStatus::kResolved ||
             record->status == model::IssueStatus::kClosed) {
    action = Action::kResolve;
  }
  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(*record), "jira", action));
  return Records{std::move(out)};
}

}  // namespace causeloop::webhooks::inbound::internal

// Sentry integration-platform webhooks: Sentry-Hook-Resource `issue` (data.issue, the API's
// issue) and `event_alert` (data.event, the event that triggered an issue alert rule).

#include "core/json_writer.h"
#include "normalize/text.h"
#include "normalize/vocab.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound::internal {
namespace {

using normalize::LowerAscii;

Result<Records> IssueResource(const ObjectView& root, const ObjectView& data) {
  std::string action = LowerAscii(root.StringOr("action").value_or(""));
  Action a = Action::kIgnore;
  if (action == "created" || action == "unresolved" || action == "assigned") a = Action::kUpsert;
  if (action == "resolved" || action == "ignored" || action == "archived") a = Action::kResolve;

  auto issue = data.Get("issue");
  if (!issue) {
    if (a == Action::kIgnore) return Records{};
    return Fail(FieldError("data.issue", "an issue webhook needs data.issue"));
  }
  auto record = normalize::internal::NativeSentry(*issue);
  if (!record) {
    if (a == Action::kIgnore) return Records{};
    return Fail(Under(std::move(record.error()), "data.issue"));
  }
  if (action == "ignored" || action == "archived") record->status = model::IssueStatus::kClosed;
  if (record->external_url.empty()) {
    if (auto obj = data.ObjectOr("issue")) {
      auto web = obj->StringOr("web_url");
      if (web) record->external_url = std::string(*web);  // Finalize checks it
    }
  }
  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(*record), "sentry", a));
  return Records{std::move(out)};
}

// "front-end" from ".../api/0/projects/test-org/front-end/events/<id>/".
std::string ProjectSlug(std::string_view api_url) {
  size_t at = api_url.find("/projects/");
  if (at == std::string_view::npos) return {};
  std::string_view rest = api_url.substr(at + 10);
  size_t org_end = rest.find('/');
  if (org_end == std::string_view::npos) return {};
  rest = rest.substr(org_end + 1);
  return std::string(rest.substr(0, rest.find('/')));
}

// The issue page for an event page ".../issues/<id>/events/<event_id>/".
std::string IssuePage(std::string_view event_web_url) {
  size_t at = event_web_url.find("/events/");
  if (at == std::string_view::npos) return std::string(event_web_url);
  return std::string(event_web_url.substr(0, at + 1));
}

Result<Records> EventAlert(const ObjectView& data) {
  CAUSELOOP_TRY_ASSIGN(event, data.Object("event"));
  if (!event) return Fail(FieldError("data.event", "an event_alert webhook needs data.event"));
  CAUSELOOP_TRY_ASSIGN(issue_id, event->Id("issue_id"));
  if (!issue_id || issue_id->empty()) {
    return Fail(FieldError("data.event.issue_id", "an event alert needs the issue_id"));
  }
  model::IssueRecord r;
  r.external_id = *issue_id;
  CAUSELOOP_TRY_ASSIGN(title, event->String("title"));
  if (title) r.title = std::string(*title);

  std::string error_type;
  if (auto metadata = event->ObjectOr("metadata")) {
    error_type = std::string(metadata->StringOr("type").value_or(""));
    std::string_view value = metadata->StringOr("value").value_or("");
    if (!error_type.empty() || !value.empty()) {
      r.body = error_type + (error_type.empty() || value.empty() ? "" : ": ") + std::string(value);
    }
  }
  if (auto culprit = event->StringOr("culprit"); culprit && !culprit->empty()) {
    if (!r.body.empty()) r.body += "\n";
    r.body += "Culprit: " + std::string(*culprit);
  }
  if (auto message = event->StringOr("message"); message && !message->empty() && r.body.empty()) {
    r.body = std::string(*message);
  }

  if (auto tags = event->Get("tags")) {
    simdjson::dom::array arr;
    if (tags->get_array().get(arr) == simdjson::SUCCESS) {
      for (simdjson::dom::element pair : arr) {
        simdjson::dom::array kv;
        std::string_view key;
        std::string_view value;
        if (pair.get_array().get(kv) != simdjson::SUCCESS || kv.size() != 2 ||
            kv.at(0).get_string().get(key) != simdjson::SUCCESS ||
            kv.at(1).get_string().get(value) != simdjson::SUCCESS || key.empty()) {
          continue;
        }
        if (key == "user") continue;  // an end user's identity is not a label to cluster on
        r.labels[std::string(key)] = std::string(value);
        if (key == "environment") r.environment = std::string(value);
      }
    }
  }
  CAUSELOOP_TRY_ASSIGN(level, event->String("level"));
  if (level) {
    r.severity = normalize::internal::SeverityFor("sentry", *level);
    r.labels["level"] = std::string(*level);
  }
  if (auto platform = event->StringOr("platform"); platform && !platform->empty()) {
    r.labels["platform"] = std::string(*platform);
  }
  r.status = model::IssueStatus::kOpen;
  r.service = ProjectSlug(event->StringOr("url").value_or(""));

  CAUSELOOP_TRY_ASSIGN(datetime, event->String("datetime"));
  if (datetime) {
    CAUSELOOP_TRY_ASSIGN(t, normalize::internal::ParseTimestamp(*datetime, "data.event.datetime"));
    r.source_updated_at = t;
  }
  if (auto web = event->StringOr("web_url"); web && normalize::internal::IsHttpUrl(*web)) {
    r.external_url = IssuePage(*web);
  }

  JsonWriter meta;
  meta.BeginObject();
  meta.Field("issue_id", *issue_id);
  if (auto id = event->StringOr("event_id")) meta.Field("event_id", *id);
  if (auto rule = data.StringOr("triggered_rule")) meta.Field("triggered_rule", *rule);
  if (!error_type.empty()) meta.Field("type", error_type);
  if (auto project = event->Get("project"); project && project->is_int64()) {
    meta.Key("project_id").Int(project->get_int64().value_unsafe());
  }
  if (auto release = event->StringOr("release")) meta.Field("release", *release);
  meta.EndObject();
  r.metadata_json = meta.Take();

  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(r), "sentry", Action::kUpsert));
  return Records{std::move(out)};
}

}  // namespace

Result<Records> ParseSentry(const HeaderLookup& headers, simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  CAUSELOOP_TRY_ASSIGN(data, root.Object("data"));
  if (!data) return Fail(FieldError("data", "a Sentry webhook needs its data"));
  std::string resource = LowerAscii(HeaderValue(headers, "sentry-hook-resource").value_or(""));
  if (resource.empty()) {
    // Without the header, the payload says which resource it is.
    if (data->Has("issue")) resource = "issue";
    if (data->Has("event")) resource = "event_alert";
  }
  if (resource == "issue") return IssueResource(root, *data);
  if (resource == "event_alert") return EventAlert(*data);
  return Records{};
}

}  // namespace causeloop::webhooks::inbound::internal

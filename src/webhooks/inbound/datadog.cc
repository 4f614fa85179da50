// Datadog's Webhooks integration. The body is a user-defined template of $VARIABLES (see the
// choices in providers.h for the default template and the one we document).

#include <algorithm>
#include <vector>

#include "auth/crypto.h"
#include "core/json_writer.h"
#include "core/time.h"
#include "normalize/normalize.h"
#include "normalize/text.h"
#include "normalize/vocab.h"
#include "webhooks/inbound/provider_internal.h"

namespace causeloop::webhooks::inbound::internal {
namespace {

using normalize::LowerAscii;
using normalize::TrimAscii;

// A template value: Datadog substitutes variables inside quotes, but users may leave them bare.
std::string Text(const ObjectView& obj, std::string_view key) {
  auto value = obj.Get(key);
  if (!value) return {};
  std::string_view s;
  int64_t n = 0;
  if (value->get_string().get(s) == simdjson::SUCCESS) return std::string(TrimAscii(s));
  if (value->get_int64().get(n) == simdjson::SUCCESS) return std::to_string(n);
  return {};
}

bool IsTransition(std::string_view word) {
  for (std::string_view t : {"triggered", "re-triggered", "recovered", "warn", "re-warn", "no data",
                             "re-no data", "renotify", "null"}) {
    if (t == word) return true;
  }
  return false;
}

// "P1".."P5" or "1".."5"; nullopt otherwise (Datadog's event priority "normal"/"low").
std::optional<model::Severity> PriorityLevel(std::string_view text) {
  std::string key = LowerAscii(TrimAscii(text));
  if (key.size() == 2 && key[0] == 'p') key.erase(0, 1);
  if (key.size() != 1 || key[0] < '1' || key[0] > '5') return std::nullopt;
  return normalize::LookupSeverity(key);
}

// "[P1] [Triggered on {host:a}] Disk full" -> priority "P1", transition "triggered", scope
// "host:a", name "Disk full". Brackets that are neither stay part of the name.
struct TitleParts {
  std::string name;
  std::string transition;  // lower case
  std::string scope;
  std::string priority;
};

TitleParts SplitTitle(std::string_view title) {
  TitleParts parts;
  std::string_view rest = TrimAscii(title);
  while (!rest.empty() && rest.front() == '[') {
    size_t brace = rest.find('{');
    size_t close = rest.find(']');
    // A scope may itself hold ']'; then the bracket closes after the scope's '}'.
    if (brace != std::string_view::npos && brace < close) {
      size_t brace_end = rest.find('}', brace);
      if (brace_end != std::string_view::npos) close = rest.find(']', brace_end);
    }
    if (close == std::string_view::npos) break;
    std::string_view inner = TrimAscii(rest.substr(1, close - 1));
    if (PriorityLevel(inner)) {
      parts.priority = std::string(inner);
    } else {
      size_t on = inner.find(" on {");
      std::string word = LowerAscii(TrimAscii(inner.substr(0, on)));
      if (!IsTransition(word)) break;
      parts.transition = std::move(word);
      if (on != std::string_view::npos) {
        std::string_view scope = inner.substr(on + 5);
        if (!scope.empty() && scope.back() == '}') scope.remove_suffix(1);
        parts.scope = std::string(TrimAscii(scope));
      }
    }
    rest = TrimAscii(rest.substr(close + 1));
  }
  parts.name = std::string(rest);
  return parts;
}

// Datadog wraps Markdown messages in "%%%" lines and keeps the "@webhook-name" mentions that
// routed the notification; both are markup, not text.
std::string CleanMessage(std::string_view message) {
  std::string out;
  while (!message.empty()) {
    size_t nl = message.find('\n');
    std::string_view line = message.substr(0, nl);
    message = nl == std::string_view::npos ? std::string_view() : message.substr(nl + 1);
    if (TrimAscii(line) == "%%%") continue;
    while (true) {
      size_t at = line.find("@webhook-");
      if (at == std::string_view::npos || (at > 0 && line[at - 1] != ' ')) break;
      size_t end = line.find(' ', at);
      out.append(line.substr(0, at));
      line = end == std::string_view::npos ? std::string_view() : line.substr(end + 1);
    }
    out.append(line);
    out.push_back('\n');
  }
  return std::string(TrimAscii(out));
}

// "service:a, env:b" and "env:b,service:a" name the same group: sorted, comma-joined tags.
std::string CanonicalScope(std::string_view scope) {
  std::vector<std::string> tags;
  while (!scope.empty()) {
    size_t comma = scope.find(',');
    std::string_view tag = TrimAscii(scope.substr(0, comma));
    if (!tag.empty()) tags.emplace_back(tag);
    scope = comma == std::string_view::npos ? std::string_view() : scope.substr(comma + 1);
  }
  std::sort(tags.begin(), tags.end());
  std::string out;
  for (const auto& tag : tags) {
    if (!out.empty()) out.push_back(',');
    out.append(tag);
  }
  return out;
}

std::optional<SystemTime> TimeOf(const ObjectView& root, std::string_view key) {
  auto value = root.Get(key);
  if (!value) return std::nullopt;
  if (auto t = EpochTime(*value)) return t;
  std::string_view s;
  if (value->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  auto t = ParseRfc3339(TrimAscii(s));
  if (!t) return std::nullopt;
  return *t;
}

}  // namespace

Result<Records> ParseDatadog(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  std::string title = Text(root, "title");
  if (title.empty()) title = Text(root, "event_title");
  if (title.empty()) title = Text(root, "alert_title");
  std::string alert_id = Text(root, "alert_id");
  if (title.empty() && alert_id.empty()) {
    return Fail(FieldError("title",
                           "a Datadog webhook needs a title ($EVENT_TITLE) or an "
                           "alert_id ($ALERT_ID)"));
  }
  TitleParts parts = SplitTitle(title);
  std::string transition = LowerAscii(Text(root, "alert_transition"));
  if (transition.empty()) transition = parts.transition;
  std::string scope = CanonicalScope(Text(root, "alert_scope"));
  if (scope.empty()) scope = CanonicalScope(parts.scope);

  Action action = Action::kUpsert;
  if (transition == "recovered") action = Action::kResolve;
  if (transition == "no data" || transition == "re-no data" || transition == "null") {
    action = Action::kIgnore;
  }

  model::IssueRecord r;
  r.title = parts.name.empty() ? title : parts.name;
  if (!alert_id.empty()) {
    r.external_id = "monitor/" + alert_id + (scope.empty() ? "" : "/" + scope);
  } else {
    JsonWriter key;
    key.BeginArray().String(r.title).String(scope).EndArray();
    r.external_id = "h_" + auth::Sha256Hex(key.str()).substr(0, 32);
    r.external_id_derived = true;
  }
  for (std::string_view key : {"body", "event_msg", "text_only_msg", "message"}) {
    std::string text = Text(root, key);
    if (!text.empty()) {
      r.body = CleanMessage(text);
      break;
    }
  }
  if (auto tags = root.Get("tags")) AddTags(*tags, r);
  std::string hostname = Text(root, "hostname");
  if (!hostname.empty()) r.labels["host"] = hostname;
  if (!scope.empty()) r.labels["scope"] = scope;

  std::string alert_type = LowerAscii(Text(root, "alert_type"));
  if (action != Action::kResolve) {
    std::string priority = Text(root, "alert_priority");
    if (priority.empty()) priority = parts.priority;
    if (priority.empty()) priority = Text(root, "priority");
    r.severity = PriorityLevel(priority);
    if (!r.severity && !alert_type.empty() && alert_type != "success") {
      r.severity = normalize::LookupSourceSeverity("datadog", alert_type);
    }
    if (!r.severity && (transition == "warn" || transition == "re-warn")) {
      r.severity = model::Severity::kP3;
    }
  }
  if (action == Action::kUpsert) r.status = model::IssueStatus::kOpen;
  if (action == Action::kResolve) r.status = model::IssueStatus::kResolved;

  auto happened = TimeOf(root, "date");
  if (action == Action::kUpsert) r.source_created_at = happened;
  r.source_updated_at = TimeOf(root, "last_updated");
  if (!r.source_updated_at) r.source_updated_at = happened;
  for (std::string_view key : {"link", "url"}) {
    std::string url = Text(root, key);
    if (normalize::internal::IsHttpUrl(url)) {
      r.external_url = url;
      break;
    }
  }

  JsonWriter meta;
  meta.BeginObject();
  for (auto [key, name] :
       {std::pair{"id", "event_id"}, std::pair{"alert_id", "alert_id"},
        std::pair{"alert_cycle_key", "alert_cycle_key"}, std::pair{"aggreg_key", "aggreg_key"},
        std::pair{"event_type", "event_type"}}) {
    std::string value = Text(root, key);
    if (!value.empty()) meta.Field(name, value);
  }
  if (!transition.empty()) meta.Field("transition", transition);
  if (!alert_type.empty()) meta.Field("alert_type", alert_type);
  if (auto org = root.ObjectOr("org")) {
    std::string org_name = Text(*org, "name");
    if (!org_name.empty()) meta.Field("org", org_name);
  }
  meta.EndObject();
  r.metadata_json = meta.Take();

  CAUSELOOP_TRY_ASSIGN(out, Finish(std::move(r), "datadog", action));
  return Records{std::move(out)};
}

}  // namespace causeloop::webhooks::inbound::internal

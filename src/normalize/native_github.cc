// GitHub REST issue (GET /repos/{owner}/{repo}/issues/{number}, or one of the list).

#include "core/json_writer.h"
#include "core/time.h"
#include "normalize/internal.h"
#include "normalize/text.h"
#include "normalize/vocab.h"

namespace causeloop::normalize::internal {
namespace {

// "owner/repo" from "https://api.github.com/repos/owner/repo" or
// "https://github.com/owner/repo/issues/12".
std::string RepositoryName(std::string_view repository_url, std::string_view html_url) {
  auto owner_repo = [](std::string_view rest) -> std::string {
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return {};
    size_t end = rest.find_first_of("/?#", slash + 1);
    std::string_view name = rest.substr(0, end);
    return name.size() > slash + 1 ? std::string(name) : std::string();
  };
  if (size_t at = repository_url.find("/repos/"); at != std::string_view::npos) {
    return owner_repo(repository_url.substr(at + 7));
  }
  std::string_view origin = UrlOrigin(html_url);
  if (!origin.empty() && html_url.size() > origin.size() + 1) {
    return owner_repo(html_url.substr(origin.size() + 1));
  }
  return {};
}

// Severity from a label such as "P1", "critical", "severity: high", "sev/2", "priority-p2".
std::optional<model::Severity> LabelSeverity(std::string_view label) {
  std::string key = LowerAscii(TrimAscii(label));
  std::string_view rest = key;
  for (std::string_view prefix : {"severity", "priority", "prio", "sev", "pri"}) {
    if (rest.size() > prefix.size() && rest.substr(0, prefix.size()) == prefix) {
      std::string_view after = rest.substr(prefix.size());
      size_t skip = after.find_first_not_of(":/=-_ ");
      if (skip == 0 || skip == std::string_view::npos) continue;  // "severe", "sev1" etc.
      rest = after.substr(skip);
      break;
    }
  }
  return LookupSeverity(rest);
}

}  // namespace

Result<model::IssueRecord> NativeGitHub(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  if (root.Has("pull_request")) {
    return Fail(FieldError("pull_request",
                           "this is a pull request, not an issue; only issues are ingested"));
  }
  CAUSELOOP_TRY_ASSIGN(id, root.Id("id"));
  CAUSELOOP_TRY_ASSIGN(number, root.Id("number"));
  CAUSELOOP_TRY_ASSIGN(repository_url, root.String("repository_url"));
  CAUSELOOP_TRY_ASSIGN(html_url, root.String("html_url"));
  std::string repo = RepositoryName(repository_url.value_or(""), html_url.value_or(""));

  model::IssueRecord r;
  if (!repo.empty() && number) {
    r.external_id = repo + "#" + *number;
  } else if (id) {
    r.external_id = *id;
  } else {
    return Fail(FieldError("number", "a GitHub issue needs repository_url and number, or an id"));
  }
  r.service = repo;

  CAUSELOOP_TRY_ASSIGN(title, root.String("title"));
  if (title) r.title = std::string(*title);
  CAUSELOOP_TRY_ASSIGN(body, root.String("body"));
  if (body) r.body = std::string(*body);

  CAUSELOOP_TRY_ASSIGN(state, root.String("state"));
  CAUSELOOP_TRY_ASSIGN(state_reason, root.String("state_reason"));
  if (state) {
    std::string s = LowerAscii(*state);
    if (s == "closed" && state_reason) {
      r.status = LookupSourceStatus("github", "closed:" + LowerAscii(*state_reason));
    }
    if (!r.status) r.status = LookupSourceStatus("github", s);
  }

  CAUSELOOP_TRY_ASSIGN(labels, root.Array("labels"));
  if (labels) {
    for (simdjson::dom::element l : *labels) {
      std::string_view name;
      simdjson::dom::object obj;
      if (l.get_object().get(obj) == simdjson::SUCCESS) {
        name = ObjectView(obj, "").StringOr("name").value_or("");
      } else if (l.get_string().get(name) != simdjson::SUCCESS) {
        return Fail(FieldError("labels", "labels must be label objects or strings"));
      }
      if (name.empty()) continue;
      r.labels[std::string(name)] = "";
      // The most severe severity-looking label wins.
      auto severity = LabelSeverity(name);
      if (severity && (!r.severity || *severity < *r.severity)) r.severity = severity;
    }
  }

  CAUSELOOP_TRY_ASSIGN(created, root.String("created_at"));
  if (created) {
    CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(*created, "created_at"));
    r.source_created_at = t;
  }
  CAUSELOOP_TRY_ASSIGN(updated, root.String("updated_at"));
  if (updated) {
    CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(*updated, "updated_at"));
    r.source_updated_at = t;
  }
  std::string closed_at;
  CAUSELOOP_TRY_ASSIGN(closed, root.String("closed_at"));
  if (closed) {
    CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(*closed, "closed_at"));
    closed_at = FormatRfc3339(t);
  }
  if (html_url) r.external_url = std::string(*html_url);

  // The closing pull request is not part of the issue object (the connector reads it from the
  // timeline); the issue says how and by whom it was closed.
  if (state && LowerAscii(*state) == "closed") {
    model::Resolution res;
    std::string reason = LowerAscii(state_reason.value_or(""));
    res.summary = reason.empty() ? "Closed" : "Closed as " + reason;
    for (char& c : res.summary) {
      if (c == '_') c = ' ';
    }
    res.source_field = "state_reason";
    if (auto closed_by = root.ObjectOr("closed_by")) {
      res.resolved_by = std::string(closed_by->StringOr("login").value_or(""));
    }
    r.resolution = std::move(res);
  }

  JsonWriter meta;
  meta.BeginObject();
  if (id) meta.Field("id", *id);
  if (auto n = root.Get("number"); n && n->is_int64()) {
    meta.Key("number").Int(n->get_int64().value_unsafe());
  } else if (number) {
    meta.Field("number", *number);
  }
  if (!repo.empty()) meta.Field("repository", repo);
  if (state_reason) meta.Field("state_reason", *state_reason);
  if (!closed_at.empty()) meta.Field("closed_at", closed_at);
  if (auto user = root.ObjectOr("user")) {
    if (auto login = user->StringOr("login")) meta.Field("author", *login);
  }
  meta.EndObject();
  r.metadata_json = meta.Take();
  return r;
}

}  // namespace causeloop::normalize::internal

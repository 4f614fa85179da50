// Sentry issue, as listed by GET /api/0/organizations/{org}/issues/.

#include "core/json_writer.h"
#include "normalize/internal.h"
#include "normalize/text.h"
#include "normalize/vocab.h"

namespace causeloop::normalize::internal {
namespace {

// How statusDetails says the issue was resolved: inRelease, inNextRelease, inCommit.
std::optional<model::Resolution> ResolutionOf(const ObjectView& details) {
  model::Resolution res;
  if (auto release = details.StringOr("inRelease"); release && !release->empty()) {
    res.fix = "Resolved in release " + std::string(*release);
    res.source_field = "statusDetails.inRelease";
  } else if (auto next = details.Get("inNextRelease");
             next && next->is_bool() && next->get_bool().value_unsafe()) {
    res.fix = "Resolved in the next release";
    res.source_field = "statusDetails.inNextRelease";
  } else if (auto commit = details.ObjectOr("inCommit")) {
    std::string_view sha = commit->StringOr("commit").value_or(commit->StringOr("id").value_or(""));
    res.fix = "Resolved in commit " + std::string(sha);
    if (auto repo = commit->Display("repository")) res.fix += " (" + std::string(*repo) + ")";
    res.source_field = "statusDetails.inCommit";
  } else if (auto commit_id = details.StringOr("inCommit")) {
    res.fix = "Resolved in commit " + std::string(*commit_id);
    res.source_field = "statusDetails.inCommit";
  }
  if (auto actor = details.ObjectOr("actor")) {
    for (std::string_view key : {"name", "username", "email"}) {
      if (auto who = actor->StringOr(key); who && !who->empty()) {
        res.resolved_by = std::string(*who);
        break;
      }
    }
  }
  if (res.empty()) return std::nullopt;
  return res;
}

}  // namespace

Result<model::IssueRecord> NativeSentry(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  CAUSELOOP_TRY_ASSIGN(id, root.Id("id"));
  if (!id || id->empty()) return Fail(FieldError("id", "a Sentry issue needs an id"));
  model::IssueRecord r;
  r.external_id = *id;

  CAUSELOOP_TRY_ASSIGN(title, root.String("title"));
  if (title) r.title = std::string(*title);
  CAUSELOOP_TRY_ASSIGN(culprit, root.String("culprit"));
  std::string error_type;
  if (auto metadata = root.ObjectOr("metadata")) {
    error_type = std::string(metadata->StringOr("type").value_or(""));
    std::string_view value = metadata->StringOr("value").value_or("");
    if (!error_type.empty() || !value.empty()) {
      r.body = error_type + (error_type.empty() || value.empty() ? "" : ": ") + std::string(value);
    }
  }
  if (culprit && !culprit->empty()) {
    if (!r.body.empty()) r.body += "\n";
    r.body += "Culprit: " + std::string(*culprit);
  }

  CAUSELOOP_TRY_ASSIGN(level, root.String("level"));
  if (level) {
    r.severity = SeverityFor("sentry", *level);
    r.labels["level"] = std::string(*level);
  }
  CAUSELOOP_TRY_ASSIGN(status, root.String("status"));
  if (status) r.status = StatusFor("sentry", *status);
  if (auto platform = root.StringOr("platform"); platform && !platform->empty()) {
    r.labels["platform"] = std::string(*platform);
  }

  std::string project;
  if (auto p = root.ObjectOr("project")) {
    project = std::string(p->StringOr("slug").value_or(p->StringOr("name").value_or("")));
  }
  r.service = project;

  CAUSELOOP_TRY_ASSIGN(first_seen, root.String("firstSeen"));
  if (first_seen) {
    CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(*first_seen, "firstSeen"));
    r.source_created_at = t;
  }
  CAUSELOOP_TRY_ASSIGN(last_seen, root.String("lastSeen"));
  if (last_seen) {
    CAUSELOOP_TRY_ASSIGN(t, ParseTimestamp(*last_seen, "lastSeen"));
    r.source_updated_at = t;
  }
  CAUSELOOP_TRY_ASSIGN(permalink, root.String("permalink"));
  if (permalink) r.external_url = std::string(*permalink);

  if (auto details = root.ObjectOr("statusDetails")) r.resolution = ResolutionOf(*details);

  JsonWriter meta;
  meta.BeginObject();
  meta.Field("id", *id);
  if (auto short_id = root.StringOr("shortId")) meta.Field("shortId", *short_id);
  if (!project.empty()) meta.Field("project", project);
  if (!error_type.empty()) meta.Field("type", error_type);
  if (auto count = root.Get("count")) {
    std::string_view s;
    int64_t n = 0;
    if (count->get_string().get(s) == simdjson::SUCCESS) {
      meta.Field("count", s);
    } else if (count->get_int64().get(n) == simdjson::SUCCESS) {
      meta.Key("count").Int(n);
    }
  }
  meta.EndObject();
  r.metadata_json = meta.Take();
  return r;
}

}  // namespace causeloop::normalize::internal

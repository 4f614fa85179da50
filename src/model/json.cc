#include "model/json.h"

#include <algorithm>

#include "core/time.h"
#include "model/event.h"

namespace causeloop::model {

void WriteIssue(JsonWriter& w, const Issue& i) {
  w.BeginObject();
  w.Field("id", i.id);
  w.Field("workspace_id", i.workspace_id);
  w.Field("source", i.source);
  w.FieldOrNull("source_raw", i.source_raw);
  w.Field("external_id", i.external_id);
  w.Field("title", i.title);
  w.Field("title_truncated", i.title_truncated);
  w.Field("body", i.body);
  w.Field("body_truncated", i.body_truncated);
  w.Field("severity", SeverityName(i.severity));
  w.Field("status", IssueStatusName(i.status));
  w.FieldOrNull("service", i.service);
  w.FieldOrNull("environment", i.environment);
  w.FieldOrNull("team", i.team);
  w.FieldOrNull("assignee", i.assignee);
  w.Key("labels").BeginObject();
  for (const auto& [k, v] : i.labels) w.Field(k, v);
  w.EndObject();
  w.Key("metadata").Raw(i.metadata_json.empty() ? "{}" : i.metadata_json);
  w.FieldOrNull("external_url", i.external_url);
  w.FieldOrNull("connector_id", i.connector_id);
  w.FieldOrNull("pattern_id", i.pattern_id);
  w.Field("occurrences", i.occurrences);
  w.Key("risk_score").Double(i.risk_score);
  TimeOrNull(w, "source_created_at", i.source_created_at);
  TimeOrNull(w, "source_updated_at", i.source_updated_at);
  w.Field("first_seen_at", FormatRfc3339(i.first_seen_at));
  w.Field("last_seen_at", FormatRfc3339(i.last_seen_at));
  TimeOrNull(w, "resolved_at", i.resolved_at);
  w.Field("created_at", FormatRfc3339(i.created_at));
  w.Field("updated_at", FormatRfc3339(i.updated_at));
  w.Key("resolution");
  if (i.resolution) {
    w.BeginObject();
    w.FieldOrNull("summary", i.resolution->summary);
    w.FieldOrNull("fix", i.resolution->fix);
    w.FieldOrNull("fix_url", i.resolution->fix_url);
    w.FieldOrNull("resolved_by", i.resolution->resolved_by);
    w.FieldOrNull("source_field", i.resolution->source_field);
    w.EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
}

std::string EncodeIssue(const Issue& issue) {
  JsonWriter w;
  WriteIssue(w, issue);
  return w.Take();
}

void WritePatternFields(JsonWriter& w, const Pattern& p) {
  w.Field("id", p.id);
  w.Field("workspace_id", p.workspace_id);
  w.Field("title", p.title);
  w.Field("template", p.template_text);
  w.Field("fingerprint", p.fingerprint);
  w.Field("status", PatternStatusName(p.status));
  w.Field("issue_count", p.issue_count);
  w.Key("risk_score").Double(p.risk_score);
  w.FieldOrNull("merged_into", p.merged_into);
  w.Field("first_seen_at", FormatRfc3339(p.first_seen_at));
  w.Field("last_seen_at", FormatRfc3339(p.last_seen_at));
  w.Field("created_at", FormatRfc3339(p.created_at));
  w.Field("updated_at", FormatRfc3339(p.updated_at));
}

std::string EncodePattern(const Pattern& pattern) {
  JsonWriter w;
  w.BeginObject();
  WritePatternFields(w, pattern);
  w.EndObject();
  return w.Take();
}

void WriteApiToken(JsonWriter& w, const ApiToken& t) {
  w.BeginObject();
  w.Field("id", t.id);
  w.Field("workspace_id", t.workspace_id);
  w.Field("name", t.name);
  w.Key("scopes").BeginArray();
  for (const auto& s : t.scopes) w.String(s);
  w.EndArray();
  w.Field("prefix", t.prefix);
  TimeOrNull(w, "expires_at", t.expires_at);
  TimeOrNull(w, "last_used_at", t.last_used_at);
  TimeOrNull(w, "revoked_at", t.revoked_at);
  TimeOrNull(w, "previous_expires_at", t.previous_expires_at);
  w.Field("created_at", FormatRfc3339(t.created_at));
  w.EndObject();
}

bool IsEventType(std::string_view type) {
  return type == "ping" ||
         std::find(kEventCatalog.begin(), kEventCatalog.end(), type) != kEventCatalog.end();
}

std::string EncodeEvent(const Event& e) {
  JsonWriter w;
  w.BeginObject();
  w.Field("id", e.id);
  w.Field("type", e.type);
  w.Field("timestamp", FormatRfc3339(e.timestamp));
  w.Field("workspace_id", e.workspace_id);
  w.Field("sequence", e.sequence);
  w.Key("data").Raw(e.data_json.empty() ? "{}" : e.data_json);
  w.EndObject();
  return w.Take();
}

}  // namespace causeloop::model

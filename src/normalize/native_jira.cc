// Jira Cloud REST v3 issue (GET /rest/api/3/issue/{key}, or one element of a search result).

#include "core/json_writer.h"
#include "core/time.h"
#include "normalize/internal.h"
#include "normalize/text.h"

namespace causeloop::normalize::internal {
namespace {

constexpr int kMaxAdfDepth = 64;

bool IsBlock(std::string_view type) {
  for (std::string_view b :
       {"paragraph", "heading", "codeBlock", "blockquote", "rule", "tableRow", "panel",
        "mediaSingle", "mediaGroup", "taskItem", "decisionItem", "expand"}) {
    if (b == type) return true;
  }
  return false;
}

void EndLine(std::string& out) {
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
}

void AppendAdf(simdjson::dom::element node, std::string& out, int depth) {
  if (depth > kMaxAdfDepth) return;
  std::string_view s;
  if (node.get_string().get(s) == simdjson::SUCCESS) {
    out.append(s);
    return;
  }
  simdjson::dom::object obj;
  if (node.get_object().get(obj) != simdjson::SUCCESS) return;
  ObjectView view(obj, "");
  std::string_view type = view.StringOr("type").value_or("");
  auto attrs = view.ObjectOr("attrs");
  if (type == "text") {
    out.append(view.StringOr("text").value_or(""));
    return;
  }
  if (type == "hardBreak") {
    out.push_back('\n');
    return;
  }
  if (type == "mention" || type == "emoji" || type == "status" || type == "date") {
    if (attrs)
      out.append(attrs->StringOr("text").value_or(attrs->StringOr("shortName").value_or("")));
    return;
  }
  if (type == "inlineCard" || type == "blockCard" || type == "embedCard") {
    if (attrs) out.append(attrs->StringOr("url").value_or(""));
    return;
  }
  if (type == "listItem") {
    EndLine(out);
    out.append("- ");
  }
  simdjson::dom::array content;
  if (auto c = view.Get("content"); c && c->get_array().get(content) == simdjson::SUCCESS) {
    for (simdjson::dom::element child : content) {
      AppendAdf(child, out, depth + 1);
      if (type == "tableRow") out.push_back('\t');
    }
  }
  if (IsBlock(type)) EndLine(out);
}

// Origin of the issue's REST "self" link + "/browse/KEY".
std::string BrowseUrl(std::string_view self, std::string_view key) {
  std::string_view origin = UrlOrigin(self);
  if (origin.empty() || key.empty()) return {};
  return std::string(origin) + "/browse/" + std::string(key);
}

}  // namespace

std::string AdfToText(simdjson::dom::element node) {
  std::string out;
  AppendAdf(node, out, 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\t' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

Result<SystemTime> ParseJiraTimestamp(std::string_view text, const std::string& field) {
  // Jira writes "+0000"; RFC 3339 wants "+00:00". Insert the colon when the offset lacks one.
  std::string s(TrimAscii(text));
  if (s.size() >= 5) {
    size_t sign = s.size() - 5;
    bool digits = true;
    for (size_t i = sign + 1; i < s.size(); ++i) digits = digits && s[i] >= '0' && s[i] <= '9';
    if ((s[sign] == '+' || s[sign] == '-') && digits) {
      std::string with_colon = s.substr(0, s.size() - 2);
      with_colon.push_back(':');
      with_colon.append(s, s.size() - 2, 2);
      s = std::move(with_colon);
    }
  }
  return ParseTimestamp(s, field);
}

Result<model::IssueRecord> NativeJira(simdjson::dom::element payload) {
  CAUSELOOP_TRY_ASSIGN(root, ObjectView::Root(payload));
  CAUSELOOP_TRY_ASSIGN(key, root.String("key"));
  CAUSELOOP_TRY_ASSIGN(id, root.Id("id"));
  if ((!key || TrimAscii(*key).empty()) && (!id || id->empty())) {
    return Fail(FieldError("key", "a Jira issue needs a key or an id"));
  }
  CAUSELOOP_TRY_ASSIGN(fields, root.Object("fields"));
  if (!fields) return Fail(FieldError("fields", "a Jira issue needs its fields object"));

  model::IssueRecord r;
  r.external_id = key && !TrimAscii(*key).empty() ? std::string(*key) : *id;

  CAUSELOOP_TRY_ASSIGN(summary, fields->String("summary"));
  if (summary) r.title = std::string(*summary);
  if (auto description = fields->Get("description")) {
    if (!description->is_string() && !description->is_object()) {
      return Fail(
          FieldError("fields.description", "fields.description must be a document or a string"));
    }
    r.body = AdfToText(*description);
  }

  std::string priority_name;
  if (auto priority = fields->ObjectOr("priority")) {
    priority_name = priority->StringOr("name").value_or("");
    if (!priority_name.empty()) r.severity = SeverityFor("jira", priority_name);
  }

  std::string status_name;
  if (auto status = fields->ObjectOr("status")) {
    status_name = status->StringOr("name").value_or("");
    if (auto category = status->ObjectOr("statusCategory")) {
      if (auto category_key = category->StringOr("key")) {
        r.status = StatusFor("jira", *category_key);
      }
    }
    if (!r.status && !status_name.empty()) r.status = StatusFor("jira", status_name);
    // A done-category status literally named "Closed" is closed, not merely resolved.
    if (r.status == model::IssueStatus::kResolved && LowerAscii(status_name) == "closed") {
      r.status = model::IssueStatus::kClosed;
    }
  }

  CAUSELOOP_TRY_ASSIGN(components, fields->Array("components"));
  if (components) {
    for (simdjson::dom::element c : *components) {
      simdjson::dom::object obj;
      if (c.get_object().get(obj) != simdjson::SUCCESS) continue;
      if (auto name = ObjectView(obj, "").StringOr("name"); name && !name->empty()) {
        r.service = std::string(*name);
        break;
      }
    }
  }

  CAUSELOOP_TRY_ASSIGN(labels, fields->Array("labels"));
  if (labels) {
    for (simdjson::dom::element l : *labels) {
      std::string_view label;
      if (l.get_string().get(label) != simdjson::SUCCESS) {
        return Fail(FieldError("fields.labels", "fields.labels must hold strings"));
      }
      r.labels[std::string(label)] = "";
    }
  }
  std::string project_key;
  if (auto project = fields->ObjectOr("project")) {
    project_key = project->StringOr("key").value_or("");
    if (!project_key.empty()) r.labels["project"] = project_key;
  }
  std::string issue_type;
  if (auto type = fields->ObjectOr("issuetype")) {
    issue_type = type->StringOr("name").value_or("");
    if (!issue_type.empty()) r.labels["issue_type"] = issue_type;
  }

  CAUSELOOP_TRY_ASSIGN(created, fields->String("created"));
  if (created) {
    CAUSELOOP_TRY_ASSIGN(t, ParseJiraTimestamp(*created, "fields.created"));
    r.source_created_at = t;
  }
  CAUSELOOP_TRY_ASSIGN(updated, fields->String("updated"));
  if (updated) {
    CAUSELOOP_TRY_ASSIGN(t, ParseJiraTimestamp(*updated, "fields.updated"));
    r.source_updated_at = t;
  }
  std::string resolved_at;
  CAUSELOOP_TRY_ASSIGN(resolution_date, fields->String("resolutiondate"));
  if (resolution_date) {
    CAUSELOOP_TRY_ASSIGN(t, ParseJiraTimestamp(*resolution_date, "fields.resolutiondate"));
    resolved_at = FormatRfc3339(t);
  }

  if (auto resolution = fields->ObjectOr("resolution")) {
    model::Resolution res;
    res.summary = std::string(resolution->StringOr("name").value_or(""));
    res.source_field = "resolution";
    std::string versions;
    if (auto fix_versions = fields->Get("fixVersions")) {
      simdjson::dom::array arr;
      if (fix_versions->get_array().get(arr) == simdjson::SUCCESS) {
        for (simdjson::dom::element v : arr) {
          simdjson::dom::object vo;
          if (v.get_object().get(vo) != simdjson::SUCCESS) continue;
          auto name = ObjectView(vo, "").StringOr("name");
          if (!name) continue;
          if (!versions.empty()) versions.append(", ");
          versions.append(*name);
        }
      }
    }
    if (!versions.empty()) res.fix = "Fixed in " + versions;
    // The issue object does not say who resolved it (only the changelog does); the assignee
    // at resolution time is who owned the fix.
    if (auto assignee = fields->ObjectOr("assignee")) {
      res.resolved_by = std::string(assignee->StringOr("displayName").value_or(""));
    }
    r.resolution = std::move(res);
  }

  r.external_url = BrowseUrl(root.StringOr("self").value_or(""), key.value_or(""));

  JsonWriter meta;
  meta.BeginObject();
  if (key) meta.Field("key", *key);
  if (id) meta.Field("id", *id);
  if (!project_key.empty()) meta.Field("project", project_key);
  if (!issue_type.empty()) meta.Field("issue_type", issue_type);
  if (!priority_name.empty()) meta.Field("priority", priority_name);
  if (!status_name.empty()) meta.Field("status", status_name);
  if (!resolved_at.empty()) meta.Field("resolutiondate", resolved_at);
  meta.EndObject();
  r.metadata_json = meta.Take();
  return r;
}

}  // namespace causeloop::normalize::internal

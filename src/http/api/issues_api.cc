#include <charconv>

#include "core/time.h"
#include "http/api/common.h"
#include "http/api/handlers.h"
#include "ingest/json_input.h"
#include "model/json.h"
#include "normalize/normalize.h"

namespace causeloop::http::api {
namespace {

using store::IssueQuery;
using store::IssueSort;

// The query parameters that define a list (everything but paging); a cursor is bound to them.
std::string FilterFingerprint(const Request& req, const std::string& pattern_id) {
  return QueryFingerprint(req,
                          {"status", "severity", "source", "service", "team", "pattern_id",
                           "connector_id", "q", "created_after", "created_before", "sort"},
                          pattern_id);
}

std::string SortValue(const model::Issue& i, IssueSort sort) {
  switch (sort) {
    case IssueSort::kCreatedAt:
      return std::to_string(ToUnixMillis(i.created_at));
    case IssueSort::kLastSeenAt:
      return std::to_string(ToUnixMillis(i.last_seen_at));
    case IssueSort::kSeverity:
      return std::to_string(static_cast<int>(i.severity));
    case IssueSort::kRiskScore: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", i.risk_score);
      return buf;
    }
  }
  return "";
}

Result<IssueQuery> DecodeQuery(ApiContext& ctx, const Request& req, const std::string& pattern_id) {
  IssueQuery q;
  if (auto v = req.Query("status")) {
    auto s = model::ParseIssueStatus(*v);
    if (!s) return FailField("status", "status must be open, in_progress, resolved or closed");
    q.status = s;
  }
  if (auto v = req.Query("severity")) {
    auto s = normalize::ParseSeverityText(*v);
    if (!s) return FailField("severity", "unknown severity");
    q.severity = s;
  }
  auto text = [&](const char* key, std::string& out) {
    if (auto v = req.Query(key)) out = std::string(*v);
  };
  text("source", q.source);
  text("service", q.service);
  text("team", q.team);
  text("pattern_id", q.pattern_id);
  text("connector_id", q.connector_id);
  text("q", q.q);
  if (q.q.size() > 200) return FailField("q", "q must be at most 200 characters");
  for (auto [key, slot] : {std::pair{"created_after", &q.created_after},
                           std::pair{"created_before", &q.created_before}}) {
    if (auto v = req.Query(key)) {
      auto t = ParseRfc3339(*v);
      if (!t) return FailField(key, "must be an RFC 3339 timestamp");
      *slot = *t;
    }
  }
  if (auto v = req.Query("sort")) {
    std::string_view s = *v;
    q.descending = !s.empty() && s.front() == '-';
    if (q.descending) s.remove_prefix(1);
    if (s == "created_at")
      q.sort = IssueSort::kCreatedAt;
    else if (s == "last_seen_at")
      q.sort = IssueSort::kLastSeenAt;
    else if (s == "severity")
      q.sort = IssueSort::kSeverity;
    else if (s == "risk_score")
      q.sort = IssueSort::kRiskScore;
    else
      return FailField(
          "sort",
          "sort by created_at, last_seen_at, severity or risk_score, with - for descending");
  }
  auto limit = ParseLimit(req);
  if (!limit) return Fail(limit.error());
  q.limit = *limit;
  if (auto c = req.Query("cursor")) {
    auto pos = OpenListCursor(ctx.cursors, *c, "v1", FilterFingerprint(req, pattern_id));
    if (!pos) return Fail(pos.error());
    q.after_value = std::move(pos->after_value);
    q.after_id = std::move(pos->after_id);
  }
  return q;
}

Result<model::IssueStatus> StatusField(simdjson::dom::object obj, bool& present) {
  std::optional<std::string> s;
  if (auto st = OptString(obj, "status", s, 64); !st) return Fail(st.error());
  present = s.has_value();
  if (!s) return model::IssueStatus::kOpen;
  auto parsed = model::ParseIssueStatus(*s);
  if (!parsed) return FailField("status", "status must be open, in_progress, resolved or closed");
  return *parsed;
}

// Decodes the editable fields shared by PATCH and bulk; at least one must be present.
Result<store::IssuePatch> DecodePatch(simdjson::dom::object obj) {
  store::IssuePatch p;
  bool has_status = false;
  auto status = StatusField(obj, has_status);
  if (!status) return Fail(status.error());
  if (has_status) p.status = *status;
  simdjson::dom::element sev;
  if (obj.at_key("severity").get(sev) == simdjson::SUCCESS && !sev.is_null()) {
    auto s = normalize::ParseSeverity(sev);
    if (!s) return FailField("severity", "severity is in no known vocabulary");
    p.severity = s;
  }
  simdjson::dom::element assignee;
  if (obj.at_key("assignee").get(assignee) == simdjson::SUCCESS) {
    if (assignee.is_null()) {
      p.assignee = "";
    } else {
      std::optional<std::string> a;
      if (auto st = OptString(obj, "assignee", a, 200); !st) return Fail(st.error());
      p.assignee = a;
    }
  }
  std::optional<std::string> team;
  if (auto st = OptString(obj, "team", team, 200); !st) return Fail(st.error());
  p.team = team;
  simdjson::dom::element labels;
  if (obj.at_key("labels").get(labels) == simdjson::SUCCESS && !labels.is_null()) {
    simdjson::dom::object lo;
    if (labels.get(lo) != simdjson::SUCCESS) return FailField("labels", "labels must be an object");
    std::map<std::string, std::string> m;
    for (auto field : lo) {
      std::string_view v;
      if (field.value.get(v) != simdjson::SUCCESS) {
        return FailField("labels", "label values must be strings");
      }
      m.emplace(std::string(field.key), std::string(v));
    }
    p.labels = std::move(m);
  }
  if (!p.status && !p.severity && !p.assignee && !p.team && !p.labels) {
    return FailField("body", "nothing to change: send status, severity, assignee, team or labels");
  }
  return p;
}

void RespondIssue(const Request& req, const Responder& respond, int status,
                  Result<model::Issue> issue) {
  if (!issue) return ReplyError(req, respond, issue.error());
  respond(JsonResponse(status, model::EncodeIssue(*issue)));
}

}  // namespace

namespace {

// The issue list, optionally confined to one pattern (GET /v1/patterns/{id}/issues): the
// pattern id is then part of the filter a cursor is bound to.
void ListIssuesIn(ApiContext& ctx, const Request& req, const Responder& respond,
                  const std::string& pattern_id) {
  auto q = DecodeQuery(ctx, req, pattern_id);
  if (!q) return ReplyError(req, respond, q.error());
  if (!pattern_id.empty()) q->pattern_id = pattern_id;
  auto page = ctx.store.ListIssues(Who(req).workspace_id, *q);
  if (!page) return ReplyError(req, respond, page.error());
  std::string next;
  if (page->has_more && !page->items.empty()) {
    const auto& last = page->items.back();
    next = ctx.cursors.Seal("v1|" + FilterFingerprint(req, pattern_id) + "|" +
                            SortValue(last, q->sort) + "|" + last.id);
  }
  respond(JsonResponse(200, ListEnvelope(
                                [&](JsonWriter& w) {
                                  for (const auto& i : page->items) model::WriteIssue(w, i);
                                },
                                next, page->has_more, page->total)));
}

// A text search first lets the store index issues that wait under load
// (Store::SettleSearchIndex), so it finds every issue acknowledged before it was asked.
void SearchOrListIssuesIn(ApiContext& ctx, const Request& req, const Responder& respond,
                          std::string pattern_id) {
  auto q = req.Query("q");
  if (!q || q->empty()) return ListIssuesIn(ctx, req, respond, pattern_id);
  ctx.store.SettleSearchIndex(
      [&ctx, &req, respond, id = std::move(pattern_id)] { ListIssuesIn(ctx, req, respond, id); });
}

}  // namespace

void ListIssues(ApiContext& ctx, const Request& req, const Responder& respond) {
  SearchOrListIssuesIn(ctx, req, respond, "");
}

void GetPatternIssues(ApiContext& ctx, const Request& req, const Responder& respond) {
  std::string id(req.Param("id"));
  auto p = ctx.store.GetPattern(Who(req).workspace_id, id);
  if (!p) return ReplyError(req, respond, p.error());
  SearchOrListIssuesIn(ctx, req, respond, std::move(id));
}

void GetIssue(ApiContext& ctx, const Request& req, const Responder& respond) {
  RespondIssue(req, respond, 200,
               ctx.store.GetIssue(Who(req).workspace_id, std::string(req.Param("id"))));
}

void PostIssue(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto root = ingest::ParseJsonBody(req.body);
  if (!root) return ReplyError(req, respond, root.error());
  auto record = normalize::DecodeRecord(*root);
  if (!record) return ReplyError(req, respond, record.error());
  ctx.store.CreateIssue(Who(req).workspace_id, std::move(*record),
                        [&req, respond](Result<model::Issue> issue) {
                          RespondIssue(req, respond, 201, std::move(issue));
                        });
}

void PatchIssue(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return ReplyError(req, respond, obj.error());
  auto patch = DecodePatch(*obj);
  if (!patch) return ReplyError(req, respond, patch.error());
  ctx.store.PatchIssue(Who(req).workspace_id, std::string(req.Param("id")), std::move(*patch),
                       [&req, respond](Result<model::Issue> issue) {
                         RespondIssue(req, respond, 200, std::move(issue));
                       });
}

void ResolveIssue(ApiContext& ctx, const Request& req, const Responder& respond) {
  model::Resolution r;
  if (!req.body.empty()) {
    auto obj = ParseObjectBody(req.body);
    if (!obj) return ReplyError(req, respond, obj.error());
    std::optional<std::string> summary, fix, fix_url;
    for (auto [key, slot] :
         {std::pair{"summary", &summary}, std::pair{"fix", &fix}, std::pair{"fix_url", &fix_url}}) {
      if (auto st = OptString(*obj, key, *slot, size_t{64} * 1024); !st) {
        return ReplyError(req, respond, st.error());
      }
    }
    r.summary = summary.value_or("");
    r.fix = fix.value_or("");
    r.fix_url = fix_url.value_or("");
  }
  r.resolved_by = Who(req).token_id;
  r.source_field = "api";
  ctx.store.ResolveIssue(Who(req).workspace_id, std::string(req.Param("id")), std::move(r),
                         [&req, respond](Result<model::Issue> issue) {
                           RespondIssue(req, respond, 200, std::move(issue));
                         });
}

void BulkIssues(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return ReplyError(req, respond, obj.error());
  simdjson::dom::array ids_json;
  if ((*obj)["ids"].get(ids_json) != simdjson::SUCCESS || ids_json.size() == 0 ||
      ids_json.size() > 500) {
    return ReplyError(req, respond,
                      FieldError("ids", "ids must be an array of 1 to 500 issue ids"));
  }
  std::vector<std::string> ids;
  for (auto e : ids_json) {
    std::string_view id;
    if (e.get(id) != simdjson::SUCCESS) {
      return ReplyError(req, respond, FieldError("ids", "ids must be strings"));
    }
    ids.emplace_back(id);
  }
  auto patch = DecodePatch(*obj);
  if (!patch) return ReplyError(req, respond, patch.error());
  ctx.store.BulkUpdateIssues(Who(req).workspace_id, std::move(ids), std::move(*patch),
                             [&req, respond](Result<store::BulkOutcome> out) {
                               if (!out) return ReplyError(req, respond, out.error());
                               JsonWriter w;
                               w.BeginObject().Key("updated").BeginArray();
                               for (const auto& id : out->updated) w.String(id);
                               w.EndArray().Key("not_found").BeginArray();
                               for (const auto& id : out->not_found) w.String(id);
                               w.EndArray().EndObject();
                               respond(JsonResponse(200, w.Take()));
                             });
}

}  // namespace causeloop::http::api

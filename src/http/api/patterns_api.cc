// Patterns (SPEC §10) and the issue views that come from clustering (SPEC §5.3): similar
// issues, pattern explanation, link/unlink.

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "cluster/engine.h"
#include "core/time.h"
#include "http/api/common.h"
#include "http/api/handlers.h"
#include "model/json.h"

namespace causeloop::http::api {
namespace {

using store::PatternQuery;
using store::PatternSort;

constexpr int kHistogramDays = 30;
constexpr int kSampleIssues = 5;

// The query parameters that define a list; a cursor is bound to them.
std::string FilterFingerprint(const Request& req) {
  return QueryFingerprint(req, {"status", "service", "source", "q", "sort", "include_merged"});
}

std::string SortValue(const model::Pattern& p, PatternSort sort) {
  switch (sort) {
    case PatternSort::kLastSeenAt:
      return std::to_string(ToUnixMillis(p.last_seen_at));
    case PatternSort::kIssueCount:
      return std::to_string(p.issue_count);
    case PatternSort::kRiskScore: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", p.risk_score);
      return buf;
    }
  }
  return "";
}

Result<PatternQuery> DecodeQuery(ApiContext& ctx, const Request& req) {
  PatternQuery q;
  if (auto v = req.Query("status")) {
    auto s = model::ParsePatternStatus(*v);
    if (!s) return FailField("status", "status must be emerging, active, watching or resolved");
    q.status = s;
  }
  if (auto v = req.Query("service")) q.service = std::string(*v);
  if (auto v = req.Query("source")) q.source = std::string(*v);
  if (auto v = req.Query("q")) q.q = std::string(*v);
  if (q.q.size() > 200) return FailField("q", "q must be at most 200 characters");
  if (auto v = req.Query("include_merged")) {
    if (*v != "true" && *v != "false") {
      return FailField("include_merged", "include_merged must be true or false");
    }
    q.include_merged = *v == "true";
  }
  if (auto v = req.Query("sort")) {
    std::string_view s = *v;
    q.descending = !s.empty() && s.front() == '-';
    if (q.descending) s.remove_prefix(1);
    if (s == "last_seen_at") {
      q.sort = PatternSort::kLastSeenAt;
    } else if (s == "issue_count") {
      q.sort = PatternSort::kIssueCount;
    } else if (s == "risk_score") {
      q.sort = PatternSort::kRiskScore;
    } else {
      return FailField("sort",
                       "sort by last_seen_at, issue_count or risk_score, with - for descending");
    }
  }
  auto limit = ParseLimit(req);
  if (!limit) return Fail(limit.error());
  q.limit = *limit;
  if (auto c = req.Query("cursor")) {
    auto pos = OpenListCursor(ctx.cursors, *c, "p1", FilterFingerprint(req));
    if (!pos) return Fail(pos.error());
    q.after_value = std::move(pos->after_value);
    q.after_id = std::move(pos->after_id);
  }
  return q;
}

void RespondPattern(const Request& req, const Responder& respond, Result<model::Pattern> p) {
  if (!p) return ReplyError(req, respond, p.error());
  respond(JsonResponse(200, model::EncodePattern(*p)));
}

cluster::Signal SignalOf(const model::Issue& i) {
  return cluster::Signal{i.title, i.body, i.service, i.source};
}

void WriteStrings(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.Key(key).BeginArray();
  for (const auto& v : values) w.String(v);
  w.EndArray();
}

// Reads the {"pattern_id"} / {"into"} body field naming a pattern.
Result<std::string> PatternIdField(const Request& req, std::string_view key) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return Fail(obj.error());
  std::optional<std::string> id;
  if (auto s = OptString(*obj, key, id, 64); !s) return Fail(s.error());
  if (!id || id->empty()) return FailField(std::string(key), std::string(key) + " is required");
  return *id;
}

void ListPatternsNow(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto q = DecodeQuery(ctx, req);
  if (!q) return ReplyError(req, respond, q.error());
  auto page = ctx.store.ListPatterns(Who(req).workspace_id, *q);
  if (!page) return ReplyError(req, respond, page.error());
  std::string next;
  if (page->has_more && !page->items.empty()) {
    const auto& last = page->items.back();
    next = ctx.cursors.Seal("p1|" + FilterFingerprint(req) + "|" + SortValue(last, q->sort) + "|" +
                            last.id);
  }
  respond(JsonResponse(200, ListEnvelope(
                                [&](JsonWriter& w) {
                                  for (const auto& p : page->items) {
                                    w.BeginObject();
                                    model::WritePatternFields(w, p);
                                    w.EndObject();
                                  }
                                },
                                next, page->has_more, page->total)));
}

void GetPatternNow(ApiContext& ctx, const Request& req, const Responder& respond) {
  const std::string& ws = Who(req).workspace_id;
  std::string id(req.Param("id"));
  auto p = ctx.store.GetPattern(ws, id);
  if (!p) return ReplyError(req, respond, p.error());
  auto detail = ctx.store.GetPatternDetail(ws, id, kHistogramDays, ctx.clock.Now());
  if (!detail) return ReplyError(req, respond, detail.error());
  store::IssueQuery sample;
  sample.pattern_id = id;
  sample.sort = store::IssueSort::kLastSeenAt;
  sample.limit = kSampleIssues;
  auto issues = ctx.store.ListIssues(ws, sample);
  if (!issues) return ReplyError(req, respond, issues.error());
  JsonWriter w;
  w.BeginObject();
  model::WritePatternFields(w, *p);
  WriteStrings(w, "services", detail->services);
  WriteStrings(w, "sources", detail->sources);
  w.Key("occurrences").BeginArray();
  for (const auto& [date, n] : detail->occurrences) {
    w.BeginObject().Field("date", date).Field("count", n).EndObject();
  }
  w.EndArray();
  w.Key("sample_issues").BeginArray();
  for (const auto& i : issues->items) {
    w.BeginObject();
    w.Field("id", i.id).Field("title", i.title).Field("source", i.source);
    w.FieldOrNull("service", i.service).Field("status", model::IssueStatusName(i.status));
    w.Field("last_seen_at", FormatRfc3339(i.last_seen_at));
    w.EndObject();
  }
  w.EndArray();
  // Filled in by the prediction and recommendation work; null until then.
  w.Key("prediction").Null();
  w.Key("top_recommendation").Null();
  w.EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace

void AfterCountersSettle(ApiContext& ctx, const Request& req, const Responder& respond,
                         ReadHandler read) {
  ctx.store.SettlePatternCounters([&ctx, &req, respond, read] { read(ctx, req, respond); });
}

void ListPatterns(ApiContext& ctx, const Request& req, const Responder& respond) {
  AfterCountersSettle(ctx, req, respond, ListPatternsNow);
}

void GetPattern(ApiContext& ctx, const Request& req, const Responder& respond) {
  AfterCountersSettle(ctx, req, respond, GetPatternNow);
}

void PatchPattern(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return ReplyError(req, respond, obj.error());
  store::PatternPatch patch;
  std::optional<std::string> title, status;
  if (auto s = OptString(*obj, "title", title, 300); !s) return ReplyError(req, respond, s.error());
  if (auto s = OptString(*obj, "status", status, 32); !s) {
    return ReplyError(req, respond, s.error());
  }
  if (title) {
    if (title->empty()) return ReplyError(req, respond, FieldError("title", "title is empty"));
    patch.title = std::move(title);
  }
  if (status) {
    auto st = model::ParsePatternStatus(*status);
    if (!st) {
      return ReplyError(req, respond,
                        FieldError("status",
                                   "status must be emerging, active, watching or "
                                   "resolved"));
    }
    patch.status = st;
  }
  if (!patch.title && !patch.status) {
    return ReplyError(req, respond, FieldError("body", "nothing to change: send title or status"));
  }
  ctx.store.PatchPattern(
      Who(req).workspace_id, std::string(req.Param("id")), std::move(patch),
      [&req, respond](Result<model::Pattern> p) { RespondPattern(req, respond, std::move(p)); });
}

void MergePattern(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto into = PatternIdField(req, "into");
  if (!into) return ReplyError(req, respond, into.error());
  ctx.store.MergePatterns(
      Who(req).workspace_id, std::string(req.Param("id")), *into,
      [&req, respond](Result<model::Pattern> p) { RespondPattern(req, respond, std::move(p)); });
}

void LinkIssuePattern(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto pattern = PatternIdField(req, "pattern_id");
  if (!pattern) return ReplyError(req, respond, pattern.error());
  ctx.store.LinkIssue(Who(req).workspace_id, std::string(req.Param("id")), *pattern,
                      [&req, respond](Result<model::Issue> i) {
                        if (!i) return ReplyError(req, respond, i.error());
                        respond(JsonResponse(200, model::EncodeIssue(*i)));
                      });
}

void UnlinkIssuePattern(ApiContext& ctx, const Request& req, const Responder& respond) {
  ctx.store.LinkIssue(Who(req).workspace_id, std::string(req.Param("id")), "",
                      [&req, respond](Result<model::Issue> i) {
                        if (!i) return ReplyError(req, respond, i.error());
                        respond(JsonResponse(200, model::EncodeIssue(*i)));
                      });
}

void GetSimilarIssues(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto limit = ParseLimit(req, 3, 50);
  if (!limit) return ReplyError(req, respond, limit.error());
  const std::string& ws = Who(req).workspace_id;
  auto issue = ctx.store.GetIssue(ws, std::string(req.Param("id")));
  if (!issue) return ReplyError(req, respond, issue.error());
  // Candidates: the issue's own pattern, its service, and the most recent issues; ranked by
  // the engine's similarity (masked tokens, error signature, service).
  std::vector<model::Issue> candidates;
  std::unordered_set<std::string> seen{issue->id};
  auto gather = [&](store::IssueQuery q) -> Status {
    q.sort = store::IssueSort::kLastSeenAt;
    auto page = ctx.store.ListIssues(ws, q);
    if (!page) return Fail(page.error());
    for (auto& i : page->items) {
      if (seen.insert(i.id).second) candidates.push_back(std::move(i));
    }
    return {};
  };
  store::IssueQuery same_pattern, same_service, recent;
  same_pattern.pattern_id = issue->pattern_id;
  same_pattern.limit = 100;
  same_service.service = issue->service;
  same_service.limit = 100;
  recent.limit = 100;
  for (auto* q : {&same_pattern, &same_service, &recent}) {
    if (q == &same_pattern && issue->pattern_id.empty()) continue;
    if (q == &same_service && issue->service.empty()) continue;
    if (auto s = gather(*q); !s) return ReplyError(req, respond, s.error());
  }
  cluster::Features target = cluster::Extract(SignalOf(*issue));
  std::vector<std::pair<double, const model::Issue*>> ranked;
  ranked.reserve(candidates.size());
  for (const auto& c : candidates) {
    ranked.emplace_back(cluster::Similarity(target, cluster::Extract(SignalOf(c))), &c);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second->id > b.second->id;  // newer first among equals
  });
  if (static_cast<int>(ranked.size()) > *limit) ranked.resize(static_cast<size_t>(*limit));
  JsonWriter w;
  w.BeginObject().Key("data").BeginArray();
  for (const auto& [score, i] : ranked) {
    w.BeginObject();
    w.Key("similarity").Double(std::round(score * 1000) / 1000);
    w.Key("issue");
    model::WriteIssue(w, *i);
    w.EndObject();
  }
  w.EndArray().EndObject();
  respond(JsonResponse(200, w.Take()));
}

void GetPatternExplanation(ApiContext& ctx, const Request& req, const Responder& respond) {
  const std::string& ws = Who(req).workspace_id;
  auto issue = ctx.store.GetIssue(ws, std::string(req.Param("id")));
  if (!issue) return ReplyError(req, respond, issue.error());
  if (ctx.patterns == nullptr || issue->pattern_id.empty()) {
    return ReplyError(
        req, respond,
        Error{ErrorCode::kNotFound, "the issue has no pattern (clustering is off)", {}});
  }
  auto e = ctx.patterns->Explain(ws, *issue);
  if (!e) return ReplyError(req, respond, e.error());
  JsonWriter w;
  w.BeginObject();
  w.Field("issue_id", issue->id);
  w.Field("pattern_id", issue->pattern_id);
  w.Field("method", e->method);
  w.Field("fingerprint", e->fingerprint);
  if (e->method == "manual") {
    w.Field("reason", "a person linked issues with this fingerprint to this pattern");
  } else if (e->method == "engine") {
    w.Field("template", e->engine.template_text);
    w.Key("score").Double(std::round(e->engine.score * 1000) / 1000);
    WriteStrings(w, "matched_tokens", e->engine.matched_tokens);
    WriteStrings(w, "variable_tokens", e->engine.variable_tokens);
    WriteStrings(w, "differing_tokens", e->engine.differing_tokens);
    w.FieldOrNull("signature", e->engine.signature);
    w.FieldOrNull("merged_from", e->via_pattern_id);
  } else {
    w.Field("reason",
            "no cluster of this pattern matches the issue (it joined before "
            "clustering ran, or its pattern was created by an unlink)");
  }
  w.EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace causeloop::http::api

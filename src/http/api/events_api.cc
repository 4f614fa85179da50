#include <charconv>

#include "http/api/common.h"
#include "http/api/handlers.h"
#include "model/event.h"

namespace causeloop::http::api {

namespace {

void ListEventsNow(ApiContext& ctx, const Request& req, const Responder& respond) {
  long long after = 0;
  if (auto v = req.Query("after")) {
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), after);
    if (ec != std::errc() || p != v->data() + v->size() || after < 0) {
      return ReplyError(req, respond,
                        FieldError("after", "after must be a non-negative event sequence"));
    }
  }
  // The cursor of this list is simply the last sequence seen: events are immutable and
  // gap-free, so `after` resumes exactly.
  if (auto c = req.Query("cursor")) {
    auto [p, ec] = std::from_chars(c->data(), c->data() + c->size(), after);
    if (ec != std::errc() || p != c->data() + c->size() || after < 0) {
      return ReplyError(req, respond, FieldError("cursor", "invalid cursor"));
    }
  }
  auto limit = ParseLimit(req, 100, 1000);
  if (!limit) return ReplyError(req, respond, limit.error());
  const std::string& ws = Who(req).workspace_id;
  auto events = ctx.store.ListEvents(ws, after, *limit + 1);
  if (!events) return ReplyError(req, respond, events.error());
  auto last = ctx.store.LastSequence(ws);
  if (!last) return ReplyError(req, respond, last.error());
  bool has_more = static_cast<int>(events->size()) > *limit;
  if (has_more) events->pop_back();
  std::string next = events->empty() ? "" : std::to_string(events->back().sequence);
  if (!has_more) next.clear();
  respond(JsonResponse(200, ListEnvelope(
                                [&](JsonWriter& w) {
                                  for (const auto& e : *events) w.Raw(model::EncodeEvent(e));
                                },
                                next, has_more, *last)));
}

}  // namespace

void ListEvents(ApiContext& ctx, const Request& req, const Responder& respond) {
  // The pattern.updated events of issues whose counters wait are written first.
  AfterCountersSettle(ctx, req, respond, ListEventsNow);
}

}  // namespace causeloop::http::api

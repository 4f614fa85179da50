// Outbound webhook endpoints and their deliveries (SPEC §7.2).

#include <algorithm>

#include "auth/secretbox.h"
#include "core/ids.h"
#include "core/time.h"
#include "http/api/common.h"
#include "http/api/handlers.h"
#include "model/event.h"
#include "net/ssrf.h"
#include "webhooks/outbound/dispatcher.h"
#include "webhooks/outbound/signing.h"

namespace causeloop::http::api {
namespace {

void WriteStringArray(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.Key(key).BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

std::string EncodeEndpoint(const model::WebhookEndpoint& e, SystemTime now,
                           const std::string& secret = {}) {
  JsonWriter w;
  w.BeginObject();
  w.Field("id", e.id).Field("url", e.url).Field("description", e.description);
  WriteStringArray(w, "event_types", e.event_types);
  WriteStringArray(w, "connector_ids", e.connector_ids);
  w.Field("enabled", e.enabled).FieldOrNull("disabled_reason", e.disabled_reason);
  TimeOrNull(w, "failing_since", e.failing_since);
  TimeOrNull(w, "previous_secret_expires_at", model::PreviousSecretExpiry(e.secrets, now));
  w.Field("created_at", FormatRfc3339(e.created_at));
  w.Field("updated_at", FormatRfc3339(e.updated_at));
  if (!secret.empty()) w.Field("signing_secret", secret);
  w.EndObject();
  return w.Take();
}

void WriteDelivery(JsonWriter& w, const model::WebhookDelivery& d) {
  w.BeginObject();
  w.Field("id", d.id).Field("webhook_id", d.endpoint_id).Field("event_id", d.event_id);
  w.Field("event_type", d.event_type).Field("event_sequence", d.event_sequence);
  w.Field("status", model::DeliveryStatusName(d.status)).Field("attempts", d.attempts);
  TimeOrNull(w, "next_attempt_at",
             d.status == model::DeliveryStatus::kPending ? std::optional(d.next_attempt_at)
                                                         : std::nullopt);
  w.Field("created_at", FormatRfc3339(d.created_at));
  w.Field("updated_at", FormatRfc3339(d.updated_at));
  w.Key("attempt_log").BeginArray();
  for (const auto& a : d.attempt_log) {
    w.BeginObject().Field("number", a.number).Field("at", FormatRfc3339(a.at));
    w.Key("status_code");
    if (a.status_code > 0) {
      w.Int(a.status_code);
    } else {
      w.Null();
    }
    w.Field("latency_ms", a.latency_ms).FieldOrNull("error", a.error);
    w.Field("response_excerpt", a.response_excerpt).EndObject();
  }
  w.EndArray().EndObject();
}

std::string EncodeDelivery(const model::WebhookDelivery& d) {
  JsonWriter w;
  WriteDelivery(w, d);
  return w.Take();
}

// A string array field whose elements each pass `check` (which returns an error message, or
// "" when the element is fine).
template <typename Check>
Status StringArrayField(simdjson::dom::object obj, std::string_view key,
                        std::optional<std::vector<std::string>>& out, Check check) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return {};
  simdjson::dom::array a;
  auto not_strings = [&] {
    return Fail(FieldError(std::string(key), std::string(key) + " must be an array of strings"));
  };
  if (e.get_array().get(a) != simdjson::SUCCESS) return not_strings();
  std::vector<std::string> v;
  for (auto item : a) {
    std::string_view s;
    if (item.get(s) != simdjson::SUCCESS) return not_strings();
    if (std::string problem = check(s); !problem.empty()) {
      return Fail(FieldError(std::string(key), problem));
    }
    if (std::find(v.begin(), v.end(), s) == v.end()) v.emplace_back(s);
  }
  if (v.size() > 64) return Fail(FieldError(std::string(key), "at most 64 items"));
  out = std::move(v);
  return {};
}

// Event type names from the catalog, or "*".
Status EventTypesField(simdjson::dom::object obj, std::string_view key,
                       std::optional<std::vector<std::string>>& out) {
  return StringArrayField(obj, key, out, [](std::string_view s) {
    return s == "*" || model::IsEventType(s) ? std::string()
                                             : "unknown event type: " + std::string(s);
  });
}

Status IdsField(simdjson::dom::object obj, std::string_view key,
                std::optional<std::vector<std::string>>& out) {
  return StringArrayField(obj, key, out, [](std::string_view s) {
    return !s.empty() && s.size() <= 200 ? std::string()
                                         : std::string("ids are 1 to 200 characters");
  });
}

Status BoolField(simdjson::dom::object obj, std::string_view key, std::optional<bool>& out) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return {};
  bool b = false;
  if (e.get(b) != simdjson::SUCCESS) {
    return Fail(FieldError(std::string(key), std::string(key) + " must be true or false"));
  }
  out = b;
  return {};
}

Status CheckUrl(const ApiContext& ctx, const std::string& url) {
  if (url.size() > 2000) return Fail(FieldError("url", "url is longer than 2000 characters"));
  if (auto s = net::CheckOutboundUrl(url, ctx.allow_private_webhook_targets); !s) {
    return Fail(FieldError("url", s.error().message));
  }
  return {};
}

// The fields POST /v1/webhooks and PATCH /v1/webhooks/{id} share, each checked (the URL
// against the SSRF guard); absent ones stay unset.
struct EndpointFields {
  std::optional<std::string> url, description;
  std::optional<std::vector<std::string>> types, connectors;
  std::optional<bool> enabled;
};

Result<EndpointFields> DecodeEndpointFields(const ApiContext& ctx, const Request& req) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return Fail(obj.error());
  EndpointFields f;
  for (const Status& s :
       {OptString(*obj, "url", f.url, 2000), OptString(*obj, "description", f.description, 500),
        EventTypesField(*obj, "event_types", f.types),
        IdsField(*obj, "connector_ids", f.connectors), BoolField(*obj, "enabled", f.enabled)}) {
    if (!s) return Fail(s.error());
  }
  if (f.url) {
    if (auto s = CheckUrl(ctx, *f.url); !s) return Fail(s.error());
  }
  return f;
}

void RespondEndpoint(ApiContext& ctx, const Request& req, const Responder& respond, int status,
                     Result<model::WebhookEndpoint> e, const std::string& secret = {}) {
  if (!e) return ReplyError(req, respond, e.error());
  respond(JsonResponse(status, EncodeEndpoint(*e, ctx.clock.Now(), secret)));
}

Result<model::WebhookEndpoint> FindEndpoint(ApiContext& ctx, const Request& req) {
  auto e = ctx.store.GetWebhookEndpoint(Who(req).workspace_id, std::string(req.Param("id")));
  if (!e) return Fail(e.error());
  if (!*e) return Fail(ErrorCode::kNotFound, "no such webhook");
  return std::move(**e);
}

// Creates an endpoint from the fields both create routes share.
void CreateEndpoint(ApiContext& ctx, const Request& req, const Responder& respond,
                    model::WebhookEndpoint e, std::string secret) {
  SystemTime now = ctx.clock.Now();
  e.id = NewId("whe_", now, ctx.random);
  e.workspace_id = Who(req).workspace_id;
  e.created_at = now;
  e.updated_at = now;
  if (secret.empty()) secret = webhooks::GenerateSigningSecret(ctx.random);
  e.secrets.push_back({auth::Seal(ctx.secret_key, secret, ctx.random), std::nullopt});
  ctx.store.CreateWebhookEndpoint(std::move(e),
                                  [&ctx, &req, respond, secret](Result<model::WebhookEndpoint> r) {
                                    if (r && ctx.webhooks != nullptr)
                                      ctx.webhooks->EndpointsChanged(r->workspace_id);
                                    RespondEndpoint(ctx, req, respond, 201, std::move(r), secret);
                                  });
}

// After a change that the dispatcher must see.
auto Changed(ApiContext& ctx, const Request& req, const Responder& respond, int status = 200,
             const std::string& secret = {}) {
  return [&ctx, &req, respond, status, secret](Result<model::WebhookEndpoint> r) {
    if (r && ctx.webhooks != nullptr) ctx.webhooks->EndpointsChanged(r->workspace_id);
    RespondEndpoint(ctx, req, respond, status, std::move(r), secret);
  };
}

}  // namespace

void CreateWebhook(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto f = DecodeEndpointFields(ctx, req);
  if (!f) return ReplyError(req, respond, f.error());
  if (!f->url) return ReplyError(req, respond, FieldError("url", "url is required"));
  if (!f->types || f->types->empty()) {
    return ReplyError(req, respond,
                      FieldError("event_types", "event_types is required (use [\"*\"] for all)"));
  }
  model::WebhookEndpoint e;
  e.url = *f->url;
  e.description = f->description.value_or("");
  e.event_types = *f->types;
  e.connector_ids = f->connectors.value_or(std::vector<std::string>{});
  e.enabled = f->enabled.value_or(true);
  if (!e.enabled) e.disabled_reason = "manual";
  CreateEndpoint(ctx, req, respond, std::move(e), {});
}

void CreateWebhookSubscription(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return ReplyError(req, respond, obj.error());
  std::optional<std::string> url, secret;
  std::optional<std::vector<std::string>> events;
  for (const Status& s : {OptString(*obj, "url", url, 2000), OptString(*obj, "secret", secret, 200),
                          EventTypesField(*obj, "events", events)}) {
    if (!s) return ReplyError(req, respond, s.error());
  }
  if (!url) return ReplyError(req, respond, FieldError("url", "url is required"));
  if (auto s = CheckUrl(ctx, *url); !s) return ReplyError(req, respond, s.error());
  if (!events || events->empty()) {
    return ReplyError(req, respond,
                      FieldError("events", "events is required (use [\"*\"] for all)"));
  }
  if (secret && !webhooks::DecodeSigningSecret(*secret)) {
    return ReplyError(req, respond,
                      FieldError("secret",
                                 "secret must be whsec_ followed by base64 of 24 to 64 "
                                 "random bytes"));
  }
  model::WebhookEndpoint e;
  e.url = *url;
  e.event_types = *events;
  CreateEndpoint(ctx, req, respond, std::move(e), secret.value_or(""));
}

void ListWebhooks(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto rows = ctx.store.ListWebhookEndpoints(Who(req).workspace_id);
  if (!rows) return ReplyError(req, respond, rows.error());
  respond(JsonResponse(200, ListEnvelope(
                                [&](JsonWriter& w) {
                                  SystemTime now = ctx.clock.Now();
                                  for (const auto& e : *rows) w.Raw(EncodeEndpoint(e, now));
                                },
                                "", false, static_cast<long long>(rows->size()))));
}

void GetWebhook(ApiContext& ctx, const Request& req, const Responder& respond) {
  RespondEndpoint(ctx, req, respond, 200, FindEndpoint(ctx, req));
}

void PatchWebhook(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto f = DecodeEndpointFields(ctx, req);
  if (!f) return ReplyError(req, respond, f.error());
  auto& [url, description, types, connectors, enabled] = *f;
  if (!url && !description && !types && !connectors && !enabled) {
    return ReplyError(req, respond, FieldError("body", "nothing to change"));
  }
  if (types && types->empty()) {
    return ReplyError(req, respond, FieldError("event_types", "event_types cannot be empty"));
  }
  auto e = FindEndpoint(ctx, req);
  if (!e) return ReplyError(req, respond, e.error());
  if (url) e->url = *url;
  if (description) e->description = *description;
  if (types) e->event_types = *types;
  if (connectors) e->connector_ids = *connectors;
  if (enabled) {
    e->enabled = *enabled;
    e->disabled_reason = *enabled ? "" : "manual";
    if (*enabled) e->failing_since.reset();  // a fresh start
  }
  e->updated_at = ctx.clock.Now();
  ctx.store.UpdateWebhookEndpoint(std::move(*e), Changed(ctx, req, respond));
}

void DeleteWebhook(ApiContext& ctx, const Request& req, const Responder& respond) {
  std::string ws = Who(req).workspace_id;
  ctx.store.DeleteWebhookEndpoint(ws, std::string(req.Param("id")),
                                  [&ctx, &req, respond, ws](Result<bool> r) {
                                    if (!r) return ReplyError(req, respond, r.error());
                                    if (ctx.webhooks != nullptr) ctx.webhooks->EndpointsChanged(ws);
                                    Response resp;
                                    resp.status = 204;
                                    respond(std::move(resp));
                                  });
}

void RotateWebhookSecret(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto grace = ParseGraceSeconds(req);
  if (!grace) return ReplyError(req, respond, grace.error());
  auto e = FindEndpoint(ctx, req);
  if (!e) return ReplyError(req, respond, e.error());
  std::string secret = webhooks::GenerateSigningSecret(ctx.random);
  // The old secret keeps signing during the grace period; older ones go now.
  e->secrets =
      RotateSecrets(ctx.secret_key, ctx.random, ctx.clock.Now(), e->secrets, secret, *grace);
  e->updated_at = ctx.clock.Now();
  ctx.store.UpdateWebhookEndpoint(std::move(*e), Changed(ctx, req, respond, 200, secret));
}

void TestWebhook(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto e = FindEndpoint(ctx, req);
  if (!e) return ReplyError(req, respond, e.error());
  SystemTime now = ctx.clock.Now();
  model::Event event;
  event.id = NewId("evt_", now, ctx.random);
  event.type = "ping";
  event.timestamp = now;
  event.workspace_id = e->workspace_id;
  JsonWriter data;
  data.BeginObject().Field("webhook_id", e->id).EndObject();
  event.data_json = data.Take();
  model::WebhookDelivery d;
  d.id = NewId("whd_", now, ctx.random);
  d.workspace_id = e->workspace_id;
  d.endpoint_id = e->id;
  d.event_id = event.id;
  d.event_type = event.type;
  d.payload = model::EncodeEvent(event);
  d.order_key = "ping:" + event.id;
  d.next_attempt_at = now;
  d.created_at = now;
  d.updated_at = now;
  std::string ws = e->workspace_id;
  ctx.store.AddDeliveries(ws, {d}, -1, [&ctx, &req, respond, d](Result<size_t> r) {
    if (!r) return ReplyError(req, respond, r.error());
    if (ctx.webhooks != nullptr) ctx.webhooks->Enqueue({d});
    respond(JsonResponse(202, EncodeDelivery(d)));
  });
}

void ListWebhookDeliveries(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto e = FindEndpoint(ctx, req);
  if (!e) return ReplyError(req, respond, e.error());
  auto limit = ParseLimit(req);
  if (!limit) return ReplyError(req, respond, limit.error());
  std::string before;
  if (auto c = req.Query("cursor"); c && !c->empty()) {
    auto pos = OpenListCursor(ctx.cursors, *c, "d1", e->id);
    if (!pos) return ReplyError(req, respond, pos.error());
    before = std::move(pos->after_id);
  }
  auto rows = ctx.store.ListDeliveries(e->workspace_id, e->id, before, *limit + 1);
  if (!rows) return ReplyError(req, respond, rows.error());
  bool more = rows->size() > static_cast<size_t>(*limit);
  if (more) rows->resize(static_cast<size_t>(*limit));
  std::string next = more ? ctx.cursors.Seal("d1|" + e->id + "||" + rows->back().id) : "";
  respond(JsonResponse(200, ListEnvelope(
                                [&](JsonWriter& w) {
                                  for (const auto& d : *rows) WriteDelivery(w, d);
                                },
                                next, more, -1)));
}

void RedeliverWebhookDelivery(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto e = FindEndpoint(ctx, req);
  if (!e) return ReplyError(req, respond, e.error());
  ctx.store.RequeueDeliveries(e->workspace_id, e->id, std::string(req.Param("delivery_id")),
                              SystemTime{},
                              [&ctx, &req, respond](Result<std::vector<model::WebhookDelivery>> r) {
                                if (!r) return ReplyError(req, respond, r.error());
                                if (ctx.webhooks != nullptr) ctx.webhooks->Enqueue(*r);
                                respond(JsonResponse(202, EncodeDelivery(r->front())));
                              });
}

void RecoverWebhook(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return ReplyError(req, respond, obj.error());
  std::optional<std::string> since;
  if (auto s = OptString(*obj, "since", since, 64); !s) return ReplyError(req, respond, s.error());
  if (!since) return ReplyError(req, respond, FieldError("since", "since is required"));
  auto t = ParseRfc3339(*since);
  if (!t) return ReplyError(req, respond, FieldError("since", "since must be an RFC 3339 time"));
  auto e = FindEndpoint(ctx, req);
  if (!e) return ReplyError(req, respond, e.error());
  ctx.store.RequeueDeliveries(
      e->workspace_id, e->id, "", *t,
      [&ctx, &req, respond](Result<std::vector<model::WebhookDelivery>> r) {
        if (!r) return ReplyError(req, respond, r.error());
        if (ctx.webhooks != nullptr) ctx.webhooks->Enqueue(*r);
        JsonWriter w;
        w.BeginObject().Field("requeued", static_cast<long long>(r->size())).EndObject();
        respond(JsonResponse(202, w.Take()));
      });
}

}  // namespace causeloop::http::api

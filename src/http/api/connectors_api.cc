// Connectors, minimal (SPEC §8.2): identity, type, status, sealed credentials, inbound webhook
// delivery with its signing secret (SPEC §6.1); and the workspace's alert-webhook settings
// (SPEC §6.2). Polling, OAuth and schedules come later; the resource already stores what they
// need (credentials, config, schedule, backfill_days).

#include <algorithm>
#include <array>

#include "auth/secretbox.h"
#include "core/ids.h"
#include "core/time.h"
#include "http/api/common.h"
#include "http/api/handlers.h"
#include "http/api/receivers.h"
#include "webhooks/outbound/signing.h"

namespace causeloop::http::api {
namespace {

// SPEC §8.1's types, plus grafana and cloudwatch, which only push (inbound webhooks).
constexpr std::array<std::string_view, 12> kConnectorTypes = {
    "jira",   "pagerduty", "github",       "servicenow", "datadog", "sentry",
    "gitlab", "opsgenie",  "alertmanager", "custom_api", "grafana", "cloudwatch"};

bool IsConnectorType(std::string_view type) {
  return std::find(kConnectorTypes.begin(), kConnectorTypes.end(), type) != kConnectorTypes.end();
}

std::string EncodeConnector(ApiContext& ctx, const Request& req, const model::Connector& c,
                            const std::string& new_secret = {}) {
  SystemTime now = ctx.clock.Now();
  JsonWriter w;
  w.BeginObject().Field("id", c.id).Field("type", c.type).Field("display_name", c.display_name);
  w.Field("status", c.status).Field("has_credentials", !c.credentials_sealed.empty());
  w.Key("config").Raw(c.config_json).Key("schedule").Raw(c.schedule_json);
  w.Field("backfill_days", static_cast<long long>(c.backfill_days));
  w.Key("inbound").BeginObject().Field("enabled", c.inbound_enabled);
  if (c.inbound_enabled) {
    w.Field("receiver_url", ReceiverBaseUrl(ctx, req) + "/v1/webhooks/inbound/" + c.id);
  } else {
    w.Key("receiver_url").Null();
  }
  TimeOrNull(w, "previous_secret_expires_at", model::PreviousSecretExpiry(c.inbound_secrets, now));
  auto stats = ctx.store.GetReceiverStats(c.workspace_id, model::ConnectorReceiver(c.id), now);
  if (stats) {
    TimeOrNull(w, "last_delivery_at", stats->last_delivery_at);
    w.Field("deliveries_24h", stats->deliveries_24h);
    w.Field("signature_failures_24h", stats->signature_failures_24h);
  }
  if (!new_secret.empty()) w.Field("inbound_signing_secret", new_secret);
  w.EndObject();
  w.Field("created_at", FormatRfc3339(c.created_at));
  w.Field("updated_at", FormatRfc3339(c.updated_at)).EndObject();
  return w.Take();
}

// An optional JSON object field, kept minified; absent/null leaves `out` untouched.
Status ObjectField(simdjson::dom::object obj, std::string_view key,
                   std::optional<std::string>& out) {
  simdjson::dom::element e;
  if (obj.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return {};
  if (!e.is_object()) return FailField(std::string(key), "must be a JSON object");
  std::string text = simdjson::minify(e);
  if (text.size() > size_t{64} * 1024) return FailField(std::string(key), "must be at most 64 KiB");
  out = std::move(text);
  return {};
}

// credentials: an object of strings (API keys, tokens, user names), sealed at rest.
Status CredentialsField(simdjson::dom::object obj, std::optional<std::string>& out, bool& clear) {
  simdjson::dom::element e;
  if (obj.at_key("credentials").get(e) != simdjson::SUCCESS) return {};
  if (e.is_null()) {
    clear = true;
    return {};
  }
  simdjson::dom::object o;
  if (e.get(o) != simdjson::SUCCESS) {
    return FailField("credentials", "credentials must be an object of strings");
  }
  for (auto field : o) {
    if (!field.value.is_string()) {
      return FailField("credentials", "credentials must be an object of strings");
    }
  }
  std::string text = simdjson::minify(e);
  if (text.size() > size_t{16} * 1024) return FailField("credentials", "must be at most 16 KiB");
  out = std::move(text);
  return {};
}

Status ScheduleCheck(const std::optional<std::string>& schedule_json) {
  if (!schedule_json) return {};
  auto obj = ParseObjectBody(*schedule_json);
  if (!obj) return Fail(obj.error());
  std::optional<long long> minutes;
  std::optional<std::string> cron;
  if (auto s = OptInt(*obj, "interval_minutes", minutes); !s) return s;
  if (auto s = OptString(*obj, "cron", cron, 200); !s) return s;
  if (minutes && (*minutes < 1 || *minutes > 7LL * 24 * 60)) {
    return FailField("schedule", "interval_minutes must be within 1 and 10080");
  }
  if (minutes && cron) return FailField("schedule", "give interval_minutes or cron, not both");
  return {};
}

struct ConnectorFields {
  std::optional<std::string> type, display_name, config, schedule, credentials;
  std::optional<long long> backfill_days;
  bool clear_credentials = false;
};

Result<ConnectorFields> DecodeConnectorFields(const Request& req) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return Fail(obj.error());
  ConnectorFields f;
  for (const Status& s :
       {OptString(*obj, "type", f.type, 64), OptString(*obj, "display_name", f.display_name, 200),
        ObjectField(*obj, "config", f.config), ObjectField(*obj, "schedule", f.schedule),
        CredentialsField(*obj, f.credentials, f.clear_credentials),
        OptInt(*obj, "backfill_days", f.backfill_days), ScheduleCheck(f.schedule)}) {
    if (!s) return Fail(s.error());
  }
  if (f.display_name && f.display_name->empty()) {
    return FailField("display_name", "display_name cannot be empty");
  }
  if (f.backfill_days && (*f.backfill_days < 0 || *f.backfill_days > 3650)) {
    return FailField("backfill_days", "backfill_days must be within 0 and 3650");
  }
  return f;
}

void ApplyFields(ApiContext& ctx, const ConnectorFields& f, model::Connector& c) {
  if (f.display_name) c.display_name = *f.display_name;
  if (f.config) c.config_json = *f.config;
  if (f.schedule) c.schedule_json = *f.schedule;
  if (f.backfill_days) c.backfill_days = static_cast<int>(*f.backfill_days);
  if (f.credentials) {
    c.credentials_sealed = auth::Seal(ctx.connector_key, *f.credentials, ctx.random);
    // Tested by the first sync once polling lands; until then the connector waits.
    c.status = "pending";
  } else if (f.clear_credentials) {
    c.credentials_sealed.clear();
    c.status = "inbound_only";
  }
}

Result<model::Connector> FindConnectorOf(ApiContext& ctx, const Request& req) {
  auto c = ctx.store.GetConnector(Who(req).workspace_id, std::string(req.Param("id")));
  if (!c) return Fail(c.error());
  if (!*c) return Fail(ErrorCode::kNotFound, "no such connector");
  return std::move(**c);
}

auto RespondConnector(ApiContext& ctx, const Request& req, const Responder& respond, int status,
                      std::string secret = {}) {
  return [&ctx, &req, respond, status, secret = std::move(secret)](Result<model::Connector> r) {
    if (!r) return ReplyError(req, respond, r.error());
    respond(JsonResponse(status, EncodeConnector(ctx, req, *r, secret)));
  };
}

}  // namespace

void CreateConnector(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto f = DecodeConnectorFields(req);
  if (!f) return ReplyError(req, respond, f.error());
  if (!f->type) return ReplyError(req, respond, FieldError("type", "type is required"));
  if (!IsConnectorType(*f->type)) {
    return ReplyError(req, respond,
                      FieldError("type", "unknown connector type '" + *f->type + "'"));
  }
  SystemTime now = ctx.clock.Now();
  model::Connector c;
  c.id = NewId("con_", now, ctx.random);
  c.workspace_id = Who(req).workspace_id;
  c.type = *f->type;
  c.display_name = f->display_name.value_or(*f->type);
  c.created_at = now;
  c.updated_at = now;
  ApplyFields(ctx, *f, c);
  ctx.store.CreateConnector(std::move(c), RespondConnector(ctx, req, respond, 201));
}

void ListConnectors(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto rows = ctx.store.ListConnectors(Who(req).workspace_id);
  if (!rows) return ReplyError(req, respond, rows.error());
  respond(JsonResponse(200, ListEnvelope(
                                [&](JsonWriter& w) {
                                  for (const auto& c : *rows) w.Raw(EncodeConnector(ctx, req, c));
                                },
                                "", false, static_cast<long long>(rows->size()))));
}

void GetConnector(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto c = FindConnectorOf(ctx, req);
  if (!c) return ReplyError(req, respond, c.error());
  respond(JsonResponse(200, EncodeConnector(ctx, req, *c)));
}

void PatchConnector(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto f = DecodeConnectorFields(req);
  if (!f) return ReplyError(req, respond, f.error());
  if (f->type) return ReplyError(req, respond, FieldError("type", "type cannot be changed"));
  if (!f->display_name && !f->config && !f->schedule && !f->backfill_days && !f->credentials &&
      !f->clear_credentials) {
    return ReplyError(req, respond, FieldError("body", "nothing to change"));
  }
  auto c = FindConnectorOf(ctx, req);
  if (!c) return ReplyError(req, respond, c.error());
  ApplyFields(ctx, *f, *c);
  c->updated_at = ctx.clock.Now();
  ctx.store.UpdateConnector(std::move(*c), RespondConnector(ctx, req, respond, 200));
}

void DeleteConnector(ApiContext& ctx, const Request& req, const Responder& respond) {
  ctx.store.DeleteConnector(Who(req).workspace_id, std::string(req.Param("id")),
                            [&req, respond](Result<bool> r) {
                              if (!r) return ReplyError(req, respond, r.error());
                              Response resp;
                              resp.status = 204;
                              respond(std::move(resp));
                            });
}

void SetConnectorInbound(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return ReplyError(req, respond, obj.error());
  bool enabled = false;
  simdjson::dom::element e;
  if (obj->at_key("enabled").get(e) != simdjson::SUCCESS || e.get(enabled) != simdjson::SUCCESS) {
    return ReplyError(req, respond, FieldError("enabled", "enabled (true or false) is required"));
  }
  auto c = FindConnectorOf(ctx, req);
  if (!c) return ReplyError(req, respond, c.error());
  std::string secret;
  if (enabled && (!c->inbound_enabled || c->inbound_secrets.empty())) {
    // A receiver is born with a secret, shown this once.
    secret = webhooks::GenerateSigningSecret(ctx.random);
    c->inbound_secrets =
        RotateSecrets(ctx.connector_key, ctx.random, ctx.clock.Now(), {}, secret, 0);
  } else if (!enabled) {
    // Turning the receiver off forgets its secrets: turning it on again issues a new one.
    c->inbound_secrets.clear();
  }
  c->inbound_enabled = enabled;
  c->updated_at = ctx.clock.Now();
  ctx.store.UpdateConnector(std::move(*c), RespondConnector(ctx, req, respond, 200, secret));
}

void RotateConnectorInboundSecret(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto grace = ParseGraceSeconds(req);
  if (!grace) return ReplyError(req, respond, grace.error());
  auto c = FindConnectorOf(ctx, req);
  if (!c) return ReplyError(req, respond, c.error());
  if (!c->inbound_enabled) {
    return ReplyError(req, respond,
                      Error{ErrorCode::kConflict,
                            "inbound webhooks are not enabled on this connector; enable them with "
                            "POST /v1/connectors/{id}/inbound",
                            {}});
  }
  std::string secret = webhooks::GenerateSigningSecret(ctx.random);
  c->inbound_secrets = RotateSecrets(ctx.connector_key, ctx.random, ctx.clock.Now(),
                                     c->inbound_secrets, secret, *grace);
  c->updated_at = ctx.clock.Now();
  ctx.store.UpdateConnector(std::move(*c), RespondConnector(ctx, req, respond, 200, secret));
}

// --- Alert-webhook settings (SPEC §6.2) ------------------------------------------------

namespace {

std::string EncodeAlertSettings(ApiContext& ctx, const Request& req,
                                const model::AlertWebhookSettings& s,
                                const std::string& new_secret = {}) {
  SystemTime now = ctx.clock.Now();
  JsonWriter w;
  w.BeginObject().Field("has_secret", !s.secrets.empty());
  TimeOrNull(w, "previous_expires_at", model::PreviousSecretExpiry(s.secrets, now));
  w.Field("receiver_url_template",
          ReceiverBaseUrl(ctx, req) + "/v1/webhooks/" + s.workspace_id + "/{provider}");
  w.Key("providers").BeginObject();
  for (std::string_view p : AlertProviders()) {
    auto it = s.require_signature.find(std::string(p));
    bool require = it == s.require_signature.end() || it->second;
    w.Key(p).BeginObject().Field("require_signature", require);
    auto stats = ctx.store.GetReceiverStats(s.workspace_id, model::AlertReceiver(p), now);
    if (stats) {
      TimeOrNull(w, "last_delivery_at", stats->last_delivery_at);
      w.Field("deliveries_24h", stats->deliveries_24h);
      w.Field("signature_failures_24h", stats->signature_failures_24h);
    }
    w.EndObject();
  }
  w.EndObject();
  TimeOrNull(w, "updated_at", s.updated_at);
  if (!new_secret.empty()) w.Field("webhook_secret", new_secret);
  w.EndObject();
  return w.Take();
}

auto RespondSettings(ApiContext& ctx, const Request& req, const Responder& respond,
                     std::string secret = {}) {
  return [&ctx, &req, respond, secret = std::move(secret)](Result<model::AlertWebhookSettings> r) {
    if (!r) return ReplyError(req, respond, r.error());
    respond(JsonResponse(200, EncodeAlertSettings(ctx, req, *r, secret)));
  };
}

}  // namespace

void GetAlertWebhookSettings(ApiContext& ctx, const Request& req, const Responder& respond) {
  RespondSettings(ctx, req, respond)(ctx.store.GetAlertWebhookSettings(Who(req).workspace_id));
}

void PatchAlertWebhookSettings(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return ReplyError(req, respond, obj.error());
  simdjson::dom::object providers;
  if (obj->at_key("providers").get(providers) != simdjson::SUCCESS) {
    return ReplyError(req, respond,
                      FieldError("providers",
                                 "expected {\"providers\": {\"<provider>\": "
                                 "{\"require_signature\": bool}}}"));
  }
  std::map<std::string, bool> changes;
  for (auto field : providers) {
    std::string name(field.key);
    std::string path = "providers." + name;
    if (!IsAlertProvider(name)) {
      return ReplyError(req, respond, FieldError(path, "unknown provider '" + name + "'"));
    }
    bool require = true;
    simdjson::dom::element v;
    if (field.value.at_key("require_signature").get(v) != simdjson::SUCCESS ||
        v.get(require) != simdjson::SUCCESS) {
      return ReplyError(req, respond,
                        FieldError(path + ".require_signature", "must be true or false"));
    }
    changes[name] = require;
  }
  auto settings = ctx.store.GetAlertWebhookSettings(Who(req).workspace_id);
  if (!settings) return ReplyError(req, respond, settings.error());
  for (const auto& [name, require] : changes) settings->require_signature[name] = require;
  ctx.store.SaveAlertWebhookSettings(std::move(*settings), RespondSettings(ctx, req, respond));
}

void RotateAlertWebhookSecret(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto grace = ParseGraceSeconds(req);
  if (!grace) return ReplyError(req, respond, grace.error());
  auto settings = ctx.store.GetAlertWebhookSettings(Who(req).workspace_id);
  if (!settings) return ReplyError(req, respond, settings.error());
  std::string secret = webhooks::GenerateSigningSecret(ctx.random);
  settings->secrets = RotateSecrets(ctx.connector_key, ctx.random, ctx.clock.Now(),
                                    settings->secrets, secret, *grace);
  ctx.store.SaveAlertWebhookSettings(std::move(*settings),
                                     RespondSettings(ctx, req, respond, secret));
}

}  // namespace causeloop::http::api

// The two inbound webhook receivers (SPEC §6). Both fail closed: the signature is checked over
// the raw bytes before anything is parsed, and every refusal is a 401 that stores nothing but
// the receiver's failure count.

#include <cctype>
#include <memory>

#include "auth/crypto.h"
#include "auth/scopes.h"
#include "auth/secretbox.h"
#include "core/log.h"
#include "http/api/common.h"
#include "http/api/handlers.h"
#include "http/api/ingest_replies.h"
#include "http/api/receivers.h"
#include "ingest/json_input.h"
#include "net/ssrf.h"
#include "normalize/normalize.h"
#include "webhooks/inbound/providers.h"
#include "webhooks/inbound/verify.h"

namespace causeloop::http::api {

std::string ReceiverBaseUrl(const ApiContext& ctx, const Request& req) {
  std::string base = ctx.public_url;
  if (base.empty()) base = "http://" + std::string(req.Header("host"));
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

namespace {

using webhooks::inbound::Action;
using webhooks::inbound::HeaderLookup;

HeaderLookup Headers(const Request& req) {
  return [&req](std::string_view name) -> std::optional<std::string_view> {
    if (!req.HasHeader(name)) return std::nullopt;
    return req.Header(name);
  };
}

// The secrets that still verify: the current one and a previous one within its grace period.
std::vector<std::string> LiveSecrets(const ApiContext& ctx,
                                     const std::vector<model::WebhookSecret>& sealed,
                                     SystemTime now) {
  std::vector<std::string> out;
  for (const auto& s : sealed) {
    if (!model::SecretIsLive(s.expires_at, now)) continue;
    auto plain = auth::Open(ctx.connector_key, s.sealed);
    if (plain) {
      out.push_back(std::move(*plain));
    } else {
      log::Warn("inbound signing secret cannot be unsealed", {});
    }
  }
  return out;
}

Error Unauthorized(std::string message) {
  return Error{ErrorCode::kUnauthorized, std::move(message), {}};
}

// Counts a refused delivery and answers 401. Never logs the body or a secret.
void Refuse(ApiContext& ctx, const Request& req, const Responder& respond, const std::string& ws,
            const std::string& receiver, const Error& why) {
  log::Warn("inbound webhook refused",
            {{"receiver", receiver}, {"reason", why.message}, {"request_id", req.request_id}});
  if (!ws.empty()) {
    ctx.store.RecordReceiverDelivery(ws, receiver, ctx.clock.Now(), false, why.message, {});
  }
  ReplyError(req, respond, why);
}

// What a verified delivery asks for: the records to store (resolutions only update), and how
// many events it carried that change nothing.
struct Parsed {
  std::vector<ingest::Decoded> decoded;
  long long ignored = 0;
};

Result<Parsed> FromProvider(std::string_view provider, const Request& req,
                            simdjson::dom::element root) {
  auto records = webhooks::inbound::ParseWebhook(provider, Headers(req), root);
  if (!records) return Fail(records.error());
  Parsed p;
  int index = 0;
  for (auto& r : *records) {
    int i = index++;
    if (r.action == Action::kIgnore) {
      ++p.ignored;
      continue;
    }
    // A resolution of an issue never seen must not create one.
    if (r.action == Action::kResolve) r.record.update_only = true;
    p.decoded.push_back(ingest::Decoded{i, std::move(r.record)});
  }
  return p;
}

// A connector whose type has no webhook parser takes what its polling shape would be (the
// provider's native REST object), and custom_api takes the canonical ingest body: one record
// or {"records": [...]}.
Result<Parsed> FromConnector(const model::Connector& c, const Request& req,
                             simdjson::dom::element root) {
  if (c.type != "custom_api" && webhooks::inbound::IsWebhookProvider(c.type)) {
    return FromProvider(c.type, req, root);
  }
  Parsed p;
  if (c.type == "custom_api") {
    simdjson::dom::array records;
    if (root["records"].get(records) == simdjson::SUCCESS) {
      auto decoded = DecodeBatchRecords(records);
      if (!decoded) return Fail(decoded.error());
      p.decoded = std::move(*decoded);
      return p;
    }
    p.decoded.push_back(ingest::Decoded{0, normalize::DecodeRecord(root)});
    return p;
  }
  if (normalize::IsNativeSource(c.type)) {
    p.decoded.push_back(ingest::Decoded{0, normalize::NormalizeNative(c.type, root)});
    return p;
  }
  return Fail(Error{ErrorCode::kUnprocessable,
                    "connectors of type '" + c.type + "' do not accept webhook payloads",
                    {}});
}

bool IsDuplicateDelivery(const Error& e) {
  if (e.code != ErrorCode::kConflict) return false;
  for (const auto& [field, text] : e.details) {
    if (field == "delivery_id") return true;
  }
  return false;
}

std::string DuplicateBody(const std::string& delivery_id) {
  JsonWriter w;
  w.BeginObject().Field("duplicate_delivery", true).Field("delivery_id", delivery_id);
  w.Field("accepted", 0LL).EndObject();
  return w.Take();
}

// Nothing to store: every event of the delivery was one that changes nothing.
std::string NothingBody(long long ignored) {
  JsonWriter w;
  w.BeginObject().Field("accepted", 0LL).Key("rejected").BeginArray().EndArray();
  w.Key("results").BeginArray().EndArray().Key("job_id").Null();
  w.Field("ignored", ignored).EndObject();
  return w.Take();
}

// SPEC §6.2's answer for one alert.
std::string AlertBody(const ingest::Outcome& o) {
  const auto& r = o.results.at(0);
  JsonWriter w;
  w.BeginObject().FieldOrNull("incidentId", r.issue_id).FieldOrNull("issue_id", r.issue_id);
  w.FieldOrNull("pattern_id", r.pattern_id).Field("status", model::IssueStatusName(r.status));
  w.Field("severity", model::SeverityName(r.severity)).Field("title", r.title);
  w.Field("deduplicated", r.deduplicated).FieldOrNull("job_id", o.job_id).EndObject();
  return w.Take();
}

// Stores a verified, parsed delivery once: a replayed delivery id answers 200 and changes
// nothing.
void StoreDelivery(ApiContext& ctx, const Request& req, const Responder& respond,
                   const std::string& ws, const std::string& connector_id,
                   const std::string& receiver, const std::optional<std::string>& delivery_id,
                   Parsed parsed, bool alert_style) {
  if (parsed.decoded.empty()) return respond(JsonResponse(202, NothingBody(parsed.ignored)));
  bool batch = parsed.decoded.size() > 1;
  std::string id = delivery_id.value_or("");
  ctx.ingestor.IngestDelivery(
      ws, std::move(parsed.decoded), connector_id, receiver, id,
      [&req, respond, id, batch, alert_style](Result<ingest::Outcome> out) {
        if (!out) {
          if (IsDuplicateDelivery(out.error())) {
            return respond(JsonResponse(200, DuplicateBody(id)));
          }
          return ReplyError(req, respond, out.error());
        }
        if (out->results.empty()) {
          // The one record was rejected by normalization.
          const auto& r = out->rejected.at(0);
          Error e{ErrorCode::kValidation, r.reason, {}};
          if (!r.field.empty()) e.details.emplace_back(r.field, r.reason);
          return ReplyError(req, respond, e);
        }
        if (batch) return respond(JsonResponse(202, EncodeIngestBatch(*out)));
        respond(JsonResponse(202, alert_style ? AlertBody(*out) : EncodeIngestSingle(*out)));
      });
}

// Amazon SNS's subscription handshake: visit SubscribeURL (an https URL on an SNS host,
// checked again by the SSRF guard) and answer once it is confirmed; a failure answers 503
// so SNS sends the confirmation again.
bool MaybeConfirmSns(ApiContext& ctx, const Request& req, const Responder& respond,
                     simdjson::dom::element root) {
  auto sns = webhooks::inbound::ParseSnsSubscriptionConfirmation(root);
  if (!sns) {
    ReplyError(req, respond, sns.error());
    return true;
  }
  if (!*sns) return false;
  std::string url = (*sns)->subscribe_url;
  std::string topic = (*sns)->topic_arn;
  if (auto s = net::CheckOutboundUrl(url, false); !s) {
    ReplyError(req, respond, FieldError("SubscribeURL", s.error().message));
    return true;
  }
  if (ctx.http == nullptr) {
    ReplyError(req, respond,
               Error{ErrorCode::kUnavailable, "SNS subscriptions cannot be confirmed", {}});
    return true;
  }
  net::HttpRequest get;
  get.method = "GET";
  get.url = url;
  get.timeout = std::chrono::seconds(10);
  get.pool_key = "sns-confirm";
  ctx.http->Send(std::move(get), [&req, respond, topic](const net::HttpResult& r) {
    if (r.status < 200 || r.status > 299) {
      log::Warn("SNS subscription not confirmed",
                {{"topic_arn", topic}, {"status", std::to_string(r.status)}, {"error", r.error}});
      return ReplyError(
          req, respond,
          Error{ErrorCode::kUnavailable, "the SNS subscription was not confirmed", {}});
    }
    JsonWriter w;
    w.BeginObject().Field("subscription_confirmed", true).Field("topic_arn", topic).EndObject();
    respond(JsonResponse(200, w.Take()));
  });
  return true;
}

// The token of an alert-tool request: X-API-Key, else Authorization: Bearer, else the password
// of Authorization: Basic (for senders such as SNS that only put credentials in the URL).
std::string AlertToken(const Request& req) {
  if (std::string_view key = req.Header("x-api-key"); !key.empty()) return std::string(key);
  std::string_view auth = req.Header("authorization");
  auto starts = [&auth](std::string_view prefix) {
    if (auth.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(auth[i])) != prefix[i]) return false;
    }
    return true;
  };
  if (starts("bearer ")) return std::string(auth.substr(7));
  if (starts("basic ")) {
    auto decoded = auth::Base64Decode(auth.substr(6));
    if (!decoded) return {};
    auto colon = decoded->find(':');
    return colon == std::string::npos ? std::string() : decoded->substr(colon + 1);
  }
  return {};
}

}  // namespace

// SPEC §6.1: POST /v1/webhooks/inbound/{connector_id}, no token: the signature is the
// credential.
void PostConnectorInbound(ApiContext& ctx, const Request& req, const Responder& respond) {
  std::string id(req.Param("connector_id"));
  auto found = ctx.store.FindConnector(id);
  if (!found) return ReplyError(req, respond, found.error());
  std::string receiver = model::ConnectorReceiver(id);
  if (!*found) {
    return Refuse(ctx, req, respond, "", receiver,
                  Unauthorized("unknown connector or inbound webhooks not enabled"));
  }
  const model::Connector& c = **found;
  SystemTime now = ctx.clock.Now();
  if (!c.inbound_enabled) {
    return Refuse(ctx, req, respond, c.workspace_id, receiver,
                  Unauthorized("unknown connector or inbound webhooks not enabled"));
  }
  auto scheme = webhooks::inbound::VerifyConnectorSignature(
      Headers(req), req.body, LiveSecrets(ctx, c.inbound_secrets, now), now);
  if (!scheme) return Refuse(ctx, req, respond, c.workspace_id, receiver, scheme.error());
  ctx.store.RecordReceiverDelivery(c.workspace_id, receiver, now, true, "", {});

  auto root = ingest::ParseJsonBody(req.body);
  if (!root) return ReplyError(req, respond, root.error());
  if (c.type == "cloudwatch" && MaybeConfirmSns(ctx, req, respond, *root)) return;
  std::optional<std::string> delivery;
  if (webhooks::inbound::IsWebhookProvider(c.type)) {
    delivery = webhooks::inbound::DeliveryId(c.type, Headers(req), *root);
  } else if (req.HasHeader("webhook-id")) {
    delivery = std::string(req.Header("webhook-id"));
  }
  auto parsed = FromConnector(c, req, *root);
  if (!parsed) return ReplyError(req, respond, parsed.error());
  StoreDelivery(ctx, req, respond, c.workspace_id, c.id, receiver, delivery, std::move(*parsed),
                false);
}

// SPEC §6.2: POST /v1/webhooks/{workspace_id}/{provider}, an ingest:write token of the
// workspace and (unless an admin waived it for the provider) the workspace's signature.
void PostAlertWebhook(ApiContext& ctx, const Request& req, const Responder& respond) {
  std::string ws(req.Param("workspace_id"));
  std::string provider(req.Param("provider"));
  if (!IsAlertProvider(provider)) {
    return ReplyError(req, respond,
                      Error{ErrorCode::kNotFound, "unknown provider '" + provider + "'", {}});
  }
  std::string receiver = model::AlertReceiver(provider);
  std::string token = AlertToken(req);
  if (token.empty()) {
    return Refuse(ctx, req, respond, "", receiver,
                  Unauthorized("X-API-Key or Authorization: Bearer is required"));
  }
  auto principal = ctx.tokens.Authenticate(token);
  if (!principal) return Refuse(ctx, req, respond, "", receiver, principal.error());
  if (principal->workspace_id != ws) {
    // Said the same way as an unknown key: nothing about other workspaces leaks.
    return Refuse(ctx, req, respond, "", receiver,
                  Unauthorized("the API key is not valid for this workspace"));
  }
  if (!auth::HasScope(principal->scopes, "ingest:write")) {
    return ReplyError(req, respond,
                      Error{ErrorCode::kForbidden, "the API key lacks the ingest:write scope", {}});
  }
  auto settings = ctx.store.GetAlertWebhookSettings(ws);
  if (!settings) return ReplyError(req, respond, settings.error());
  auto rule = settings->require_signature.find(provider);
  bool required = rule == settings->require_signature.end() || rule->second;
  SystemTime now = ctx.clock.Now();
  // A signature that is present is always checked, even where it is not required.
  if (required || req.HasHeader("x-webhook-signature")) {
    auto ok = webhooks::inbound::VerifyAlertWebhookSignature(
        Headers(req), req.body, LiveSecrets(ctx, settings->secrets, now));
    if (!ok) return Refuse(ctx, req, respond, ws, receiver, ok.error());
  }
  ctx.store.RecordReceiverDelivery(ws, receiver, now, true, "", {});

  auto root = ingest::ParseJsonBody(req.body);
  if (!root) return ReplyError(req, respond, root.error());
  if (provider == "cloudwatch" && MaybeConfirmSns(ctx, req, respond, *root)) return;
  auto parsed = FromProvider(provider, req, *root);
  if (!parsed) return ReplyError(req, respond, parsed.error());
  if (provider == "custom") {
    // A sourceAlertId already seen is a 409 naming the issue (SPEC §6.2), never an update.
    if (parsed->decoded.empty()) return respond(JsonResponse(202, NothingBody(parsed->ignored)));
    model::IssueRecord record = std::move(*parsed->decoded.front().record);
    ctx.store.CreateIssue(ws, std::move(record), [&req, respond](Result<model::Issue> issue) {
      if (!issue) return ReplyError(req, respond, issue.error());
      ingest::Outcome o;
      ingest::RecordResult r;
      r.issue_id = issue->id;
      r.pattern_id = issue->pattern_id;
      r.status = issue->status;
      r.severity = issue->severity;
      r.title = issue->title;
      o.accepted = 1;
      o.results.push_back(std::move(r));
      respond(JsonResponse(202, AlertBody(o)));
    });
    return;
  }
  StoreDelivery(ctx, req, respond, ws, "", receiver,
                webhooks::inbound::DeliveryId(provider, Headers(req), *root), std::move(*parsed),
                true);
}

}  // namespace causeloop::http::api

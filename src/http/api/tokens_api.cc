#include "auth/scopes.h"
#include "auth/tokens.h"
#include "core/ids.h"
#include "core/time.h"
#include "http/api/common.h"
#include "http/api/handlers.h"
#include "ingest/json_input.h"
#include "model/json.h"

namespace causeloop::http::api {
namespace {

constexpr long long kMaxGraceSeconds = 7LL * 24 * 3600;

std::string TokenWithSecret(const model::ApiToken& t, const std::string& secret) {
  JsonWriter w;
  model::WriteApiToken(w, t);
  std::string body = w.Take();
  // Append the one-time secret to the object.
  body.pop_back();
  JsonWriter s;
  s.String(secret);
  body += ",\"token\":" + s.str() + "}";
  return body;
}

}  // namespace

void GetScopes(ApiContext&, const Request&, const Responder& respond) {
  JsonWriter w;
  w.BeginObject().Key("data").BeginArray();
  for (const auto& s : auth::AllScopes()) {
    w.BeginObject().Field("name", s.name).Field("description", s.description).EndObject();
  }
  w.EndArray().EndObject();
  respond(JsonResponse(200, w.Take()));
}

void PostToken(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto obj = ParseObjectBody(req.body);
  if (!obj) return ReplyError(req, respond, obj.error());
  std::optional<std::string> name, expires_at;
  if (auto s = OptString(*obj, "name", name, 100); !s) return ReplyError(req, respond, s.error());
  if (auto s = OptString(*obj, "expires_at", expires_at, 64); !s) {
    return ReplyError(req, respond, s.error());
  }
  if (!name || name->empty()) {
    return ReplyError(req, respond, FieldError("name", "name is required (1-100 characters)"));
  }
  simdjson::dom::array scopes_json;
  if ((*obj)["scopes"].get(scopes_json) != simdjson::SUCCESS || scopes_json.size() == 0) {
    return ReplyError(req, respond, FieldError("scopes", "scopes must be a non-empty array"));
  }
  model::ApiToken t;
  for (auto e : scopes_json) {
    std::string_view s;
    if (e.get(s) != simdjson::SUCCESS || !auth::IsKnownScope(s)) {
      return ReplyError(req, respond,
                        FieldError("scopes", "unknown scope; see GET /v1/api-tokens/scopes"));
    }
    // A token can never grant more than its creator holds.
    if (!auth::HasScope(Who(req).scopes, s)) {
      return ReplyError(req, respond,
                        Error{ErrorCode::kForbidden,
                              "cannot grant scope '" + std::string(s) + "' you do not hold",
                              {}});
    }
    if (std::find(t.scopes.begin(), t.scopes.end(), s) == t.scopes.end()) t.scopes.emplace_back(s);
  }
  SystemTime now = ctx.clock.Now();
  if (expires_at) {
    auto when = ParseRfc3339(*expires_at);
    if (!when)
      return ReplyError(req, respond, FieldError("expires_at", "must be an RFC 3339 timestamp"));
    if (*when <= now)
      return ReplyError(req, respond, FieldError("expires_at", "must be in the future"));
    t.expires_at = *when;
  }
  std::string secret = auth::GenerateTokenSecret(ctx.random);
  t.id = NewId("tok_", now, ctx.random);
  t.workspace_id = Who(req).workspace_id;
  t.name = *name;
  t.hash_hex = auth::HashTokenSecret(secret);
  t.prefix = auth::DisplayPrefix(secret);
  t.created_at = now;
  if (auto s = ctx.store.InsertToken(t); !s) return ReplyError(req, respond, s.error());
  respond(JsonResponse(201, TokenWithSecret(t, secret)));
}

void ListTokens(ApiContext& ctx, const Request& req, const Responder& respond) {
  auto limit = ParseLimit(req);
  if (!limit) return ReplyError(req, respond, limit.error());
  auto tokens = ctx.store.ListTokens(Who(req).workspace_id);
  if (!tokens) return ReplyError(req, respond, tokens.error());
  // Tokens per workspace are few: page in memory by id, with a signed cursor.
  std::string after;
  if (auto c = req.Query("cursor")) {
    auto opened = ctx.cursors.Open(*c);
    if (!opened || opened->rfind("tok|", 0) != 0) {
      return ReplyError(req, respond, FieldError("cursor", "invalid or tampered cursor"));
    }
    after = opened->substr(4);
  }
  std::vector<const model::ApiToken*> page;
  bool has_more = false;
  for (const auto& t : *tokens) {
    if (!after.empty() && t.id <= after) continue;
    if (static_cast<int>(page.size()) == *limit) {
      has_more = true;
      break;
    }
    page.push_back(&t);
  }
  std::string next = has_more ? ctx.cursors.Seal("tok|" + page.back()->id) : "";
  respond(JsonResponse(200, ListEnvelope(
                                [&](JsonWriter& w) {
                                  for (auto* t : page) model::WriteApiToken(w, *t);
                                },
                                next, has_more, static_cast<long long>(tokens->size()))));
}

void RotateToken(ApiContext& ctx, const Request& req, const Responder& respond) {
  std::optional<long long> grace;
  if (!req.body.empty()) {
    auto obj = ParseObjectBody(req.body);
    if (!obj) return ReplyError(req, respond, obj.error());
    if (auto s = OptInt(*obj, "grace_seconds", grace); !s)
      return ReplyError(req, respond, s.error());
    if (grace && (*grace < 0 || *grace > kMaxGraceSeconds)) {
      return ReplyError(req, respond,
                        FieldError("grace_seconds", "grace_seconds must be 0 to 604800 (7 days)"));
    }
  }
  std::string id(req.Param("id"));
  SystemTime now = ctx.clock.Now();
  std::string secret = auth::GenerateTokenSecret(ctx.random);
  std::optional<SystemTime> previous_expires;
  if (grace && *grace > 0) previous_expires = now + std::chrono::seconds(*grace);
  auto t = ctx.store.RotateToken(Who(req).workspace_id, id, auth::HashTokenSecret(secret),
                                 auth::DisplayPrefix(secret), previous_expires);
  if (!t) return ReplyError(req, respond, t.error());
  ctx.tokens.Invalidate(id);
  respond(JsonResponse(200, TokenWithSecret(*t, secret)));
}

void DeleteToken(ApiContext& ctx, const Request& req, const Responder& respond) {
  std::string id(req.Param("id"));
  if (auto s = ctx.store.RevokeToken(Who(req).workspace_id, id, ctx.clock.Now()); !s) {
    return ReplyError(req, respond, s.error());
  }
  ctx.tokens.Invalidate(id);
  Response r;
  r.status = 204;
  r.content_type.clear();
  respond(std::move(r));
}

}  // namespace causeloop::http::api

#include "http/api/common.h"

#include <charconv>

#include "auth/crypto.h"
#include "auth/secretbox.h"
#include "ingest/json_input.h"

namespace causeloop::http::api {

Result<int> ParseLimit(const Request& req, int def, int max) {
  auto v = req.Query("limit");
  if (!v) return def;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < 1 || n > max) {
    return FailField("limit", "limit must be an integer from 1 to " + std::to_string(max));
  }
  return n;
}

Status OptString(simdjson::dom::object obj, std::string_view key, std::optional<std::string>& out,
                 size_t max_len) {
  simdjson::dom::element e;
  if (obj.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return {};
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) return FailField(std::string(key), "must be a string");
  if (s.size() > max_len) {
    return FailField(std::string(key), "must be at most " + std::to_string(max_len) + " bytes");
  }
  out = std::string(s);
  return {};
}

Status OptInt(simdjson::dom::object obj, std::string_view key, std::optional<long long>& out) {
  simdjson::dom::element e;
  if (obj.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return {};
  int64_t v;
  if (e.get(v) != simdjson::SUCCESS) return FailField(std::string(key), "must be an integer");
  out = v;
  return {};
}

Result<simdjson::dom::object> RequireObject(simdjson::dom::element e) {
  simdjson::dom::object o;
  if (e.get(o) != simdjson::SUCCESS) return FailField("body", "the body must be a JSON object");
  return o;
}

Result<simdjson::dom::object> ParseObjectBody(std::string_view body) {
  auto root = ingest::ParseJsonBody(body);
  if (!root) return Fail(root.error());
  return RequireObject(*root);
}

std::string QueryFingerprint(const Request& req, std::initializer_list<std::string_view> keys,
                             std::string_view scope) {
  std::string f(scope);
  f += '|';
  for (auto key : keys) {
    f += key;
    f += '=';
    if (auto v = req.Query(key)) f += *v;
    f += '&';
  }
  return auth::Sha256Hex(f).substr(0, 16);
}

Result<long long> ParseGraceSeconds(const Request& req) {
  constexpr long long kDefaultGraceSeconds = 86'400;
  constexpr long long kMaxGraceSeconds = 7LL * 86'400;
  std::optional<long long> grace;
  if (!req.body.empty()) {
    auto obj = ParseObjectBody(req.body);
    if (!obj) return Fail(obj.error());
    if (auto s = OptInt(*obj, "grace_seconds", grace); !s) return Fail(s.error());
  }
  long long g = grace.value_or(kDefaultGraceSeconds);
  if (g < 0 || g > kMaxGraceSeconds) {
    return FailField("grace_seconds", "grace_seconds must be within 0 and 604800");
  }
  return g;
}

std::vector<model::WebhookSecret> RotateSecrets(std::string_view key, Random& random,
                                                SystemTime now,
                                                const std::vector<model::WebhookSecret>& current,
                                                const std::string& secret,
                                                long long grace_seconds) {
  std::vector<model::WebhookSecret> out;
  out.push_back({auth::Seal(key, secret, random), std::nullopt});
  if (!current.empty() && grace_seconds > 0) {
    model::WebhookSecret previous = current.front();
    previous.expires_at = now + std::chrono::seconds(grace_seconds);
    out.push_back(std::move(previous));
  }
  return out;
}

Result<ListPosition> OpenListCursor(const auth::CursorSigner& cursors, std::string_view cursor,
                                    std::string_view version, std::string_view fingerprint) {
  auto payload = cursors.Open(cursor);
  if (!payload) return Fail(payload.error());
  std::string_view p = *payload;
  auto next = [&p]() {
    auto bar = p.find('|');
    std::string_view part = p.substr(0, bar);
    p = bar == std::string_view::npos ? std::string_view{} : p.substr(bar + 1);
    return part;
  };
  if (next() != version || next() != fingerprint) {
    return Fail(FieldError("cursor", "the cursor belongs to another query"));
  }
  ListPosition pos;
  pos.after_value = std::string(next());
  pos.after_id = std::string(next());
  if (pos.after_id.empty()) return Fail(FieldError("cursor", "invalid or tampered cursor"));
  return pos;
}

}  // namespace causeloop::http::api

#include "http/api/common.h"

#include <charconv>

#include "auth/crypto.h"
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

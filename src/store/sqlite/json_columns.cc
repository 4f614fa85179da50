#include "store/sqlite/json_columns.h"

#include <cstdint>

#include "core/json_writer.h"

namespace causeloop::store::sqlite {

simdjson::dom::parser& JsonColumnParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::string EncodeSecrets(const std::vector<model::WebhookSecret>& secrets) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& s : secrets) {
    w.BeginObject().Field("sealed", s.sealed).Key("expires_at");
    if (s.expires_at) {
      w.Int(ToUnixMillis(*s.expires_at));
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  return w.Take();
}

std::vector<model::WebhookSecret> DecodeSecrets(const std::string& json) {
  std::vector<model::WebhookSecret> out;
  simdjson::dom::array a;
  if (JsonColumnParser().parse(json).get(a) != simdjson::SUCCESS) return out;
  for (auto e : a) {
    model::WebhookSecret s;
    std::string_view sealed;
    if (e["sealed"].get(sealed) != simdjson::SUCCESS) continue;
    s.sealed = std::string(sealed);
    int64_t ms = 0;
    if (e["expires_at"].get(ms) == simdjson::SUCCESS) s.expires_at = FromUnixMillis(ms);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace causeloop::store::sqlite

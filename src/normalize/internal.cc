#include "normalize/internal.h"

#include <algorithm>
#include <map>

#include "auth/crypto.h"
#include "core/json_writer.h"
#include "core/time.h"
#include "normalize/normalize.h"
#include "normalize/text.h"

namespace causeloop::normalize::internal {
namespace {

const char* TypeName(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return "an array";
    case T::OBJECT:
      return "an object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      return "a number";
    case T::STRING:
      return "a string";
    case T::BOOL:
      return "a boolean";
    case T::NULL_VALUE:
      return "null";
  }
  return "a value";
}

Error WrongType(const std::string& path, const char* expected, simdjson::dom::element e) {
  return FieldError(path, path + " must be " + expected + ", not " + TypeName(e.type()));
}

}  // namespace

Error FieldError(std::string path, std::string message) {
  Error e{ErrorCode::kValidation, message, {}};
  e.details.emplace_back(std::move(path), std::move(message));
  return e;
}

Result<ObjectView> ObjectView::Root(simdjson::dom::element e) {
  simdjson::dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) {
    return Fail(
        FieldError("", std::string("the record must be a JSON object, not ") + TypeName(e.type())));
  }
  return ObjectView(obj, "");
}

std::optional<simdjson::dom::element> ObjectView::Get(std::string_view key) const {
  simdjson::dom::element value;
  if (obj_.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

std::string ObjectView::PathOf(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  std::string out = path_;
  out.push_back('.');
  out.append(key);
  return out;
}

Result<std::optional<std::string_view>> ObjectView::String(std::string_view key) const {
  auto value = Get(key);
  if (!value) return std::optional<std::string_view>();
  std::string_view s;
  if (value->get_string().get(s) != simdjson::SUCCESS) {
    return Fail(WrongType(PathOf(key), "a string", *value));
  }
  return std::optional<std::string_view>(s);
}

Result<std::optional<ObjectView>> ObjectView::Object(std::string_view key) const {
  auto value = Get(key);
  if (!value) return std::optional<ObjectView>();
  simdjson::dom::object obj;
  if (value->get_object().get(obj) != simdjson::SUCCESS) {
    return Fail(WrongType(PathOf(key), "an object", *value));
  }
  return std::optional<ObjectView>(ObjectView(obj, PathOf(key)));
}

Result<std::optional<simdjson::dom::array>> ObjectView::Array(std::string_view key) const {
  auto value = Get(key);
  if (!value) return std::optional<simdjson::dom::array>();
  simdjson::dom::array arr;
  if (value->get_array().get(arr) != simdjson::SUCCESS) {
    return Fail(WrongType(PathOf(key), "an array", *value));
  }
  return std::optional<simdjson::dom::array>(arr);
}

Result<std::optional<std::string>> ObjectView::Id(std::string_view key) const {
  auto value = Get(key);
  if (!value) return std::optional<std::string>();
  std::string_view s;
  int64_t i = 0;
  uint64_t u = 0;
  if (value->get_string().get(s) == simdjson::SUCCESS) return std::optional<std::string>(s);
  if (value->get_int64().get(i) == simdjson::SUCCESS) {
    return std::optional<std::string>(std::to_string(i));
  }
  if (value->get_uint64().get(u) == simdjson::SUCCESS) {
    return std::optional<std::string>(std::to_string(u));
  }
  return Fail(WrongType(PathOf(key), "a string or an integer", *value));
}

std::optional<std::string_view> ObjectView::StringOr(std::string_view key) const {
  auto value = Get(key);
  std::string_view s;
  if (!value || value->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

std::optional<ObjectView> ObjectView::ObjectOr(std::string_view key) const {
  auto value = Get(key);
  simdjson::dom::object obj;
  if (!value || value->get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
  return ObjectView(obj, PathOf(key));
}

std::optional<std::string_view> ObjectView::Display(std::string_view key) const {
  if (auto s = StringOr(key)) return s;
  auto inner = ObjectOr(key);
  if (!inner) return std::nullopt;
  for (std::string_view member : {"display_value", "name", "summary", "value"}) {
    if (auto s = inner->StringOr(member); s && !s->empty()) return s;
  }
  return std::nullopt;
}

Result<SystemTime> ParseTimestamp(std::string_view text, const std::string& field) {
  auto t = ParseRfc3339(TrimAscii(text));
  if (!t) return Fail(FieldError(field, field + " must be an RFC 3339 timestamp"));
  return *t;
}

std::string DerivedExternalId(const model::IssueRecord& record) {
  // JSON is the canonical serialization: strings are length-delimited by their quotes and
  // escaping, so no two different field tuples serialize the same.
  JsonWriter w;
  w.BeginArray()
      .String(record.source)
      .String(record.title)
      .String(record.body)
      .String(record.service)
      .String(record.environment)
      .String(record.team);
  w.BeginArray();
  for (const auto& [key, value] : record.labels)
    w.BeginArray().String(key).String(value).EndArray();
  w.EndArray().EndArray();
  return "h_" + auth::Sha256Hex(w.str()).substr(0, 32);
}

std::string_view UrlOrigin(std::string_view url) {
  size_t scheme_end;
  if (url.substr(0, 8) == "https://") {
    scheme_end = 8;
  } else if (url.substr(0, 7) == "http://") {
    scheme_end = 7;
  } else {
    return {};
  }
  size_t host_end = url.find_first_of("/?#", scheme_end);
  if (host_end == std::string_view::npos) host_end = url.size();
  if (host_end == scheme_end) return {};
  return url.substr(0, host_end);
}

bool IsHttpUrl(std::string_view url) {
  // A URL never holds raw whitespace or control characters (RFC 3986 §2); "http:// x" is not
  // a link anyone can follow.
  bool clean = std::ranges::none_of(url, [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
  return clean && !UrlOrigin(url).empty();
}

namespace {

// NUL is valid JSON ("\u0000") but no text column (PostgreSQL's in particular) stores it.
void StripNul(std::string& s) { std::erase(s, '\0'); }

void StripNulEverywhere(model::IssueRecord& r) {
  for (std::string* s : {&r.source, &r.external_id, &r.title, &r.body, &r.service, &r.environment,
                         &r.team, &r.external_url}) {
    StripNul(*s);
  }
  // Labels rarely hold a NUL: the map is rebuilt (keys may change, and then collide) only
  // when one does.
  auto has_nul = [](const std::string& s) { return s.find('\0') != std::string::npos; };
  if (std::any_of(r.labels.begin(), r.labels.end(),
                  [&](const auto& kv) { return has_nul(kv.first) || has_nul(kv.second); })) {
    std::map<std::string, std::string> labels;
    for (auto& [key, value] : r.labels) {
      std::string k = key;
      std::string v = value;
      StripNul(k);
      StripNul(v);
      labels[std::move(k)] = std::move(v);
    }
    r.labels = std::move(labels);
  }
  if (r.resolution) {
    for (std::string* s : {&r.resolution->summary, &r.resolution->fix, &r.resolution->fix_url,
                           &r.resolution->resolved_by, &r.resolution->source_field}) {
      StripNul(*s);
    }
  }
}

}  // namespace

Result<model::IssueRecord> Finalize(model::IssueRecord record) {
  StripNulEverywhere(record);
  std::string raw_source = std::move(record.source);
  std::string source = LowerAscii(TrimAscii(raw_source));
  record.source_raw.clear();
  if (source.empty()) {
    record.source = "custom_api";
  } else if (model::IsKnownSource(source)) {
    record.source = std::move(source);
  } else {
    record.source = "custom_api";
    record.source_raw = TruncateBytes(raw_source, 200, nullptr);
  }

  record.external_id = std::string(TrimAscii(record.external_id));
  std::string title = CollapseWhitespace(record.title);
  if (title.empty()) title = CollapseWhitespace(record.external_id);
  if (title.empty()) {
    return Fail(FieldError("title", "a record needs a non-empty title or external_id"));
  }
  record.title_truncated = false;
  record.title = std::string(
      TrimAscii(TruncateCodePoints(title, kMaxTitleCodePoints, &record.title_truncated)));

  record.body_truncated = false;
  record.body = TruncateBytes(record.body, kMaxBodyBytes, &record.body_truncated);
  record.service = std::string(TrimAscii(record.service));
  record.environment = std::string(TrimAscii(record.environment));
  record.team = std::string(TrimAscii(record.team));
  // Decoded records had their URL checked (and a bad one refused); a provider's URL that is not
  // a followable link is dropped, so every stored URL decodes again.
  record.external_url = std::string(TrimAscii(record.external_url));
  if (!record.external_url.empty() && !IsHttpUrl(record.external_url)) record.external_url.clear();
  if (record.resolution && record.resolution->empty()) record.resolution.reset();

  if (record.external_id.empty()) {
    record.external_id = DerivedExternalId(record);
    record.external_id_derived = true;
  }
  return record;
}

}  // namespace causeloop::normalize::internal

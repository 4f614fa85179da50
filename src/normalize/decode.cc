// The canonical ingest record (SPEC §5.1, §5.2) and the severity/status vocabularies.

#include <cmath>

#include "core/json_writer.h"
#include "core/time.h"
#include "normalize/internal.h"
#include "normalize/normalize.h"
#include "normalize/text.h"
#include "normalize/vocab.h"

namespace causeloop::normalize {
namespace {

using internal::FieldError;
using internal::ObjectView;

// Copies an optional string field into `out` (trimmed when `trim`).
Status ReadString(const ObjectView& obj, std::string_view key, std::string& out, bool trim = true) {
  auto value = obj.String(key);
  if (!value) return tl::unexpected(std::move(value.error()));
  if (*value) out = std::string(trim ? TrimAscii(**value) : **value);
  return {};
}

// labels: an object of string -> string. The "tags" alias may also be an array of
// "key:value" strings (a bare "key" gets an empty value), as many tools send tags.
Status ReadLabels(const ObjectView& obj, model::IssueRecord& record) {
  std::string_view key = obj.Has("labels") ? "labels" : "tags";
  auto value = obj.Get(key);
  if (!value) return {};
  simdjson::dom::object labels;
  simdjson::dom::array tags;
  if (value->get_object().get(labels) == simdjson::SUCCESS) {
    for (auto field : labels) {
      std::string_view v;
      if (field.value.get_string().get(v) != simdjson::SUCCESS) {
        return tl::unexpected(FieldError(
            std::string(key), "label \"" + std::string(field.key) + "\" must be a string"));
      }
      record.labels[std::string(field.key)] = std::string(v);
    }
    return {};
  }
  if (key == "tags" && value->get_array().get(tags) == simdjson::SUCCESS) {
    for (simdjson::dom::element tag : tags) {
      std::string_view t;
      if (tag.get_string().get(t) != simdjson::SUCCESS) {
        return tl::unexpected(FieldError("tags", "tags must be strings"));
      }
      size_t colon = t.find(':');
      std::string_view k = colon == std::string_view::npos ? t : t.substr(0, colon);
      std::string_view v = colon == std::string_view::npos ? "" : t.substr(colon + 1);
      if (!TrimAscii(k).empty()) record.labels[std::string(TrimAscii(k))] = std::string(v);
    }
    return {};
  }
  return tl::unexpected(FieldError(std::string(key), std::string(key) + " must be an object"));
}

// The first present field of `keys` as an RFC 3339 timestamp.
Result<std::optional<SystemTime>> ReadTimestamp(const ObjectView& obj,
                                                std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    auto value = obj.String(key);
    if (!value) return tl::unexpected(std::move(value.error()));
    if (!*value) continue;
    auto t = internal::ParseTimestamp(**value, std::string(key));
    if (!t) return tl::unexpected(std::move(t.error()));
    return std::optional<SystemTime>(*t);
  }
  return std::optional<SystemTime>();
}

Result<std::optional<model::Resolution>> ReadResolution(const ObjectView& obj) {
  CAUSELOOP_TRY_ASSIGN(res, obj.Object("resolution"));
  if (!res) return std::optional<model::Resolution>();
  model::Resolution out;
  for (auto [key, field] :
       {std::pair{"summary", &out.summary}, std::pair{"fix", &out.fix},
        std::pair{"fix_url", &out.fix_url}, std::pair{"resolved_by", &out.resolved_by},
        std::pair{"source_field", &out.source_field}}) {
    auto st = ReadString(*res, key, *field);
    if (!st) return tl::unexpected(std::move(st.error()));
  }
  if (out.empty()) return std::optional<model::Resolution>();
  return std::optional<model::Resolution>(std::move(out));
}

}  // namespace

std::optional<model::Severity> ParseSeverityText(std::string_view text) {
  return LookupSeverity(text);
}

std::optional<model::Severity> ParseSeverity(simdjson::dom::element value) {
  std::string_view s;
  if (value.get_string().get(s) == simdjson::SUCCESS) return LookupSeverity(s);
  double d = 0;
  int64_t i = 0;
  if (value.get_int64().get(i) == simdjson::SUCCESS) {
    d = static_cast<double>(i);
  } else if (value.get_double().get(d) != simdjson::SUCCESS) {
    return std::nullopt;  // bool, null, object, array, or a uint64 beyond int64
  }
  if (d != std::floor(d) || d < 1 || d > 5) return std::nullopt;
  return static_cast<model::Severity>(d > 4 ? 4 : static_cast<int>(d));
}

std::optional<model::IssueStatus> ParseStatusText(std::string_view text) {
  return LookupStatus(text);
}

Result<model::IssueRecord> DecodeRecord(simdjson::dom::element element) {
  CAUSELOOP_TRY_ASSIGN(obj, ObjectView::Root(element));
  model::IssueRecord record;
  record.source.clear();

  for (auto [key, field, trim] :
       {std::tuple{"source", &record.source, false},
        std::tuple{"external_id", &record.external_id, true},
        std::tuple{"title", &record.title, false}, std::tuple{"service", &record.service, true},
        std::tuple{"environment", &record.environment, true},
        std::tuple{"team", &record.team, true},
        std::tuple{"external_url", &record.external_url, true}}) {
    auto st = ReadString(obj, key, *field, trim);
    if (!st) return tl::unexpected(std::move(st.error()));
  }
  auto body = ReadString(obj, obj.Has("body") ? "body" : "description", record.body, false);
  if (!body) return tl::unexpected(std::move(body.error()));

  if (!record.external_url.empty() && !internal::IsHttpUrl(record.external_url)) {
    return Fail(FieldError("external_url", "external_url must be an http(s) URL"));
  }

  if (auto severity = obj.Get("severity")) {
    record.severity = ParseSeverity(*severity);
    if (!record.severity) {
      return Fail(FieldError("severity", "severity is not in any known vocabulary"));
    }
  }

  CAUSELOOP_TRY_ASSIGN(status, obj.String("status"));
  if (status) {
    record.status = ParseStatusText(*status);
    if (!record.status) {
      return Fail(FieldError("status", "status must be open, in_progress, resolved or closed"));
    }
  }

  auto labels = ReadLabels(obj, record);
  if (!labels) return tl::unexpected(std::move(labels.error()));

  CAUSELOOP_TRY_ASSIGN(metadata, obj.Object("metadata"));
  if (metadata) record.metadata_json = simdjson::minify(metadata->raw());

  CAUSELOOP_TRY_ASSIGN(created,
                       ReadTimestamp(obj, {"source_created_at", "created_at", "timestamp"}));
  record.source_created_at = created;
  CAUSELOOP_TRY_ASSIGN(updated, ReadTimestamp(obj, {"source_updated_at", "updated_at"}));
  record.source_updated_at = updated;

  CAUSELOOP_TRY_ASSIGN(resolution, ReadResolution(obj));
  record.resolution = std::move(resolution);

  return internal::Finalize(std::move(record));
}

std::string EncodeRecord(const model::IssueRecord& r) {
  JsonWriter w;
  auto time_or_null = [&w](std::string_view key, const std::optional<SystemTime>& t) {
    w.Key(key);
    if (t) {
      w.String(FormatRfc3339(*t));
    } else {
      w.Null();
    }
  };
  w.BeginObject();
  w.Field("source", r.source);
  w.FieldOrNull("source_raw", r.source_raw);
  w.Field("external_id", r.external_id);
  w.Field("external_id_derived", r.external_id_derived);
  w.Field("title", r.title);
  w.Field("title_truncated", r.title_truncated);
  w.Field("body", r.body);
  w.Field("body_truncated", r.body_truncated);
  w.Key("severity");
  if (r.severity) {
    w.String(model::SeverityName(*r.severity));
  } else {
    w.Null();
  }
  w.Key("status");
  if (r.status) {
    w.String(model::IssueStatusName(*r.status));
  } else {
    w.Null();
  }
  w.FieldOrNull("service", r.service);
  w.FieldOrNull("environment", r.environment);
  w.FieldOrNull("team", r.team);
  w.Key("labels").BeginObject();
  for (const auto& [key, value] : r.labels) w.Field(key, value);
  w.EndObject();
  w.Key("metadata");
  if (r.metadata_json.empty()) {
    w.Null();
  } else {
    w.Raw(r.metadata_json);
  }
  w.FieldOrNull("external_url", r.external_url);
  w.FieldOrNull("connector_id", r.connector_id);
  time_or_null("source_created_at", r.source_created_at);
  time_or_null("source_updated_at", r.source_updated_at);
  w.Key("resolution");
  if (r.resolution) {
    w.BeginObject()
        .FieldOrNull("summary", r.resolution->summary)
        .FieldOrNull("fix", r.resolution->fix)
        .FieldOrNull("fix_url", r.resolution->fix_url)
        .FieldOrNull("resolved_by", r.resolution->resolved_by)
        .FieldOrNull("source_field", r.resolution->source_field)
        .EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
  return w.Take();
}

std::string PrettyJson(std::string_view json) {
  std::string out;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  auto newline = [&] {
    out.push_back('\n');
    out.append(static_cast<size_t>(depth) * 2, ' ');
  };
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        out.push_back(c);
        break;
      case '{':
      case '[':
        out.push_back(c);
        if (i + 1 < json.size() && (json[i + 1] == '}' || json[i + 1] == ']')) {
          out.push_back(json[++i]);
        } else {
          ++depth;
          newline();
        }
        break;
      case '}':
      case ']':
        --depth;
        newline();
        out.push_back(c);
        break;
      case ',':
        out.push_back(c);
        newline();
        break;
      case ':':
        out.append(": ");
        break;
      default:
        out.push_back(c);
    }
  }
  out.push_back('\n');
  return out;
}

}  // namespace causeloop::normalize

#pragma once
// A small, fast streaming JSON writer for responses and events. Commas are placed
// automatically; the caller keeps Begin/End balanced. Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace causeloop {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(256); }

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Writes an object key; the next value call is its value.
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& Int(long long value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts already-serialized JSON as a value (e.g. a stored metadata object).
  JsonWriter& Raw(std::string_view json);

  // Key + value shorthands.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, long long value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }
  // A string field, or null when `value` is empty.
  JsonWriter& FieldOrNull(std::string_view key, std::string_view value) {
    Key(key);
    return value.empty() ? Null() : String(value);
  }

  [[nodiscard]] const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true once it holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Appends `s` to `out` as a JSON string literal (with quotes), escaping as RFC 8259 requires.
// Invalid UTF-8 bytes are replaced with U+FFFD so the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

// Writes `key` with the RFC 3339 form of `t`, or null when `t` is absent.
JsonWriter& TimeOrNull(JsonWriter& w, std::string_view key, const std::optional<SystemTime>& t);

}  // namespace causeloop

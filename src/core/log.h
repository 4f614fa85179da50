#pragma once
// Structured JSON logs, one object per line on stderr. Never pass secrets here.

#include <initializer_list>
#include <string_view>
#include <utility>

namespace causeloop::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Minimum level written; default kInfo. Thread-safe.
void SetLevel(Level level);

// Writes {"ts","level","msg",<fields…>}. Field values are written as JSON strings.
void Write(Level level, std::string_view msg,
           std::initializer_list<std::pair<std::string_view, std::string_view>> fields = {});

inline void Info(std::string_view msg,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) {
  Write(Level::kInfo, msg, f);
}
inline void Warn(std::string_view msg,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) {
  Write(Level::kWarn, msg, f);
}
inline void Error(std::string_view msg,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) {
  Write(Level::kError, msg, f);
}

}  // namespace causeloop::log

#include "core/log.h"

#include <unistd.h>

#include <atomic>

#include "core/clock.h"
#include "core/json_writer.h"
#include "core/time.h"

namespace causeloop::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
const char* Name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}
}  // namespace

void SetLevel(Level level) { g_level = static_cast<int>(level); }

void Write(Level level, std::string_view msg,
           std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  JsonWriter w;
  w.BeginObject();
  w.Field("ts", FormatRfc3339(RealClock().Now()));
  w.Field("level", Name(level));
  w.Field("msg", msg);
  for (const auto& [k, v] : fields) w.Field(k, v);
  w.EndObject();
  std::string line = w.Take();
  line.push_back('\n');
  // One write(2) per line keeps lines from interleaving between threads.
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

}  // namespace causeloop::log

#pragma once
// Time comes in through this seam; tests use FakeClock and never sleep.

#include <atomic>
#include <chrono>

namespace causeloop {

using SystemTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, millisecond precision. Thread-safe.
  [[nodiscard]] virtual SystemTime Now() const = 0;
};

class RealClock final : public Clock {
 public:
  [[nodiscard]] SystemTime Now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start) : now_ms_(start.time_since_epoch().count()) {}
  [[nodiscard]] SystemTime Now() const override { return SystemTime(Millis(now_ms_.load())); }
  void Advance(Millis by) { now_ms_ += by.count(); }
  void Set(SystemTime t) { now_ms_ = t.time_since_epoch().count(); }

 private:
  std::atomic<long long> now_ms_;
};

inline long long ToUnixMillis(SystemTime t) { return t.time_since_epoch().count(); }
inline SystemTime FromUnixMillis(long long ms) { return SystemTime(Millis(ms)); }

}  // namespace causeloop

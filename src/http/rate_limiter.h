#pragma once
// Sliding-window rate limiting (SPEC §4): two fixed one-minute windows, the previous one
// weighted by how much of it still overlaps the sliding minute. In memory, per process,
// sharded by key so concurrent requests rarely share a mutex. Thread-safe.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace causeloop::http {

struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;                // X-RateLimit-Limit
  int64_t remaining = 0;            // X-RateLimit-Remaining, after this request
  int64_t reset_seconds = 0;        // X-RateLimit-Reset: seconds until the current window ends
  int64_t retry_after_seconds = 0;  // Retry-After when !allowed (>= 1)
};

class RateLimiter {
 public:
  // `window` is one minute in production; tests may pass another.
  explicit RateLimiter(const Clock& clock,
                       std::chrono::milliseconds window = std::chrono::minutes(1));

  // Counts one request for `key` against `limit` per window. A rejected request is not
  // counted. limit <= 0 means unlimited (always allowed; remaining reports 0).
  RateDecision Acquire(std::string_view key, int64_t limit);

 private:
  struct Entry {
    int64_t window_start_ms = 0;  // start of the current fixed window
    int64_t current = 0;
    int64_t previous = 0;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> entries;  // guarded by mu
    uint64_t ops_since_sweep = 0;                                              // guarded by mu
  };
  static constexpr size_t kShards = 32;

  const Clock& clock_;
  const int64_t window_ms_;
  std::array<Shard, kShards> shards_;
};

}  // namespace causeloop::http

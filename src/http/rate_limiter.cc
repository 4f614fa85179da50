#include "http/rate_limiter.h"

#include <cmath>
#include <functional>

namespace causeloop::http {

namespace {
int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

RateLimiter::RateLimiter(const Clock& clock, std::chrono::milliseconds window)
    : clock_(clock), window_ms_(window.count() > 0 ? window.count() : 60'000) {}

RateDecision RateLimiter::Acquire(std::string_view key, int64_t limit) {
  RateDecision d;
  d.limit = limit;
  if (limit <= 0) return d;
  const int64_t now = ToUnixMillis(clock_.Now());
  const int64_t window_start = now - (now % window_ms_);
  const int64_t elapsed = now - window_start;
  d.reset_seconds = std::max<int64_t>(1, CeilDiv(window_ms_ - elapsed, 1000));

  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  // Entries idle for two windows carry no weight any more; drop them now and then so
  // a scan of many IPs cannot grow memory without bound.
  if (++shard.ops_since_sweep >= 4096 && shard.entries.size() > 1024) {
    shard.ops_since_sweep = 0;
    std::erase_if(shard.entries, [&](const auto& kv) {
      return kv.second.window_start_ms + 2 * window_ms_ <= window_start;
    });
  }
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) it = shard.entries.emplace(std::string(key), Entry{}).first;
  Entry& e = it->second;
  if (e.window_start_ms != window_start) {
    e.previous = (e.window_start_ms + window_ms_ == window_start) ? e.current : 0;
    e.current = 0;
    e.window_start_ms = window_start;
  }
  // Weight of the previous window still inside the sliding minute.
  const double weight = static_cast<double>(window_ms_ - elapsed) / static_cast<double>(window_ms_);
  const double estimate = static_cast<double>(e.previous) * weight + static_cast<double>(e.current);
  if (estimate + 1 > static_cast<double>(limit)) {
    d.allowed = false;
    d.remaining = 0;
    // When will estimate + 1 <= limit hold? Within this window only the previous
    // window's weight decays; otherwise the earliest is the next window (approximate).
    int64_t wait_ms = window_ms_ - elapsed;
    if (e.current + 1 <= limit && e.previous > 0) {
      const double need =
          static_cast<double>(limit - e.current - 1) / static_cast<double>(e.previous);
      // previous * (W - t) / W <= limit - current - 1  <=>  t >= W * (1 - need)
      const double t = static_cast<double>(window_ms_) * (1.0 - need);
      wait_ms = static_cast<int64_t>(std::ceil(t)) - elapsed;
    }
    d.retry_after_seconds = std::max<int64_t>(1, CeilDiv(std::max<int64_t>(wait_ms, 0), 1000));
    return d;
  }
  ++e.current;
  d.remaining = std::max<int64_t>(0, limit - static_cast<int64_t>(std::ceil(estimate + 1)));
  return d;
}

}  // namespace causeloop::http

#pragma once
// The retry policy of outbound webhook deliveries (SPEC §7.2), as pure functions: the caller
// passes the attempt's result, the current time and a jitter source, and persists the due time
// it gets back; a worker picks due deliveries up later. No IO, no clock reads; thread-safe as
// long as the Random is.
//
// A delivery gets at most kMaxAttempts attempts. Attempt n (1-based) is due kRetrySchedule[n-1]
// after attempt n-1 failed, ±20 % uniform jitter: immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h, 10 h. After the 8th failure the delivery is failed.

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "net/http_client.h"

namespace causeloop::webhooks {

inline constexpr int kMaxAttempts = 8;

// kRetrySchedule[n-1] is the delay before attempt n, before jitter; [0] (the first attempt) is
// immediate.
inline constexpr std::array<std::chrono::milliseconds, kMaxAttempts> kRetrySchedule = {
    std::chrono::seconds(0),  std::chrono::seconds(5), std::chrono::minutes(5),
    std::chrono::minutes(30), std::chrono::hours(2),   std::chrono::hours(5),
    std::chrono::hours(10),   std::chrono::hours(10)};

// Each scheduled delay is multiplied by a uniform factor in [1 - kJitter, 1 + kJitter).
inline constexpr double kJitter = 0.2;

// A Retry-After on 429/503 is clamped to this range before it is compared with the schedule:
// at least 1 s, so a receiver cannot make us spin with "Retry-After: 0" (or a date in the
// past); at most 24 h, so it cannot park a delivery for ever.
inline constexpr std::chrono::milliseconds kMinRetryAfter = std::chrono::seconds(1);
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);

// An endpoint that has failed continuously for this long is disabled.
inline constexpr std::chrono::milliseconds kDisableAfter = std::chrono::hours(24 * 5);

struct Outcome {
  enum Kind {
    kDelivered,        // a 2xx response: done
    kRetry,            // try again at next_attempt_at
    kFailed,           // the last attempt failed: the delivery is failed
    kDisableEndpoint,  // 410 Gone: disable the endpoint now (emit webhook.endpoint_disabled)
  } kind = kFailed;
  // When kRetry: when the next attempt is due. Otherwise `now`.
  SystemTime next_attempt_at{};
  // For the attempt log: "HTTP 503", "HTTP 429, Retry-After 120 s",
  // "refused: …", "Timeout was reached: …", "…; gave up after 8 attempts".
  std::string reason;
};

// Decides what follows an attempt. `attempts_made` counts the attempts made so far, this one
// included (1 after the first attempt); values below 1 count as 1. `now` is when the attempt
// ended. `jitter` is drawn from only when a retry is scheduled.
//  - 2xx → kDelivered.
//  - 410 → kDisableEndpoint, whatever the attempt count.
//  - anything else (other statuses, 3xx since redirects are not followed, no response,
//    SSRF-refused) → kRetry at now + jittered kRetrySchedule[attempts_made], or kFailed once
//    attempts_made ≥ kMaxAttempts.
//  - 429 and 503 with a valid Retry-After: the retry is at now + max(jittered schedule,
//    Retry-After clamped to [kMinRetryAfter, kMaxRetryAfter]); still kFailed after the last
//    attempt.
Outcome Decide(int attempts_made, const net::HttpResult& result, SystemTime now, Random& jitter);

// The time a Retry-After value names: delta-seconds ("120") from `now`, or an HTTP-date in any
// of RFC 9110's three forms (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850
// "Sunday, 06-Nov-94 08:49:37 GMT", asctime "Sun Nov  6 08:49:37 1994"). nullopt when it is
// neither. Not clamped. Surrounding whitespace is ignored.
std::optional<SystemTime> ParseRetryAfter(std::string_view value, SystemTime now);

// True once an endpoint failing continuously since `failing_since` has failed for kDisableAfter
// (5 days) or longer.
bool ShouldDisableEndpoint(SystemTime failing_since, SystemTime now);

}  // namespace causeloop::webhooks

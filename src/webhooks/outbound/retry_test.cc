#include "webhooks/outbound/retry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/time.h"

namespace causeloop::webhooks {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// 2026-01-01T00:00:00Z, a Thursday.
const SystemTime kNow = FromUnixMillis(1'767'225'600'000);

// Every byte the same: 0x00 gives NextDouble() == 0 (the low jitter bound), 0xff the largest
// value below 1 (the high bound).
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(unsigned char byte) : byte_(byte) {}
  void Fill(std::span<unsigned char> out) override {
    ++draws;
    std::fill(out.begin(), out.end(), byte_);
  }
  int draws = 0;

 private:
  unsigned char byte_;
};

net::HttpResult Response(int status,
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
  net::HttpResult r;
  r.status = status;
  r.headers = std::move(headers);
  return r;
}

net::HttpResult NoResponse(std::string error, bool refused = false) {
  net::HttpResult r;
  r.error = std::move(error);
  r.refused = refused;
  return r;
}

TEST(RetryPolicyTest, ScheduleIsImmediatelyThen5s5m30m2h5h10h10h) {
  EXPECT_EQ(kMaxAttempts, 8);
  std::vector<milliseconds> expected = {seconds(0), seconds(5), minutes(5), minutes(30),
                                        hours(2),   hours(5),   hours(10),  hours(10)};
  EXPECT_EQ(std::vector<milliseconds>(kRetrySchedule.begin(), kRetrySchedule.end()), expected);
}

TEST(RetryPolicyTest, JitterBoundsAreExactlyTwentyPercent) {
  for (int made = 1; made < kMaxAttempts; ++made) {
    milliseconds base = kRetrySchedule[static_cast<size_t>(made)];
    FixedRandom low(0x00);
    FixedRandom high(0xff);
    Outcome at_low = Decide(made, Response(500), kNow, low);
    Outcome at_high = Decide(made, Response(500), kNow, high);
    ASSERT_EQ(at_low.kind, Outcome::kRetry);
    EXPECT_EQ(at_low.next_attempt_at - kNow, base * 8 / 10) << "after attempt " << made;
    EXPECT_EQ(at_high.next_attempt_at - kNow, base * 12 / 10) << "after attempt " << made;
  }
}

TEST(RetryPolicyTest, JitterStaysWithinTwentyPercentAndActuallyVaries) {
  SeededRandom random(42);
  for (int made = 1; made < kMaxAttempts; ++made) {
    milliseconds base = kRetrySchedule[static_cast<size_t>(made)];
    std::set<long long> seen;
    milliseconds lo = milliseconds::max();
    milliseconds hi = milliseconds::min();
    for (int i = 0; i < 2000; ++i) {
      Outcome o = Decide(made, Response(503), kNow, random);
      ASSERT_EQ(o.kind, Outcome::kRetry);
      milliseconds d = std::chrono::duration_cast<milliseconds>(o.next_attempt_at - kNow);
      ASSERT_GE(d, base * 8 / 10);
      ASSERT_LE(d, base * 12 / 10);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      seen.insert(d.count());
    }
    // Uniform over ±20 %: 2000 draws come within 1 % of both ends and rarely repeat.
    EXPECT_LT(lo, base * 81 / 100) << made;
    EXPECT_GT(hi, base * 119 / 100) << made;
    EXPECT_GT(seen.size(), 1000U) << made;
  }
}

TEST(RetryPolicyTest, AnyTwoHundredIsDelivered) {
  FixedRandom random(0x80);
  for (int status : {200, 201, 202, 204, 299}) {
    Outcome o = Decide(kMaxAttempts, Response(status), kNow, random);
    EXPECT_EQ(o.kind, Outcome::kDelivered) << status;
    EXPECT_EQ(o.next_attempt_at, kNow);
  }
  EXPECT_EQ(random.draws, 0);
  EXPECT_EQ(Decide(1, Response(199), kNow, random).kind, Outcome::kRetry);
  EXPECT_EQ(Decide(1, Response(300), kNow, random).kind, Outcome::kRetry);
}

TEST(RetryPolicyTest, GoneDisablesTheEndpointAtOnce) {
  FixedRandom random(0x80);
  for (int made : {1, 4, kMaxAttempts}) {
    Outcome o = Decide(made, Response(410), kNow, random);
    EXPECT_EQ(o.kind, Outcome::kDisableEndpoint) << made;
    EXPECT_EQ(o.reason, "HTTP 410 Gone");
  }
}

TEST(RetryPolicyTest, ErrorsRedirectsAndRefusalsAreRetriedOnSchedule) {
  FixedRandom low(0x00);
  std::vector<net::HttpResult> failures = {
      Response(500),
      Response(404),
      Response(302, {{"location", "https://elsewhere.example/"}}),
      Response(429),
      NoResponse("Timeout was reached"),
      NoResponse("refused: connecting to 10.0.0.1 is forbidden", true)};
  for (const net::HttpResult& r : failures) {
    Outcome o = Decide(2, r, kNow, low);
    EXPECT_EQ(o.kind, Outcome::kRetry) << r.status << r.error;
    EXPECT_EQ(o.next_attempt_at - kNow, minutes(4)) << r.status << r.error;  // 5 min - 20 %
  }
  EXPECT_EQ(Decide(2, Response(500), kNow, low).reason, "HTTP 500");
  EXPECT_EQ(Decide(2, NoResponse("Timeout was reached"), kNow, low).reason, "Timeout was reached");
}

TEST(RetryPolicyTest, GivesUpAfterTheEighthAttempt) {
  FixedRandom low(0x00);
  Outcome seventh = Decide(7, Response(500), kNow, low);
  EXPECT_EQ(seventh.kind, Outcome::kRetry);
  EXPECT_EQ(seventh.next_attempt_at - kNow, hours(8));  // 10 h - 20 %

  Outcome eighth = Decide(8, Response(500), kNow, low);
  EXPECT_EQ(eighth.kind, Outcome::kFailed);
  EXPECT_EQ(eighth.reason, "HTTP 500; gave up after 8 attempts");
  EXPECT_EQ(Decide(9, NoResponse("x"), kNow, low).kind, Outcome::kFailed);
  // Not even a Retry-After buys a ninth attempt.
  EXPECT_EQ(Decide(8, Response(429, {{"retry-after", "10"}}), kNow, low).kind, Outcome::kFailed);
}

TEST(RetryPolicyTest, AttemptCountsBelowOneCountAsOne) {
  FixedRandom low(0x00);
  EXPECT_EQ(Decide(0, Response(500), kNow, low).next_attempt_at - kNow, seconds(4));
  EXPECT_EQ(Decide(-3, Response(500), kNow, low).next_attempt_at - kNow, seconds(4));
}

TEST(RetryPolicyTest, RetryAfterSecondsWinsWhenLongerThanTheSchedule) {
  FixedRandom high(0xff);
  Outcome o = Decide(1, Response(429, {{"retry-after", "120"}}), kNow, high);
  EXPECT_EQ(o.kind, Outcome::kRetry);
  EXPECT_EQ(o.next_attempt_at - kNow, seconds(120));
  EXPECT_EQ(o.reason, "HTTP 429, Retry-After 120 s");

  Outcome on_503 = Decide(1, Response(503, {{"Retry-After", " 60 "}}), kNow, high);
  EXPECT_EQ(on_503.next_attempt_at - kNow, seconds(60));
}

TEST(RetryPolicyTest, TheScheduleWinsWhenRetryAfterIsShorter) {
  FixedRandom low(0x00);
  Outcome o = Decide(2, Response(503, {{"retry-after", "3"}}), kNow, low);
  EXPECT_EQ(o.next_attempt_at - kNow, minutes(4));
}

TEST(RetryPolicyTest, RetryAfterHttpDatesInAllThreeForms) {
  FixedRandom low(0x00);
  for (const char* date : {"Thu, 01 Jan 2026 00:10:00 GMT", "Thursday, 01-Jan-26 00:10:00 GMT",
                           "Thu Jan  1 00:10:00 2026"}) {
    Outcome o = Decide(1, Response(429, {{"retry-after", date}}), kNow, low);
    EXPECT_EQ(o.next_attempt_at - kNow, minutes(10)) << date;
  }
}

TEST(RetryPolicyTest, RetryAfterIsClampedToOneSecondAndOneDay) {
  FixedRandom low(0x00);
  // Too short: clamped up to 1 s, which the 5 s schedule (−20 % = 4 s) beats anyway.
  for (const char* value : {"0", "Wed, 31 Dec 2025 23:00:00 GMT"}) {
    Outcome o = Decide(1, Response(429, {{"retry-after", value}}), kNow, low);
    EXPECT_EQ(o.next_attempt_at - kNow, seconds(4)) << value;
    EXPECT_EQ(o.reason, "HTTP 429, Retry-After 1 s") << value;
  }
  // Too long: clamped down to 24 h.
  for (const char* value : {"86401", "99999999999999999999", "Fri, 01 Jan 2027 00:00:00 GMT"}) {
    Outcome o = Decide(1, Response(503, {{"retry-after", value}}), kNow, low);
    EXPECT_EQ(o.next_attempt_at - kNow, hours(24)) << value;
  }
  Outcome exact = Decide(1, Response(503, {{"retry-after", "86400"}}), kNow, low);
  EXPECT_EQ(exact.next_attempt_at - kNow, hours(24));
}

TEST(RetryPolicyTest, RetryAfterCountsOnlyOn429And503AndOnlyWhenValid) {
  FixedRandom low(0x00);
  EXPECT_EQ(Decide(1, Response(500, {{"retry-after", "600"}}), kNow, low).next_attempt_at - kNow,
            seconds(4));
  EXPECT_EQ(Decide(1, Response(301, {{"retry-after", "600"}}), kNow, low).next_attempt_at - kNow,
            seconds(4));
  for (const char* junk : {"soon", "-5", "1.5", "", "Thu, 32 Jan 2026 00:00:00 GMT",
                           "Thu, 01 Jan 2026 25:00:00 GMT", "Thu, 01 Jan 2026 00:10:00 UTC"}) {
    Outcome o = Decide(1, Response(429, {{"retry-after", junk}}), kNow, low);
    EXPECT_EQ(o.next_attempt_at - kNow, seconds(4)) << junk;
    EXPECT_EQ(o.reason, "HTTP 429") << junk;
  }
}

TEST(RetryAfterTest, ParsesDeltaSecondsAndDates) {
  EXPECT_EQ(ParseRetryAfter("0", kNow), kNow);
  EXPECT_EQ(ParseRetryAfter("5", kNow), kNow + seconds(5));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kNow),
            *ParseRfc3339("1994-11-06T08:49:37Z"));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", kNow),
            *ParseRfc3339("1994-11-06T08:49:37Z"));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", kNow),
            *ParseRfc3339("1994-11-06T08:49:37Z"));
  // RFC 850 two-digit years: more than 50 years ahead means the previous century.
  EXPECT_EQ(ParseRetryAfter("Monday, 01-Jan-76 00:00:00 GMT", kNow),
            *ParseRfc3339("2076-01-01T00:00:00Z"));
  EXPECT_EQ(ParseRetryAfter("Monday, 01-Jan-77 00:00:00 GMT", kNow),
            *ParseRfc3339("1977-01-01T00:00:00Z"));
  EXPECT_EQ(ParseRetryAfter("Sun, 29 Feb 2026 00:00:00 GMT", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Sun, 6 Nov 1994 08:49:37 GMT", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT trailing", kNow), std::nullopt);
}

TEST(RetryPolicyTest, DisablesAnEndpointAfterFiveDaysOfContinuousFailure) {
  SystemTime since = kNow - hours(24 * 5);
  EXPECT_TRUE(ShouldDisableEndpoint(since, kNow));
  EXPECT_FALSE(ShouldDisableEndpoint(since + milliseconds(1), kNow));
  EXPECT_FALSE(ShouldDisableEndpoint(kNow, kNow));
  EXPECT_TRUE(ShouldDisableEndpoint(kNow - hours(24 * 30), kNow));
}

}  // namespace
}  // namespace causeloop::webhooks

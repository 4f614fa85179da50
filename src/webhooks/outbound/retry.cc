#include "webhooks/outbound/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace causeloop::webhooks {
namespace {

using std::chrono::milliseconds;

milliseconds Jittered(milliseconds base, Random& jitter) {
  if (base.count() == 0) return base;
  double factor = 1.0 + kJitter * (2.0 * jitter.NextDouble() - 1.0);
  return milliseconds(std::llround(static_cast<double>(base.count()) * factor));
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A cursor over an HTTP-date; every Take* consumes on success only.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool Literal(std::string_view lit) {
    if (!s_.starts_with(lit)) return false;
    s_.remove_prefix(lit.size());
    return true;
  }
  // Exactly `n` digits.
  bool Digits(int n, int* out) {
    if (s_.size() < static_cast<size_t>(n)) return false;
    int v = 0;
    for (int i = 0; i < n; ++i) {
      if (!IsDigit(s_[i])) return false;
      v = v * 10 + (s_[i] - '0');
    }
    s_.remove_prefix(static_cast<size_t>(n));
    *out = v;
    return true;
  }
  // One of `names`; its index.
  template <size_t N>
  bool OneOf(const std::array<std::string_view, N>& names, int* index) {
    for (size_t i = 0; i < N; ++i) {
      if (Literal(names[i])) {
        *index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }
  bool Time(int* h, int* m, int* sec) {
    return Digits(2, h) && Literal(":") && Digits(2, m) && Literal(":") && Digits(2, sec);
  }
  [[nodiscard]] bool Done() const { return s_.empty(); }

 private:
  std::string_view s_;
};

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<SystemTime> MakeTime(int year, int month0, int day, int h, int m, int s) {
  std::chrono::year_month_day ymd{std::chrono::year(year),
                                  std::chrono::month(static_cast<unsigned>(month0 + 1)),
                                  std::chrono::day(static_cast<unsigned>(day))};
  // 60 is a leap second; it is taken as the next second.
  if (!ymd.ok() || h > 23 || m > 59 || s > 60) return std::nullopt;
  auto t = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(m) +
           std::chrono::seconds(s);
  return std::chrono::time_point_cast<milliseconds>(t);
}

std::optional<SystemTime> ParseHttpDate(std::string_view text, SystemTime now) {
  int weekday = 0;
  int day = 0;
  int month = 0;
  int year = 0;
  int h = 0;
  int m = 0;
  int s = 0;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  {
    Scanner in(text);
    if (in.OneOf(kDays, &weekday) && in.Literal(", ") && in.Digits(2, &day) && in.Literal(" ") &&
        in.OneOf(kMonths, &month) && in.Literal(" ") && in.Digits(4, &year) && in.Literal(" ") &&
        in.Time(&h, &m, &s) && in.Literal(" GMT") && in.Done()) {
      return MakeTime(year, month, day, h, m, s);
    }
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year more than 50 years in the
  // future is taken as the most recent past year with those digits (RFC 9110 §5.6.7).
  {
    Scanner in(text);
    if (in.OneOf(kLongDays, &weekday) && in.Literal(", ") && in.Digits(2, &day) &&
        in.Literal("-") && in.OneOf(kMonths, &month) && in.Literal("-") && in.Digits(2, &year) &&
        in.Literal(" ") && in.Time(&h, &m, &s) && in.Literal(" GMT") && in.Done()) {
      int now_year = static_cast<int>(
          std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)).year());
      int full = now_year / 100 * 100 + year;
      if (full > now_year + 50) full -= 100;
      return MakeTime(full, month, day, h, m, s);
    }
  }
  // asctime: "Sun Nov  6 08:49:37 1994" (day space-padded to two characters).
  {
    Scanner in(text);
    if (in.OneOf(kDays, &weekday) && in.Literal(" ") && in.OneOf(kMonths, &month) &&
        in.Literal(" ") && (in.Digits(2, &day) || (in.Literal(" ") && in.Digits(1, &day))) &&
        in.Literal(" ") && in.Time(&h, &m, &s) && in.Literal(" ") && in.Digits(4, &year) &&
        in.Done()) {
      return MakeTime(year, month, day, h, m, s);
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> FindHeader(const net::HttpResult& result, std::string_view name) {
  for (const auto& [k, v] : result.headers) {
    if (k.size() != name.size()) continue;
    bool same = std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
      return (a >= 'A' && a <= 'Z' ? static_cast<char>(a + 32) : a) == b;
    });
    if (same) return v;
  }
  return std::nullopt;
}

std::string FailureReason(const net::HttpResult& result) {
  if (result.status != 0) return "HTTP " + std::to_string(result.status);
  if (!result.error.empty()) return result.error;
  return "no response";
}

}  // namespace

std::optional<SystemTime> ParseRetryAfter(std::string_view value, SystemTime now) {
  value = TrimSpace(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), IsDigit)) {
    // Saturates: any value this large is clamped by the caller anyway.
    constexpr int64_t kCap = int64_t{10'000'000'000};
    int64_t seconds = 0;
    for (char c : value) seconds = std::min(kCap, seconds * 10 + (c - '0'));
    return now + std::chrono::seconds(seconds);
  }
  return ParseHttpDate(value, now);
}

Outcome Decide(int attempts_made, const net::HttpResult& result, SystemTime now, Random& jitter) {
  attempts_made = std::max(attempts_made, 1);
  if (result.status >= 200 && result.status <= 299) {
    return {Outcome::kDelivered, now, "HTTP " + std::to_string(result.status)};
  }
  if (result.status == 410) return {Outcome::kDisableEndpoint, now, "HTTP 410 Gone"};

  std::string reason = FailureReason(result);
  if (attempts_made >= kMaxAttempts) {
    reason.append("; gave up after ").append(std::to_string(kMaxAttempts)).append(" attempts");
    return {Outcome::kFailed, now, std::move(reason)};
  }
  milliseconds delay = Jittered(kRetrySchedule[static_cast<size_t>(attempts_made)], jitter);
  if (result.status == 429 || result.status == 503) {
    if (std::optional<std::string_view> header = FindHeader(result, "retry-after")) {
      if (std::optional<SystemTime> at = ParseRetryAfter(*header, now)) {
        milliseconds asked = std::clamp(std::chrono::duration_cast<milliseconds>(*at - now),
                                        kMinRetryAfter, kMaxRetryAfter);
        delay = std::max(delay, asked);
        reason.append(", Retry-After ")
            .append(std::to_string(std::chrono::duration_cast<std::chrono::seconds>(asked).count()))
            .append(" s");
      }
    }
  }
  return {Outcome::kRetry, now + delay, std::move(reason)};
}

bool ShouldDisableEndpoint(SystemTime failing_since, SystemTime now) {
  return now - failing_since >= kDisableAfter;
}

}  // namespace causeloop::webhooks

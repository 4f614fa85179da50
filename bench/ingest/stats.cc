#include "ingest/stats.h"

#include <algorithm>
#include <cmath>

namespace causeloop::bench {
namespace {

// Nearest-rank percentile of sorted samples, in milliseconds.
double PercentileMs(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

}  // namespace

PhaseSummary Summarize(PhaseStats& stats) {
  std::sort(stats.latency_us.begin(), stats.latency_us.end());
  PhaseSummary s;
  if (stats.seconds > 0) {
    s.records_per_s = static_cast<double>(stats.accepted_records) / stats.seconds;
    s.requests_per_s = static_cast<double>(stats.ok_requests) / stats.seconds;
    s.generator_cpu_pct = 100.0 * stats.generator_cpu_seconds / stats.seconds;
  }
  s.p50_ms = PercentileMs(stats.latency_us, 50);
  s.p99_ms = PercentileMs(stats.latency_us, 99);
  s.max_ms = stats.latency_us.empty() ? 0 : stats.latency_us.back() / 1000.0;
  if (stats.accepted_records > 0) {
    s.dedup_fraction = static_cast<double>(stats.deduplicated_records) /
                       static_cast<double>(stats.accepted_records);
    s.server_cpu_us_per_record =
        1e6 * stats.server_cpu_seconds / static_cast<double>(stats.accepted_records);
  }
  s.errors = stats.bad_bodies + stats.transport_errors;
  for (const auto& [status, count] : stats.non_2xx) s.errors += count;
  return s;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string FormatStatusCounts(const std::map<int, std::uint64_t>& counts) {
  if (counts.empty()) return "-";
  std::string out;
  for (const auto& [status, count] : counts) {
    if (!out.empty()) out += ' ';
    out += std::to_string(status) + ":" + std::to_string(count);
  }
  return out;
}

}  // namespace causeloop::bench

// What one measured phase of a workload observed, and how phases are summarised.
#ifndef CAUSELOOP_BENCH_INGEST_STATS_H_
#define CAUSELOOP_BENCH_INGEST_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace causeloop::bench {

// Raw counters of one phase. Latencies are kept exactly (one sample per 2xx response, in
// microseconds from the first byte written to the last byte read); a 10 s phase at 30k req/s
// is 1.2 MB of samples, cheaper and more honest than bucketing.
struct PhaseStats {
  double seconds = 0;                      // wall time of the phase
  std::uint64_t ok_requests = 0;           // 2xx whose body carried the expected accepted count
  std::uint64_t accepted_records = 0;      // sum of "accepted" over ok_requests
  std::uint64_t deduplicated_records = 0;  // "deduplicated":true seen in ok responses
  std::uint64_t rejected_records = 0;      // expected - accepted, over 2xx responses
  std::uint64_t bad_bodies = 0;            // 2xx without the expected accepted count
  std::uint64_t transport_errors = 0;      // connect/read/write failures and timeouts
  std::uint64_t timeouts = 0;              // of which: no full response within the timeout
  std::uint64_t connects = 0;              // connections opened (reconnects after close too)
  std::uint64_t missing_retry_after = 0;   // 429/503 without a usable Retry-After
  std::map<int, std::uint64_t> non_2xx;    // status -> count
  std::vector<std::uint32_t> latency_us;   // ok requests only
  double generator_cpu_seconds = 0;        // this process, user+sys
  double server_cpu_seconds = 0;           // the server process, user+sys (0 if unknown)
  std::int64_t server_rss_kib = -1;        // at the end of the phase, -1 if unknown
};

// A phase reduced to the figures we print.
struct PhaseSummary {
  double records_per_s = 0;
  double requests_per_s = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double dedup_fraction = 0;  // deduplicated / accepted
  std::uint64_t errors = 0;   // bad bodies + transport errors + non-2xx
  double generator_cpu_pct = 0;
  double server_cpu_us_per_record = 0;
};

// Sorts stats.latency_us in place.
PhaseSummary Summarize(PhaseStats& stats);

// Median of values (the mean of the middle two for an even count); 0 when empty.
double Median(std::vector<double> values);

// "429:12 503:3" or "-".
std::string FormatStatusCounts(const std::map<int, std::uint64_t>& counts);

}  // namespace causeloop::bench

#endif  // CAUSELOOP_BENCH_INGEST_STATS_H_

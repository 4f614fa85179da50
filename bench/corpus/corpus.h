// A seeded, deterministic generator of a labelled multi-source incident corpus: alerts,
// incidents, tickets, error-tracker issues and failed CI runs, each labelled with the root
// cause that produced it. It measures clustering quality (`causeloop eval cluster`); what a
// label means is defined in bench/corpus/README.md.
#ifndef CAUSELOOP_BENCH_CORPUS_CORPUS_H_
#define CAUSELOOP_BENCH_CORPUS_CORPUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeloop::corpus {

struct CorpusOptions {
  // Seeds every random choice; the same seed and scale give byte-identical output on every
  // platform.
  uint64_t seed = 1;
  // Multiplies the number of records (about 4,500 at 1) and of alert storms. One-off root
  // causes stay at exactly one record whatever the scale. REQUIRES: 1 <= scale <= 1000.
  int scale = 1;
};

struct CorpusRecord {
  std::string title;
  std::string body;
  std::string service;  // may be empty, as in tickets filed without a component
  std::string source;   // datadog, pagerduty, jira, sentry, github, alertmanager, grafana, ...
  std::string label;    // the root-cause id: records with equal labels share one root cause
  std::string kind;     // alert, incident, ticket, error, ci
  // Seconds since the start of the corpus's 30-day window; records are ordered by it.
  int64_t at_seconds = 0;
};

// The records in time order (root causes interleaved as they would arrive).
std::vector<CorpusRecord> GenerateCorpus(const CorpusOptions& options);

// One JSON object per line: title, body, service, source, label, kind.
std::string ToJsonl(const std::vector<CorpusRecord>& records);

// What the catalog promises, for tests and the README: every root-cause id, and the pairs of
// distinct root causes written to read alike (near misses).
std::vector<std::string_view> RootCauseIds();
std::vector<std::pair<std::string_view, std::string_view>> NearMissPairs();

}  // namespace causeloop::corpus

#endif  // CAUSELOOP_BENCH_CORPUS_CORPUS_H_

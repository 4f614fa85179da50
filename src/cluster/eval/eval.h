#pragma once
// `causeloop eval cluster`: the clustering engine's quality and speed on labelled datasets.
//
// Each dataset gets a fresh Engine with the default Config (one configuration for every
// dataset), is fed in file order, and is scored on the cluster each message was assigned when
// it arrived (no later relabelling). Only the Assign loop is timed.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/eval/dataset.h"
#include "cluster/eval/metrics.h"
#include "core/result.h"

namespace causeloop::cluster::eval {

struct DatasetReport {
  std::string name;
  ClusterMetrics metrics;  // from the first pass
  double seconds = 0;      // the fastest pass's Assign loop, wall time
  double messages_per_second = 0;
};

struct EvalReport {
  std::vector<DatasetReport> datasets;
  // Unweighted means over the datasets.
  double mean_grouping_accuracy = 0;
  double mean_fga = 0;
  double mean_pair_f1 = 0;
  double mean_ari = 0;
  // Totals; messages_per_second = messages / seconds (sum of each dataset's fastest pass).
  size_t messages = 0;
  double seconds = 0;
  double messages_per_second = 0;
};

// Runs every dataset through a fresh Engine `repeat` times (>= 1). kValidation for an empty
// dataset; kInternal when two passes over the same dataset assign differently (the engine
// must be deterministic).
[[nodiscard]] Result<EvalReport> EvaluateEngine(const std::vector<Dataset>& datasets, int repeat);

// A fixed-width table, one row per dataset, then the `average` row and a total line.
std::string FormatTable(const EvalReport& report);

// {"labels": ..., "datasets": [...], "average": {...}, "skipped": [...]}.
std::string FormatJson(const EvalReport& report, std::string_view labels,
                       const std::vector<std::string>& skipped);

// The command line after `causeloop eval cluster`:
//   --dataset PATH [--labels original|corrected|loghub2] [--json] [--repeat N] [--help]
// Writes the result to `out` and diagnostics to `err`. Returns 0 on success, 2 on a usage
// error, 1 when the data cannot be loaded or scored.
int RunEvalCluster(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace causeloop::cluster::eval

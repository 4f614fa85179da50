#pragma once
// Clustering quality against labelled ground truth: the log-parsing metrics of Loghub (grouping
// accuracy) and Loghub-2.0 (F1 of grouping accuracy), pairwise precision/recall/F1 and the
// adjusted Rand index. Pure; O(n) expected time and memory (hash maps), fine for millions of
// messages.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace causeloop::cluster::eval {

// Everything is computed from one contingency table of (truth group, predicted cluster).
// A "correct group" is a predicted cluster that holds exactly the messages of one truth group.
struct ClusterMetrics {
  size_t messages = 0;
  size_t truth_groups = 0;        // distinct labels
  size_t predicted_clusters = 0;  // distinct cluster ids
  size_t correct_groups = 0;

  // GA (Zhu et al., ICSE-SEIP 2019): the fraction of messages whose predicted cluster is
  // exactly their truth group.
  double grouping_accuracy = 0;
  // FGA (Jiang et al., ISSTA 2024): F1 of group precision (correct / predicted clusters) and
  // group recall (correct / truth groups); 0 when both are 0.
  double group_precision = 0;
  double group_recall = 0;
  double fga = 0;

  // Over unordered pairs of messages: a pair is positive when both share a predicted cluster,
  // true when they also share a label. With no predicted pairs precision is 1 (nothing wrongly
  // merged); with no truth pairs recall is 1; F1 is 0 when precision + recall is 0.
  double pair_precision = 0;
  double pair_recall = 0;
  double pair_f1 = 0;

  // Adjusted Rand index (Hubert & Arabie 1985), in [-1, 1]. 1 when the expected index equals
  // the maximum index, which happens only for identical trivial partitions (both all-singletons
  // or both one group), as in scikit-learn.
  double ari = 0;
};

// `truth[i]` is message i's label, `predicted[i]` its cluster id (any values; only equality
// matters). kValidation when the sizes differ or there are no messages.
[[nodiscard]] Result<ClusterMetrics> Evaluate(const std::vector<std::string>& truth,
                                              const std::vector<uint32_t>& predicted);

}  // namespace causeloop::cluster::eval

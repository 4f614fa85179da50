#include "cluster/eval/metrics.h"

#include <string_view>
#include <unordered_map>

namespace causeloop::cluster::eval {
namespace {

// Pairs among n items. Counts stay far below 2^63 for any realistic n (n = 4e9 gives 8e18).
uint64_t Pairs(uint64_t n) { return n < 2 ? 0 : n * (n - 1) / 2; }

double Ratio(long double num, long double den) { return static_cast<double>(num / den); }

double F1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

}  // namespace

Result<ClusterMetrics> Evaluate(const std::vector<std::string>& truth,
                                const std::vector<uint32_t>& predicted) {
  if (truth.size() != predicted.size()) {
    return Fail(ErrorCode::kValidation, "metrics: " + std::to_string(truth.size()) +
                                            " labels but " + std::to_string(predicted.size()) +
                                            " predictions");
  }
  if (truth.empty()) return Fail(ErrorCode::kValidation, "metrics: no messages");
  const size_t n = truth.size();

  // Dense ids for labels and clusters, so the contingency table is keyed by one integer.
  std::unordered_map<std::string_view, uint32_t> label_ids;
  std::unordered_map<uint32_t, uint32_t> cluster_ids;
  label_ids.reserve(n);
  cluster_ids.reserve(n);
  std::vector<uint64_t> truth_size;
  std::vector<uint64_t> cluster_size;
  std::unordered_map<uint64_t, uint64_t> cell;  // (label id << 32 | cluster id) -> count
  cell.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto [l, l_new] = label_ids.try_emplace(truth[i], static_cast<uint32_t>(truth_size.size()));
    if (l_new) truth_size.push_back(0);
    auto [c, c_new] =
        cluster_ids.try_emplace(predicted[i], static_cast<uint32_t>(cluster_size.size()));
    if (c_new) cluster_size.push_back(0);
    ++truth_size[l->second];
    ++cluster_size[c->second];
    ++cell[(uint64_t{l->second} << 32) | c->second];
  }

  ClusterMetrics m;
  m.messages = n;
  m.truth_groups = truth_size.size();
  m.predicted_clusters = cluster_size.size();

  uint64_t exact_messages = 0;
  uint64_t same_both = 0;  // pairs together in truth and in prediction
  for (const auto& [key, count] : cell) {
    auto label = static_cast<uint32_t>(key >> 32);
    auto cluster = static_cast<uint32_t>(key & 0xFFFFFFFFu);
    // A cell that fills both its row and its column is a cluster equal to a truth group.
    if (count == truth_size[label] && count == cluster_size[cluster]) {
      ++m.correct_groups;
      exact_messages += count;
    }
    same_both += Pairs(count);
  }
  uint64_t same_truth = 0;
  for (uint64_t s : truth_size) same_truth += Pairs(s);
  uint64_t same_cluster = 0;
  for (uint64_t s : cluster_size) same_cluster += Pairs(s);

  m.grouping_accuracy = Ratio(exact_messages, n);
  m.group_precision = Ratio(m.correct_groups, m.predicted_clusters);
  m.group_recall = Ratio(m.correct_groups, m.truth_groups);
  m.fga = F1(m.group_precision, m.group_recall);

  m.pair_precision = same_cluster == 0 ? 1.0 : Ratio(same_both, same_cluster);
  m.pair_recall = same_truth == 0 ? 1.0 : Ratio(same_both, same_truth);
  m.pair_f1 = F1(m.pair_precision, m.pair_recall);

  // ARI = (index - expected) / (max - expected), in long double: the products of pair counts
  // reach 1e22 for a million messages.
  if (n < 2) {
    m.ari = 1.0;
    return m;
  }
  const long double index = same_both;
  const long double expected =
      static_cast<long double>(same_truth) * same_cluster / static_cast<long double>(Pairs(n));
  const long double max_index = (static_cast<long double>(same_truth) + same_cluster) / 2;
  const long double den = max_index - expected;
  m.ari = den == 0 ? 1.0 : Ratio(index - expected, den);
  return m;
}

}  // namespace causeloop::cluster::eval

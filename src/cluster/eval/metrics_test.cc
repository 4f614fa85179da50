#include "cluster/eval/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace causeloop::cluster::eval {
namespace {

// Groups a:2, b:1, c:3 — used by several cases; their pair counts are hand-computed below.
const std::vector<std::string> kTruth = {"a", "a", "b", "c", "c", "c"};

ClusterMetrics Score(const std::vector<std::string>& truth, const std::vector<uint32_t>& pred) {
  auto m = Evaluate(truth, pred);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  return m.value_or(ClusterMetrics{});
}

TEST(MetricsTest, PerfectClusteringScoresOneEverywhere) {
  ClusterMetrics m = Score(kTruth, {7, 7, 3, 9, 9, 9});  // ids need not match labels
  EXPECT_EQ(m.messages, 6u);
  EXPECT_EQ(m.truth_groups, 3u);
  EXPECT_EQ(m.predicted_clusters, 3u);
  EXPECT_EQ(m.correct_groups, 3u);
  EXPECT_DOUBLE_EQ(m.grouping_accuracy, 1.0);
  EXPECT_DOUBLE_EQ(m.fga, 1.0);
  EXPECT_DOUBLE_EQ(m.pair_precision, 1.0);
  EXPECT_DOUBLE_EQ(m.pair_recall, 1.0);
  EXPECT_DOUBLE_EQ(m.pair_f1, 1.0);
  EXPECT_DOUBLE_EQ(m.ari, 1.0);
}

TEST(MetricsTest, AllMergedIntoOneClusterIsWrongForEveryGroup) {
  ClusterMetrics m = Score(kTruth, {1, 1, 1, 1, 1, 1});
  EXPECT_EQ(m.predicted_clusters, 1u);
  EXPECT_EQ(m.correct_groups, 0u);
  EXPECT_DOUBLE_EQ(m.grouping_accuracy, 0.0);
  EXPECT_DOUBLE_EQ(m.fga, 0.0);
  // 15 predicted pairs, 4 truth pairs (1 in a, 3 in c), all 4 among the predicted ones.
  EXPECT_DOUBLE_EQ(m.pair_precision, 4.0 / 15);
  EXPECT_DOUBLE_EQ(m.pair_recall, 1.0);
  EXPECT_DOUBLE_EQ(m.pair_f1, 8.0 / 19);
  // Expected index 4 * 15 / 15 = 4 equals the index: no better than chance.
  EXPECT_NEAR(m.ari, 0.0, 1e-12);
}

TEST(MetricsTest, AllSplitGetsOnlyTheSingletonGroupRight) {
  ClusterMetrics m = Score(kTruth, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(m.predicted_clusters, 6u);
  EXPECT_EQ(m.correct_groups, 1u);  // {b}
  EXPECT_DOUBLE_EQ(m.grouping_accuracy, 1.0 / 6);
  EXPECT_DOUBLE_EQ(m.group_precision, 1.0 / 6);
  EXPECT_DOUBLE_EQ(m.group_recall, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.fga, 2.0 / 9);
  EXPECT_DOUBLE_EQ(m.pair_precision, 1.0);  // no predicted pairs, none wrong
  EXPECT_DOUBLE_EQ(m.pair_recall, 0.0);
  EXPECT_DOUBLE_EQ(m.pair_f1, 0.0);
  EXPECT_NEAR(m.ari, 0.0, 1e-12);
}

TEST(MetricsTest, ClusterInsideAGroupButSmallerIsNotCorrect) {
  // The scikit-learn documentation's example: ARI 0.2424…
  ClusterMetrics m = Score({"0", "0", "0", "1", "1", "1"}, {0, 0, 1, 1, 2, 2});
  EXPECT_EQ(m.correct_groups, 0u);
  EXPECT_DOUBLE_EQ(m.grouping_accuracy, 0.0);
  EXPECT_DOUBLE_EQ(m.fga, 0.0);
  EXPECT_DOUBLE_EQ(m.pair_precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.pair_recall, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.pair_f1, 4.0 / 9);
  EXPECT_NEAR(m.ari, 0.8 / 3.3, 1e-12);
}

TEST(MetricsTest, PartialMatchCountsMessagesOfExactGroups) {
  // Cluster 1 is exactly {a}; cluster 2 merges b and c.
  ClusterMetrics m = Score({"a", "a", "b", "b", "c"}, {1, 1, 2, 2, 2});
  EXPECT_EQ(m.correct_groups, 1u);
  EXPECT_DOUBLE_EQ(m.grouping_accuracy, 2.0 / 5);
  EXPECT_DOUBLE_EQ(m.group_precision, 1.0 / 2);
  EXPECT_DOUBLE_EQ(m.group_recall, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.fga, 2.0 / 5);
  EXPECT_DOUBLE_EQ(m.pair_precision, 2.0 / 4);
  EXPECT_DOUBLE_EQ(m.pair_recall, 1.0);
  EXPECT_DOUBLE_EQ(m.pair_f1, 2.0 / 3);
  // Index 2, expected 2 * 4 / 10 = 0.8, maximum 3.
  EXPECT_NEAR(m.ari, 1.2 / 2.2, 1e-12);
}

TEST(MetricsTest, AriIsNegativeWhenWorseThanChance) {
  ClusterMetrics m = Score({"x", "x", "y", "y"}, {0, 1, 0, 1});
  EXPECT_NEAR(m.ari, -0.5, 1e-12);
  EXPECT_DOUBLE_EQ(m.pair_precision, 0.0);
  EXPECT_DOUBLE_EQ(m.pair_f1, 0.0);
}

TEST(MetricsTest, IdenticalTrivialPartitionsAreAPerfectMatch) {
  ClusterMetrics singletons = Score({"a", "b", "c"}, {1, 2, 3});
  EXPECT_DOUBLE_EQ(singletons.ari, 1.0);
  EXPECT_DOUBLE_EQ(singletons.pair_f1, 1.0);
  EXPECT_DOUBLE_EQ(singletons.grouping_accuracy, 1.0);
  ClusterMetrics one = Score({"a"}, {5});
  EXPECT_DOUBLE_EQ(one.ari, 1.0);
  EXPECT_DOUBLE_EQ(one.fga, 1.0);
}

TEST(MetricsTest, RejectsMismatchedAndEmptyInput) {
  auto mismatched = Evaluate({"a", "b"}, {1});
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().code, ErrorCode::kValidation);
  auto empty = Evaluate({}, {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kValidation);
}

TEST(MetricsTest, HandlesHundredsOfThousandsOfMessages) {
  // 300k messages in 1000 groups; the prediction splits group 0 in two halves by parity.
  const size_t n = 300000;
  std::vector<std::string> truth;
  std::vector<uint32_t> pred;
  truth.reserve(n);
  pred.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string label = "g";  // (not "g" + …: GCC 12 warns falsely, -Wrestrict)
    label += std::to_string(i % 1000);
    truth.push_back(std::move(label));
    uint32_t c = static_cast<uint32_t>(i % 1000);
    pred.push_back(c == 0 && i % 2000 == 1000 ? 5000u : c);
  }
  ClusterMetrics m = Score(truth, pred);
  EXPECT_EQ(m.truth_groups, 1000u);
  EXPECT_EQ(m.predicted_clusters, 1001u);
  EXPECT_EQ(m.correct_groups, 999u);
  EXPECT_DOUBLE_EQ(m.grouping_accuracy, 299700.0 / 300000);
  EXPECT_DOUBLE_EQ(m.pair_precision, 1.0);
  // Group 0 has 300 messages, split 150/150: 2 * C(150,2) = 22350 of its C(300,2) = 44850
  // pairs are kept; the other 999 groups keep all their 44850.
  EXPECT_DOUBLE_EQ(m.pair_recall, (999.0 * 44850 + 22350) / (1000.0 * 44850));
  EXPECT_GT(m.ari, 0.99);
  EXPECT_LT(m.ari, 1.0);
}

}  // namespace
}  // namespace causeloop::cluster::eval

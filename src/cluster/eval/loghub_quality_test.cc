// The shipped engine configuration on the 16 Loghub-2k systems (original labels): the quality
// bar the engine is held to. Skipped when the shared data folder is absent.

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "cluster/eval/dataset.h"
#include "cluster/eval/eval.h"

namespace causeloop::cluster::eval {
namespace {

TEST(LoghubQualityTest, DefaultEngineMeetsTheGroupingAccuracyBar) {
  const std::filesystem::path dir = CAUSELOOP_SHARED_DIR "/data/loghub2k";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no Loghub-2k data at " << dir;

  auto loaded = LoadDatasets(dir, LabelVariant::kOriginal);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->datasets.size(), kLoghubSystems.size());
  for (const auto& d : loaded->datasets) EXPECT_EQ(d.records.size(), 2000u) << d.name;

  auto report = EvaluateEngine(loaded->datasets, 1);
  ASSERT_TRUE(report) << report.error().message;
  std::cout << FormatTable(*report);

  EXPECT_GE(report->mean_grouping_accuracy, 0.88);
  EXPECT_GE(report->mean_fga, 0.80);
}

}  // namespace
}  // namespace causeloop::cluster::eval

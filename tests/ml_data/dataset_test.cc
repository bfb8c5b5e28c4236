#include "ml/data/dataset.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;

// Four 1x2x2 examples; example i has all pixels 10 * i and label i.
Dataset Tiny() {
  Dataset d;
  d.name = "tiny";
  d.height = d.width = 2;
  d.num_classes = 4;
  for (uint8_t i = 0; i < 4; ++i) {
    d.labels.push_back(i);
    for (int k = 0; k < 4; ++k) d.pixels.push_back(10 * i);
  }
  d.mean = {0.1f};
  d.std = {0.2f};
  return d;
}

TEST(DatasetTest, SubsetCopiesExamplesInOrder) {
  const Dataset d = Tiny();
  const Dataset s = d.Subset({3, 1, 3});
  EXPECT_EQ(s.size(), 3);
  EXPECT_EQ(s.labels, (std::vector<uint8_t>{3, 1, 3}));
  EXPECT_EQ(s.pixels, (std::vector<uint8_t>{30, 30, 30, 30, 10, 10, 10, 10, 30,
                                            30, 30, 30}));
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.num_classes, 4);
  EXPECT_EQ(s.mean, d.mean);
  EXPECT_EQ(s.std, d.std);
  EXPECT_TRUE(ValidateDataset(s).ok());
}

TEST(DatasetDeathTest, SubsetAbortsOnIndexOutOfRange) {
  const Dataset d = Tiny();
  EXPECT_DEATH(d.Subset({0, 4}), "index 4 outside \\[0, 4\\)");
}

TEST(DatasetTest, HeadClamps) {
  const Dataset d = Tiny();
  EXPECT_EQ(d.Head(2).labels, (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(d.Head(2).pixels.size(), 8u);
  EXPECT_EQ(d.Head(10).size(), 4);
  EXPECT_EQ(d.Head(-1).size(), 0);
  EXPECT_TRUE(d.Head(0).pixels.empty());
}

TEST(DatasetTest, ValidateFindsInconsistencies) {
  Dataset d = Tiny();
  EXPECT_TRUE(ValidateDataset(d).ok());
  d.labels[2] = 4;
  EXPECT_EQ(
      ValidateDataset(d).message(),
      "dataset \"tiny\": label 4 of example 2 is not below num_classes 4");
  d = Tiny();
  d.pixels.pop_back();
  EXPECT_THAT(ValidateDataset(d).message(),
              HasSubstr("15 pixel bytes for 4 examples of 4"));
  d = Tiny();
  d.std = {0.0f};
  EXPECT_THAT(ValidateDataset(d).message(), HasSubstr("std 0 is not positive"));
  d = Tiny();
  d.mean.clear();
  EXPECT_THAT(ValidateDataset(d).message(),
              HasSubstr("mean/std have 0/1 values for 1 channels"));
}

TEST(DatasetTest, ChannelStatsArePerChannel) {
  Dataset d;
  d.channels = 2;
  d.height = 1;
  d.width = 2;
  // Two examples; channel 0 holds 0 and 255, channel 1 is constant 51.
  d.pixels = {0, 255, 51, 51, 255, 0, 51, 51};
  d.labels = {0, 1};
  SetChannelStatsFromPixels(&d);
  ASSERT_EQ(d.mean.size(), 2u);
  EXPECT_NEAR(d.mean[0], 0.5, 1e-6);
  EXPECT_NEAR(d.std[0], 0.5, 1e-6);
  EXPECT_NEAR(d.mean[1], 0.2, 1e-6);
  EXPECT_EQ(d.std[1], 1.0f);  // zero variance: no division by zero
}

}  // namespace
}  // namespace tandem::data

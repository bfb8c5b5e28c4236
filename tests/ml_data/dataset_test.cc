#include "ml/data/dataset.h"

#include <cmath>
#include <limits>
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

// Three rank-1 examples of two features; example i is {i, 10 * i}, label i.
Dataset TinyFloat() {
  Dataset d;
  d.name = "f";
  d.rank = 1;
  d.channels = 2;
  d.height = d.width = 1;
  d.num_classes = 3;
  d.float_features = true;
  for (uint8_t i = 0; i < 3; ++i) {
    d.labels.push_back(i);
    d.features.push_back(i);
    d.features.push_back(10.0f * i);
  }
  d.mean = {1, 10};
  d.std = {2, 20};
  return d;
}

TEST(DatasetTest, SubsetAndHeadOfFloatFeatures) {
  const Dataset d = TinyFloat();
  ASSERT_TRUE(ValidateDataset(d).ok()) << ValidateDataset(d);
  const Dataset s = d.Subset({2, 0, 2});
  EXPECT_EQ(s.features, (std::vector<float>{2, 20, 0, 0, 2, 20}));
  EXPECT_TRUE(s.pixels.empty());
  EXPECT_EQ(s.labels, (std::vector<uint8_t>{2, 0, 2}));
  EXPECT_TRUE(s.float_features);
  EXPECT_EQ(s.rank, 1);
  EXPECT_EQ(s.channels, 2);
  EXPECT_EQ(s.mean, d.mean);
  EXPECT_EQ(s.std, d.std);
  EXPECT_TRUE(ValidateDataset(s).ok());
  const Dataset h = d.Head(2);
  EXPECT_EQ(h.features, (std::vector<float>{0, 0, 1, 10}));
  EXPECT_EQ(h.labels, (std::vector<uint8_t>{0, 1}));
  EXPECT_TRUE(h.float_features);
  EXPECT_EQ(h.rank, 1);
  EXPECT_EQ(d.Head(-1).size(), 0);
  EXPECT_TRUE(d.Head(0).features.empty());
  EXPECT_TRUE(ValidateDataset(d.Head(0)).ok());
}

TEST(DatasetDeathTest, FloatSubsetAbortsOnIndexOutOfRange) {
  const Dataset d = TinyFloat();
  EXPECT_DEATH(d.Subset({3}), "index 3 outside \\[0, 3\\)");
}

TEST(DatasetTest, ValidateFindsFloatInconsistencies) {
  Dataset d = TinyFloat();
  d.features[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(ValidateDataset(d).message(),
            "dataset \"f\": feature value 3 (example 1) is nan, not finite");
  d = TinyFloat();
  d.features[4] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(ValidateDataset(d).message(),
            "dataset \"f\": feature value 4 (example 2) is -inf, not finite");
  d = TinyFloat();
  d.features.pop_back();
  EXPECT_THAT(ValidateDataset(d).message(),
              HasSubstr("5 float features for 3 examples of 2"));
  d = TinyFloat();
  d.pixels = {1};
  EXPECT_THAT(ValidateDataset(d).message(),
              HasSubstr("has 1 pixel bytes but float features"));
  d = Tiny();
  d.features = {1};
  EXPECT_THAT(ValidateDataset(d).message(),
              HasSubstr("has 1 float features but float_features is false"));
}

TEST(DatasetTest, ValidateChecksRankAgainstShape) {
  Dataset d = TinyFloat();
  d.rank = 0;
  EXPECT_THAT(ValidateDataset(d).message(),
              HasSubstr("rank 0 does not fit shape 2x1x1"));
  d = Tiny();  // 1 x 2 x 2
  d.rank = 2;
  EXPECT_THAT(ValidateDataset(d).message(),
              HasSubstr("rank 2 does not fit shape 1x2x2"));
  d = Tiny();
  d.height = 1;
  d.width = 4;
  d.rank = 1;
  EXPECT_THAT(ValidateDataset(d).message(),
              HasSubstr("rank 1 does not fit shape 1x1x4"));
  d.rank = 2;  // C x 1 x T
  EXPECT_TRUE(ValidateDataset(d).ok()) << ValidateDataset(d);
}

TEST(DatasetTest, FeatureStatsArePerChannel) {
  Dataset d;
  d.rank = 2;
  d.channels = 2;
  d.height = 1;
  d.width = 2;
  d.float_features = true;
  // Two examples of 2 channels x 2 steps; channel 0 holds -1, 1, 3, 5 and
  // channel 1 is constant 0.25.
  d.features = {-1, 1, 0.25f, 0.25f, 3, 5, 0.25f, 0.25f};
  d.labels = {0, 1};
  SetChannelStatsFromFeatures(&d);
  // Mean 2, population variance (9 + 1 + 1 + 9) / 4 = 5: exact sums in
  // double, so bit-exact.
  EXPECT_EQ(d.mean, (std::vector<float>{2.0f, 0.25f}));
  EXPECT_EQ(d.std,
            (std::vector<float>{static_cast<float>(std::sqrt(5.0)), 1.0f}));
  Dataset empty = d.Head(0);
  SetChannelStatsFromFeatures(&empty);
  EXPECT_EQ(empty.mean, (std::vector<float>{0, 0}));
  EXPECT_EQ(empty.std, (std::vector<float>{1, 1}));
}

}  // namespace
}  // namespace tandem::data

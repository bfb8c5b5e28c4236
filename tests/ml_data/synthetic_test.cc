#include "ml/data/synthetic.h"

#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;

TrainTest Make(const SyntheticOptions& options) {
  absl::StatusOr<TrainTest> tt = MakeSyntheticDataset(options);
  EXPECT_TRUE(tt.ok()) << tt.status();
  return tt.ok() ? *std::move(tt) : TrainTest{};
}

TEST(SyntheticTest, SameSeedSameBytesOtherSeedOtherBytes) {
  SyntheticOptions options;
  const TrainTest a = Make(options);
  const TrainTest b = Make(options);
  EXPECT_EQ(a.train.pixels, b.train.pixels);
  EXPECT_EQ(a.train.labels, b.train.labels);
  EXPECT_EQ(a.test.pixels, b.test.pixels);
  EXPECT_EQ(a.train.mean, b.train.mean);
  options.seed = 2;
  const TrainTest c = Make(options);
  EXPECT_NE(a.train.pixels, c.train.pixels);
  EXPECT_NE(a.train.labels, c.train.labels);
}

TEST(SyntheticTest, ShapesAndBalancedLabels) {
  SyntheticOptions options;
  options.train_size = 95;
  options.test_size = 7;
  options.channels = 3;
  options.height = 8;
  options.width = 6;
  options.num_classes = 5;
  const TrainTest tt = Make(options);
  EXPECT_EQ(tt.train.name, "synthetic");
  EXPECT_EQ(tt.train.size(), 95);
  EXPECT_EQ(tt.test.size(), 7);
  EXPECT_EQ(tt.train.pixels.size(), 95u * 3 * 8 * 6);
  EXPECT_EQ(tt.train.num_classes, 5);
  EXPECT_EQ(tt.train.mean.size(), 3u);
  EXPECT_EQ(tt.test.std, tt.train.std);
  std::vector<int> counts(5);
  for (uint8_t l : tt.train.labels) ++counts[l];
  EXPECT_EQ(counts, std::vector<int>(5, 19));
  EXPECT_TRUE(ValidateDataset(tt.train).ok());
  EXPECT_TRUE(ValidateDataset(tt.test).ok());
}

// Class means of the train set classify the test set: the data is learnable
// by even a linear model.
TEST(SyntheticTest, NearestClassMeanClassifiesTestSet) {
  const TrainTest tt = Make(SyntheticOptions());
  const int64_t bytes = tt.train.example_bytes();
  std::vector<double> means(10 * bytes, 0.0);
  std::vector<int> counts(10);
  for (int64_t i = 0; i < tt.train.size(); ++i) {
    const int c = tt.train.labels[i];
    ++counts[c];
    for (int64_t k = 0; k < bytes; ++k) {
      means[c * bytes + k] += tt.train.pixels[i * bytes + k];
    }
  }
  for (int c = 0; c < 10; ++c) {
    for (int64_t k = 0; k < bytes; ++k) means[c * bytes + k] /= counts[c];
  }
  int correct = 0;
  for (int64_t i = 0; i < tt.test.size(); ++i) {
    int best = -1;
    double best_distance = std::numeric_limits<double>::max();
    for (int c = 0; c < 10; ++c) {
      double distance = 0;
      for (int64_t k = 0; k < bytes; ++k) {
        const double d = tt.test.pixels[i * bytes + k] - means[c * bytes + k];
        distance += d * d;
      }
      if (distance < best_distance) {
        best_distance = distance;
        best = c;
      }
    }
    correct += best == tt.test.labels[i];
  }
  EXPECT_GE(correct, 0.95 * tt.test.size());
}

TEST(SyntheticTest, NoiseMakesExamplesOfOneClassDiffer) {
  const TrainTest tt = Make(SyntheticOptions());
  const int64_t bytes = tt.train.example_bytes();
  int64_t other = 1;
  while (tt.train.labels[other] != tt.train.labels[0]) ++other;
  EXPECT_FALSE(std::equal(tt.train.pixels.begin(),
                          tt.train.pixels.begin() + bytes,
                          tt.train.pixels.begin() + other * bytes));
}

TEST(SyntheticTest, RejectsBadOptions) {
  SyntheticOptions options;
  options.train_size = 0;
  EXPECT_EQ(MakeSyntheticDataset(options).status().message(),
            "synthetic dataset: train_size = 0 is not in [1, 2^24]");
  options = SyntheticOptions();
  options.channels = 5;
  EXPECT_THAT(MakeSyntheticDataset(options).status().message(),
              HasSubstr("channels = 5"));
  options = SyntheticOptions();
  options.noise_stddev = -1;
  EXPECT_THAT(MakeSyntheticDataset(options).status().message(),
              HasSubstr("noise_stddev = -1"));
}

}  // namespace
}  // namespace tandem::data

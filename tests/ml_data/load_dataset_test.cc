#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/data/dataset.h"
#include "tests/ml_data/test_files.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;

TEST(LoadDatasetTest, FashionMnistFromDefaultPath) {
  absl::StatusOr<TrainTest> tt = LoadDataset(DataSource());
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->train.name, "fashion-mnist");
  EXPECT_EQ(tt->train.size(), 60000);
  EXPECT_EQ(tt->test.size(), 10000);
  EXPECT_EQ(tt->train.mean, std::vector<float>{0.2860f});
  EXPECT_EQ(tt->test.std, std::vector<float>{0.3530f});
}

TEST(LoadDatasetTest, MissingFashionMnistSaysWhatToInstall) {
  DataSource source;
  source.path = "/nonexistent/fashion";
  absl::StatusOr<TrainTest> tt = LoadDataset(source);
  ASSERT_FALSE(tt.ok());
  EXPECT_EQ(tt.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(tt.status().message(), HasSubstr("/nonexistent/fashion"));
  EXPECT_THAT(tt.status().message(),
              HasSubstr("install Debian's dataset-fashion-mnist package"));
}

TEST(LoadDatasetTest, MnistUsesItsStatsAndIdxComputesThem) {
  const std::string dir = testing_files::MakeTempDir("load_mnist");
  testing_files::WriteIdxFolder(dir, 20, 10, /*gz=*/false);
  DataSource source;
  source.kind = "mnist";
  source.path = dir;
  absl::StatusOr<TrainTest> mnist = LoadDataset(source);
  ASSERT_TRUE(mnist.ok()) << mnist.status();
  EXPECT_EQ(mnist->train.name, "mnist");
  EXPECT_EQ(mnist->train.mean, std::vector<float>{0.1307f});
  EXPECT_EQ(mnist->train.std, std::vector<float>{0.3081f});
  source.kind = "idx";
  absl::StatusOr<TrainTest> idx = LoadDataset(source);
  ASSERT_TRUE(idx.ok()) << idx.status();
  EXPECT_EQ(idx->train.name, "idx");
  EXPECT_NE(idx->train.mean, mnist->train.mean);
  EXPECT_EQ(idx->train.pixels, mnist->train.pixels);
}

TEST(LoadDatasetTest, SyntheticTakesItsParameters) {
  DataSource source;
  source.kind = "synthetic";
  source.synthetic_train = 30;
  source.synthetic_test = 6;
  source.channels = 3;
  source.height = 5;
  source.width = 7;
  source.num_classes = 3;
  absl::StatusOr<TrainTest> tt = LoadDataset(source);
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->train.size(), 30);
  EXPECT_EQ(tt->test.size(), 6);
  EXPECT_EQ(tt->train.pixels.size(), 30u * 3 * 5 * 7);
  EXPECT_EQ(tt->train.num_classes, 3);
  source.seed = 9;
  absl::StatusOr<TrainTest> other = LoadDataset(source);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->train.pixels, tt->train.pixels);
}

TEST(LoadDatasetTest, RejectsUnknownKindAndMissingPath) {
  DataSource source;
  source.kind = "imagenet";
  EXPECT_EQ(LoadDataset(source).status().message(),
            "unknown data source kind \"imagenet\"; accepted: fashion-mnist, "
            "mnist, idx, cifar10, synthetic");
  for (const std::string kind : {"mnist", "idx", "cifar10"}) {
    source.kind = kind;
    EXPECT_EQ(LoadDataset(source).status().message(),
              "data source kind \"" + kind + "\" needs a path (a folder)");
  }
}

}  // namespace
}  // namespace tandem::data

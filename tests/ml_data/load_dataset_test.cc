#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/data/dataset.h"
#include "tests/ml_data/tensor_files.h"
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
            "mnist, idx, cifar10, synthetic, tensor");
  for (const std::string kind : {"mnist", "idx", "cifar10"}) {
    source.kind = kind;
    EXPECT_EQ(LoadDataset(source).status().message(),
              "data source kind \"" + kind + "\" needs a path (a folder)");
  }
}

TEST(LoadDatasetTest, TensorNeedsAPath) {
  DataSource source;
  source.kind = "tensor";
  EXPECT_EQ(LoadDataset(source).status().message(),
            "data source kind \"tensor\" needs a path (a .npz or .csv "
            "training file, or a folder of per-device files)");
  EXPECT_THAT(DatasetKinds(), ::testing::Contains("tensor"));
}

// DataSource's test_path, mean and std reach the tensor loader.
TEST(LoadDatasetTest, TensorTrainTestAndNormalisation) {
  const std::string dir = testing_files::MakeTempDir("load_tensor");
  testing_files::WriteXyNpz(
      dir + "/train.npz",
      testing_files::NpyFloats({4, 2}, {0, 1, 2, 3, 4, 5, 6, 7}),
      testing_files::NpyLabels({0, 1, 1, 0}));
  testing_files::WriteText(dir + "/test.csv", "a,b,y\n9,9,1\n");
  DataSource source;
  source.kind = "tensor";
  source.path = dir + "/train.npz";
  source.test_path = dir + "/test.csv";
  absl::StatusOr<TrainTest> tt = LoadDataset(source);
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->train.name, "tensor");
  EXPECT_EQ(tt->train.size(), 4);
  EXPECT_EQ(tt->test.features, (std::vector<float>{9, 9}));
  EXPECT_EQ(tt->train.mean, (std::vector<float>{3, 4}));
  EXPECT_EQ(tt->test.mean, tt->train.mean);
  source.mean = {0.5f, 1.5f};
  source.std = {2, 3};
  tt = LoadDataset(source);
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->train.mean, source.mean);
  EXPECT_EQ(tt->test.std, source.std);
  source.mean = {0.5f};
  source.std = {2};
  EXPECT_EQ(LoadDataset(source).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// LoadTrainRows reads the tensor training set whole and picks rows; the
// test file is not read.
TEST(LoadDatasetTest, TensorTrainRows) {
  const std::string dir = testing_files::MakeTempDir("load_tensor_rows");
  testing_files::WriteXyNpz(dir + "/train.npz",
                            testing_files::NpyFloats({4, 1}, {10, 11, 12, 13}),
                            testing_files::NpyLabels({0, 1, 2, 1}));
  DataSource source;
  source.kind = "tensor";
  source.path = dir + "/train.npz";
  source.test_path = dir + "/missing.npz";
  EXPECT_EQ(LoadDataset(source).status().code(), absl::StatusCode::kNotFound);
  std::vector<uint8_t> seen_labels;
  int seen_classes = 0;
  auto pick = [&](const std::vector<uint8_t>& labels,
                  int num_classes) -> absl::StatusOr<std::vector<int64_t>> {
    seen_labels = labels;
    seen_classes = num_classes;
    return std::vector<int64_t>{0, 2};
  };
  absl::StatusOr<Dataset> rows = LoadTrainRows(source, /*limit=*/3, pick);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(seen_labels, (std::vector<uint8_t>{0, 1, 2}));
  EXPECT_EQ(seen_classes, 3);
  EXPECT_EQ(rows->features, (std::vector<float>{10, 12}));
  EXPECT_EQ(rows->labels, (std::vector<uint8_t>{0, 2}));
  EXPECT_EQ(rows->mean, std::vector<float>{11.5f});  // all rows, not the limit
}

}  // namespace
}  // namespace tandem::data

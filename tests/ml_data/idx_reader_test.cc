#include "ml/data/idx_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "core/gz_input_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/data/dataset.h"
#include "tests/ml_data/test_files.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;
using testing_files::Bytes;
using testing_files::IdxBytes;
using testing_files::MakeTempDir;

const std::string kFashion = kDefaultFashionMnistPath;

// Decompressed bytes of a real Fashion-MNIST file.
Bytes Gunzip(const std::string& path) {
  auto file = GzInputFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return {};
  Bytes out(1 << 20);  // enough for the label files used here
  auto got = (*file)->Read(out.data(), out.size());
  EXPECT_TRUE(got.ok()) << got.status();
  out.resize(got.ok() ? *got : 0);
  return out;
}

TEST(IdxReaderTest, ReadsRealFashionMnist) {
  IdxFolderOptions options;
  options.name = "fashion-mnist";
  options.mean = {0.5f};
  options.std = {0.25f};
  absl::StatusOr<TrainTest> tt = LoadIdxFolder(kFashion, options);
  ASSERT_TRUE(tt.ok()) << tt.status();
  for (const Dataset* d : {&tt->train, &tt->test}) {
    EXPECT_EQ(d->channels, 1);
    EXPECT_EQ(d->height, 28);
    EXPECT_EQ(d->width, 28);
    EXPECT_EQ(d->num_classes, 10);
    EXPECT_EQ(d->name, "fashion-mnist");
    EXPECT_EQ(d->pixels.size(), static_cast<size_t>(d->size()) * 784);
    EXPECT_EQ(std::set<uint8_t>(d->labels.begin(), d->labels.end()).size(),
              10u);
    EXPECT_EQ(*std::max_element(d->labels.begin(), d->labels.end()), 9);
    EXPECT_EQ(d->mean, std::vector<float>{0.5f});
    EXPECT_EQ(d->std, std::vector<float>{0.25f});
  }
  EXPECT_EQ(tt->train.size(), 60000);
  EXPECT_EQ(tt->test.size(), 10000);
  // Fashion-MNIST's published train statistics.
  Dataset stats = tt->train;
  SetChannelStatsFromPixels(&stats);
  EXPECT_NEAR(stats.mean[0], 0.2860, 5e-4);
  EXPECT_NEAR(stats.std[0], 0.3530, 5e-4);
}

TEST(IdxReaderTest, GzAndPlainFilesGiveTheSameBytes) {
  const std::string dir = MakeTempDir("idx_plain");
  const Bytes raw = Gunzip(kFashion + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_EQ(raw.size(), 10008u);
  testing_files::WriteFile(dir + "/labels", raw);
  auto plain = ReadIdxLabels(dir + "/labels");
  auto gz = ReadIdxLabels(kFashion + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(gz.ok()) << gz.status();
  EXPECT_EQ(*plain, *gz);
  EXPECT_EQ(*plain, Bytes(raw.begin() + 8, raw.end()));
}

TEST(IdxReaderTest, TruncatedGzNamesFileAndSaysStreamIsCut) {
  const std::string dir = MakeTempDir("idx_cut_gz");
  const std::string path = dir + "/train-images-idx3-ubyte.gz";
  Bytes gz = testing_files::ReadRaw(kFashion + "/train-images-idx3-ubyte.gz");
  ASSERT_GT(gz.size(), 1000000u);
  gz.resize(gz.size() / 2);
  testing_files::WriteFile(path, gz);
  absl::StatusOr<IdxImages> images = ReadIdxImages(path);
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(images.status().message(), HasSubstr(path));
  EXPECT_THAT(images.status().message(),
              HasSubstr("expected 47040000 bytes of images at offset 16"));
  EXPECT_THAT(images.status().message(), HasSubstr("gzip stream cut short"));
}

TEST(IdxReaderTest, TruncatedPlainFileSaysWhereItEnds) {
  const std::string dir = MakeTempDir("idx_cut_plain");
  const std::string path = dir + "/t10k-labels-idx1-ubyte";
  Bytes raw = Gunzip(kFashion + "/t10k-labels-idx1-ubyte.gz");
  raw.resize(1000);
  testing_files::WriteFile(path, raw);
  absl::StatusOr<Bytes> labels = ReadIdxLabels(path);
  ASSERT_FALSE(labels.ok());
  EXPECT_EQ(labels.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(labels.status().message(),
            path +
                ": expected 10000 bytes of labels at offset 8, file ends "
                "after 992");
}

TEST(IdxReaderTest, TruncatedHeader) {
  const std::string path = MakeTempDir("idx_cut_header") + "/short";
  testing_files::WriteFile(path, {0, 0, 8, 3, 0, 0});
  absl::StatusOr<IdxImages> images = ReadIdxImages(path);
  ASSERT_FALSE(images.ok());
  EXPECT_THAT(images.status().message(),
              HasSubstr("expected 12 bytes of dimensions at offset 4, file "
                        "ends after 2"));
}

TEST(IdxReaderTest, RejectsBadMagic) {
  const std::string path = MakeTempDir("idx_magic") + "/images";
  Bytes bytes = IdxBytes({2, 2, 2}, Bytes(8, 1));
  bytes[0] = 0x1f;
  testing_files::WriteFile(path, bytes);
  absl::StatusOr<IdxImages> images = ReadIdxImages(path);
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(images.status().message(),
            path +
                ": bad magic 0x1f000803, not an IDX file (expected "
                "0x00000803 for images)");
}

TEST(IdxReaderTest, RejectsWrongDtypeAndDimensionCount) {
  const std::string dir = MakeTempDir("idx_dtype");
  Bytes bytes = IdxBytes({2, 2, 2}, Bytes(8, 1));
  bytes[2] = 0x0d;  // float
  testing_files::WriteFile(dir + "/float", bytes);
  EXPECT_THAT(ReadIdxImages(dir + "/float").status().message(),
              HasSubstr("data type 0x0d is not unsigned byte"));
  // A label file read as images.
  testing_files::WriteFile(dir + "/labels", IdxBytes({4}, Bytes(4, 1)));
  EXPECT_THAT(ReadIdxImages(dir + "/labels").status().message(),
              HasSubstr("has 1 dimensions, expected 3 for images"));
}

TEST(IdxReaderTest, RejectsZeroAndHugeDimensions) {
  const std::string dir = MakeTempDir("idx_dims");
  testing_files::WriteFile(dir + "/zero", IdxBytes({2, 0, 2}, {}));
  EXPECT_THAT(ReadIdxImages(dir + "/zero").status().message(),
              HasSubstr("dimension 1 is zero"));
  testing_files::WriteFile(dir + "/wide", IdxBytes({1, 1, 5000}, {}));
  EXPECT_THAT(ReadIdxImages(dir + "/wide").status().message(),
              HasSubstr("dimension 2 is 5000, more than 4096"));
  testing_files::WriteFile(dir + "/huge", IdxBytes({0xffffffff, 28, 28}, {}));
  EXPECT_THAT(ReadIdxImages(dir + "/huge").status().message(),
              HasSubstr("more than 4 GiB"));
}

TEST(IdxReaderTest, RejectsTrailingBytes) {
  const std::string path = MakeTempDir("idx_trailing") + "/labels.gz";
  Bytes bytes = IdxBytes({3}, {1, 2, 3});
  bytes.push_back(4);
  testing_files::WriteGz(path, bytes);
  EXPECT_THAT(ReadIdxLabels(path).status().message(),
              HasSubstr("has bytes after the 3 bytes of labels"));
}

TEST(IdxReaderTest, RejectsLabelsOutOfRange) {
  const std::string path = MakeTempDir("idx_label_range") + "/labels";
  testing_files::WriteFile(path, IdxBytes({3}, {1, 10, 3}));
  EXPECT_EQ(ReadIdxLabels(path).status().message(),
            path + ": label 10 at index 1 is not below 10");
  EXPECT_TRUE(ReadIdxLabels(path, 11).ok());
}

TEST(IdxReaderTest, RejectsLabelAndImageCountMismatch) {
  const std::string dir = MakeTempDir("idx_mismatch");
  testing_files::WriteIdxFolder(dir, 20, 10, /*gz=*/false);
  testing_files::WriteFile(dir + "/t10k-labels-idx1-ubyte",
                           IdxBytes({9}, testing_files::CycleLabels(9)));
  absl::StatusOr<TrainTest> tt = LoadIdxFolder(dir, {});
  ASSERT_FALSE(tt.ok());
  EXPECT_EQ(tt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(tt.status().message(),
              HasSubstr("t10k-labels-idx1-ubyte holds 9 labels but"));
  EXPECT_THAT(tt.status().message(),
              HasSubstr("t10k-images-idx3-ubyte holds 10 images"));
}

TEST(IdxReaderTest, GenericFolderMixesGzAndPlainAndComputesStats) {
  const std::string dir = MakeTempDir("idx_generic");
  testing_files::WriteIdxFolder(dir, 20, 10, /*gz=*/true);
  // Replace one gz file by a plain one.
  std::filesystem::remove(dir + "/t10k-labels-idx1-ubyte.gz");
  testing_files::WriteFile(dir + "/t10k-labels-idx1-ubyte",
                           IdxBytes({10}, testing_files::CycleLabels(10)));
  absl::StatusOr<TrainTest> tt = LoadIdxFolder(dir, {});
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->train.size(), 20);
  EXPECT_EQ(tt->test.size(), 10);
  EXPECT_EQ(tt->train.height, 4);
  EXPECT_EQ(tt->train.width, 5);
  EXPECT_EQ(tt->train.name, "idx");
  EXPECT_EQ(tt->train.pixels, testing_files::ImagePixels(20, 4, 5));
  EXPECT_EQ(tt->test.labels, testing_files::CycleLabels(10));
  // Stats of the train pixels, shared by the test set.
  double sum = 0, sum_sq = 0;
  for (uint8_t p : tt->train.pixels) {
    sum += p / 255.0;
    sum_sq += (p / 255.0) * (p / 255.0);
  }
  const double n = tt->train.pixels.size();
  const double mean = sum / n;
  EXPECT_NEAR(tt->train.mean[0], mean, 1e-6);
  EXPECT_NEAR(tt->train.std[0], std::sqrt(sum_sq / n - mean * mean), 1e-6);
  EXPECT_EQ(tt->test.mean, tt->train.mean);
  EXPECT_EQ(tt->test.std, tt->train.std);
}

TEST(IdxReaderTest, MissingFolderAndFileAreNamed) {
  IdxFolderOptions options;
  options.missing_hint = "install the thing";
  absl::StatusOr<TrainTest> tt = LoadIdxFolder("/nonexistent/idx", options);
  ASSERT_FALSE(tt.ok());
  EXPECT_EQ(tt.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tt.status().message(),
            "IDX dataset folder /nonexistent/idx does not exist; install the "
            "thing");
  const std::string dir = MakeTempDir("idx_missing_file");
  testing_files::WriteIdxFolder(dir, 20, 10, /*gz=*/false);
  std::filesystem::remove(dir + "/t10k-images-idx3-ubyte");
  tt = LoadIdxFolder(dir, options);
  ASSERT_FALSE(tt.ok());
  EXPECT_EQ(tt.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(
      tt.status().message(),
      HasSubstr("neither " + dir + "/t10k-images-idx3-ubyte.gz nor " + dir +
                "/t10k-images-idx3-ubyte exists; install the "
                "thing"));
}

TEST(IdxReaderTest, CorruptGzIsDataLoss) {
  const std::string dir = MakeTempDir("idx_corrupt_gz");
  Bytes gz = testing_files::ReadRaw(kFashion + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_GT(gz.size(), 2000u);
  for (size_t i = 100; i < 1100; ++i) gz[i] ^= 0x5a;
  testing_files::WriteFile(dir + "/labels.gz", gz);
  absl::StatusOr<Bytes> labels = ReadIdxLabels(dir + "/labels.gz");
  ASSERT_FALSE(labels.ok());
  EXPECT_EQ(labels.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(labels.status().message(), HasSubstr(dir + "/labels.gz"));
}

}  // namespace
}  // namespace tandem::data

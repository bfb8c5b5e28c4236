#include "ml/data/cifar10_reader.h"

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ml_data/test_files.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;
using testing_files::Bytes;
using testing_files::MakeTempDir;

// `n` records for file `file`: record i has label (file + i) % 10 and pixel k
// equal to (file * 31 + i * 3 + k) % 256.
Bytes Records(int file, int n) {
  Bytes out;
  for (int i = 0; i < n; ++i) {
    out.push_back((file + i) % 10);
    for (int k = 0; k < 3072; ++k) out.push_back((file * 31 + i * 3 + k) % 256);
  }
  return out;
}

// data_batch_1..5.bin with 2 records each (files 1..5), test_batch.bin with 3
// (file 0).
void WriteFolder(const std::string& dir) {
  for (int b = 1; b <= 5; ++b) {
    testing_files::WriteFile(dir + "/data_batch_" + std::to_string(b) + ".bin",
                             Records(b, 2));
  }
  testing_files::WriteFile(dir + "/test_batch.bin", Records(0, 3));
}

TEST(Cifar10ReaderTest, ReadsTinyFolder) {
  const std::string dir = MakeTempDir("cifar_tiny");
  WriteFolder(dir);
  absl::StatusOr<TrainTest> tt = LoadCifar10Folder(dir);
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->train.size(), 10);
  EXPECT_EQ(tt->test.size(), 3);
  for (const Dataset* d : {&tt->train, &tt->test}) {
    EXPECT_EQ(d->name, "cifar10");
    EXPECT_EQ(d->channels, 3);
    EXPECT_EQ(d->height, 32);
    EXPECT_EQ(d->width, 32);
    EXPECT_EQ(d->mean, (std::vector<float>{0.4914f, 0.4822f, 0.4465f}));
    EXPECT_EQ(d->std, (std::vector<float>{0.2470f, 0.2435f, 0.2616f}));
  }
  // Train example 7 is record 1 of data_batch_4.bin.
  EXPECT_EQ(tt->train.labels[7], 5);
  // Channel-major: pixel k of the record is channel k / 1024, offset k % 1024.
  const uint8_t* example = tt->train.pixels.data() + 7 * 3072;
  for (int k : {0, 1023, 1024, 2047, 3071}) {
    EXPECT_EQ(example[k], (4 * 31 + 3 + k) % 256) << k;
  }
  EXPECT_EQ(tt->test.labels, (Bytes{0, 1, 2}));
  EXPECT_EQ(tt->test.pixels[2 * 3072 + 5], (2 * 3 + 5) % 256);
}

TEST(Cifar10ReaderTest, FindsArchiveSubfolder) {
  const std::string dir = MakeTempDir("cifar_sub");
  std::filesystem::create_directory(dir + "/cifar-10-batches-bin");
  WriteFolder(dir + "/cifar-10-batches-bin");
  absl::StatusOr<TrainTest> tt = LoadCifar10Folder(dir);
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->train.size(), 10);
}

TEST(Cifar10ReaderTest, RejectsSizeNotMultipleOfRecord) {
  const std::string dir = MakeTempDir("cifar_size");
  WriteFolder(dir);
  Bytes bytes = Records(3, 2);
  bytes.resize(bytes.size() - 100);
  const std::string path = dir + "/data_batch_3.bin";
  testing_files::WriteFile(path, bytes);
  absl::StatusOr<TrainTest> tt = LoadCifar10Folder(dir);
  ASSERT_FALSE(tt.ok());
  EXPECT_EQ(tt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(tt.status().message(),
            path +
                ": size 6046 bytes is not a positive multiple of the "
                "3073-byte record");
}

TEST(Cifar10ReaderTest, RejectsBadLabelAndLeavesDatasetUnchanged) {
  const std::string dir = MakeTempDir("cifar_label");
  Bytes bytes = Records(0, 3);
  bytes[2 * 3073] = 10;
  const std::string path = dir + "/batch.bin";
  testing_files::WriteFile(path, bytes);
  Dataset d;
  d.channels = 3;
  d.height = d.width = 32;
  absl::Status status = AppendCifar10Batch(path, &d);
  EXPECT_EQ(status.message(), path + ": label 10 of record 2 is not below 10");
  EXPECT_EQ(d.size(), 0);
  EXPECT_TRUE(d.pixels.empty());
}

TEST(Cifar10ReaderTest, MissingFileIsNamed) {
  const std::string dir = MakeTempDir("cifar_missing");
  WriteFolder(dir);
  std::filesystem::remove(dir + "/data_batch_5.bin");
  absl::StatusOr<TrainTest> tt = LoadCifar10Folder(dir);
  ASSERT_FALSE(tt.ok());
  EXPECT_EQ(tt.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(tt.status().message(),
              HasSubstr(dir + "/data_batch_5.bin does not exist"));
  tt = LoadCifar10Folder("/nonexistent/cifar");
  ASSERT_FALSE(tt.ok());
  EXPECT_THAT(tt.status().message(), HasSubstr("/nonexistent/cifar"));
}

}  // namespace
}  // namespace tandem::data

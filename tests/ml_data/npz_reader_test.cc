#include "ml/data/npz_reader.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ml_data/tensor_files.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing_files::Bytes;
using testing_files::NpyBytes;
using testing_files::NpyFloats;
using testing_files::NpyLabels;
using testing_files::RawBytes;

class NpzReaderTest : public ::testing::TestWithParam<bool> {
 protected:
  bool deflate() const { return GetParam(); }
};

TEST_P(NpzReaderTest, ReadsEntriesInTheOrderAsked) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/d.npz";
  std::vector<float> x(3 * 40);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * i;
  testing_files::WriteXyNpz(path, NpyFloats({3, 40}, x), NpyLabels({2, 0, 1}),
                            deflate());
  absl::StatusOr<std::vector<NpyArray>> arrays =
      ReadNpzEntries(path, {"y.npy", "x.npy"});
  ASSERT_TRUE(arrays.ok()) << arrays.status();
  ASSERT_EQ(arrays->size(), 2u);
  const NpyArray& y = (*arrays)[0];
  const NpyArray& xa = (*arrays)[1];
  EXPECT_EQ(y.descr, "<i8");
  EXPECT_EQ(y.shape, std::vector<int64_t>{3});
  EXPECT_EQ(y.at<int64_t>(0), 2);
  EXPECT_EQ(y.at<int64_t>(2), 1);
  EXPECT_EQ(xa.shape, (std::vector<int64_t>{3, 40}));
  for (int64_t i = 0; i < xa.count; ++i) {
    ASSERT_EQ(xa.at<float>(i), x[i]) << i;
  }
}

// The archive really is stored or deflated as the test asks: a deflated
// archive of compressible data is smaller than its contents.
TEST_P(NpzReaderTest, CompressionIsAsWritten) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/d.npz";
  const Bytes x = NpyFloats({1000}, std::vector<float>(1000, 1.0f));
  testing_files::WriteXyNpz(path, x, NpyLabels({0}), deflate());
  const size_t size = testing_files::ReadRaw(path).size();
  if (deflate()) {
    EXPECT_LT(size, x.size() / 4);
  } else {
    EXPECT_GT(size, x.size());
  }
}

TEST_P(NpzReaderTest, MissingEntryListsThoseThere) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/d.npz";
  testing_files::WriteNpz(
      path, {{"x.npy", NpyFloats({1}, {1})}, {"labels.npy", NpyLabels({0})}},
      deflate());
  absl::StatusOr<std::vector<NpyArray>> arrays =
      ReadNpzEntries(path, {"x.npy", "y.npy"});
  ASSERT_FALSE(arrays.ok());
  EXPECT_EQ(arrays.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(arrays.status().message(),
            path + ": has no entry y.npy (entries: x.npy, labels.npy)");
}

// A corrupt .npy inside the archive is named by archive and entry.
TEST_P(NpzReaderTest, BadEntryNamesArchiveAndEntry) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/d.npz";
  testing_files::WriteNpz(path, {{"x.npy", Bytes{'n', 'o', 'p', 'e'}}},
                          deflate());
  absl::StatusOr<std::vector<NpyArray>> arrays =
      ReadNpzEntries(path, {"x.npy"});
  ASSERT_FALSE(arrays.ok());
  EXPECT_EQ(arrays.status().message(),
            path + ": x.npy: not a .npy array (no \\x93NUMPY magic)");
}

TEST(NpzReaderErrorsTest, MissingFileIsNotFound) {
  absl::StatusOr<std::vector<NpyArray>> arrays =
      ReadNpzEntries("/nonexistent/d.npz", {"x.npy", "y.npy"});
  ASSERT_FALSE(arrays.ok());
  EXPECT_EQ(arrays.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(arrays.status().message(),
            "/nonexistent/d.npz: no such .npz file (need entries x.npy, "
            "y.npy)");
}

TEST(NpzReaderErrorsTest, NotAZipKeepsLibzipsMessage) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/d.npz";
  testing_files::WriteFile(path, NpyFloats({2}, {1, 2}));  // a bare .npy
  absl::StatusOr<std::vector<NpyArray>> arrays =
      ReadNpzEntries(path, {"x.npy"});
  ASSERT_FALSE(arrays.ok());
  EXPECT_EQ(arrays.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(arrays.status().message(),
            path + ": not a readable .npz (zip) archive: Not a zip archive");
}

TEST(NpzReaderErrorsTest, TruncatedArchiveIsAnError) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/d.npz";
  testing_files::WriteXyNpz(path, NpyFloats({100}, std::vector<float>(100, 3)),
                            NpyLabels({0}), /*deflate=*/true);
  const Bytes whole = testing_files::ReadRaw(path);
  for (size_t keep : {whole.size() - 10, whole.size() / 2, size_t{10}}) {
    testing_files::WriteFile(path, Bytes(whole.begin(), whole.begin() + keep));
    absl::StatusOr<std::vector<NpyArray>> arrays =
        ReadNpzEntries(path, {"x.npy", "y.npy"});
    ASSERT_FALSE(arrays.ok()) << keep;
    EXPECT_EQ(arrays.status().code(), absl::StatusCode::kDataLoss) << keep;
    EXPECT_THAT(std::string(arrays.status().message()),
                StartsWith(path + ": not a readable .npz (zip) archive: "))
        << keep;
  }
}

// Flipped bits in the deflated data: libzip's inflate or CRC check fails,
// and its message is kept with the archive and entry names.
TEST(NpzReaderErrorsTest, CorruptDeflatedDataIsAnError) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/d.npz";
  std::vector<float> x(400);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 17);
  const Bytes x_npy = NpyFloats({400}, x);
  testing_files::WriteXyNpz(path, x_npy, NpyLabels({0}), /*deflate=*/true);
  Bytes bytes = testing_files::ReadRaw(path);
  // x.npy is the first entry: its data starts after the 30-byte local
  // header, the name and the extra field (their lengths at offsets 26 and
  // 28); corrupt some of it.
  const size_t data_start =
      30 + (bytes[26] | bytes[27] << 8) + (bytes[28] | bytes[29] << 8);
  ASSERT_LT(data_start + 60, bytes.size());
  for (size_t i = data_start + 20; i < data_start + 60; ++i) bytes[i] ^= 0x5a;
  testing_files::WriteFile(path, bytes);
  absl::StatusOr<std::vector<NpyArray>> arrays =
      ReadNpzEntries(path, {"x.npy", "y.npy"});
  ASSERT_FALSE(arrays.ok());
  EXPECT_EQ(arrays.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(arrays.status().message()),
              StartsWith(path + ": x.npy: "));
  EXPECT_THAT(arrays.status().message(),
              ::testing::AnyOf(HasSubstr("Zlib error"), HasSubstr("CRC error"),
                               HasSubstr("Compressed data invalid")));
}

// An entry whose sizes (local header and central directory) claim 4 GiB:
// refused by comparing with the bytes the archive holds, before a buffer of
// that size is allocated.
TEST_P(NpzReaderTest, HugeClaimedEntrySizeIsRefused) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/d.npz";
  const Bytes x = NpyFloats({4}, {1, 2, 3, 4});
  testing_files::WriteNpz(path, {{"x.npy", x}}, deflate());
  Bytes bytes = testing_files::ReadRaw(path);
  // Patch the uncompressed size (little-endian uint32) where the zip
  // records it: offset 22 of the local header, 24 of the central one.
  const uint32_t huge = 0xfffffff0u;
  auto patch = [&bytes, &x, huge](size_t at) {
    ASSERT_LE(at + 4, bytes.size());
    uint32_t have;
    std::memcpy(&have, bytes.data() + at, 4);
    ASSERT_EQ(have, x.size()) << "unexpected zip layout at " << at;
    std::memcpy(bytes.data() + at, &huge, 4);
  };
  patch(22);
  size_t central = 0;
  for (size_t i = 0; i + 4 <= bytes.size(); ++i) {
    if (bytes[i] == 'P' && bytes[i + 1] == 'K' && bytes[i + 2] == 1 &&
        bytes[i + 3] == 2) {
      central = i;
    }
  }
  ASSERT_GT(central, 0u);
  patch(central + 24);
  testing_files::WriteFile(path, bytes);
  absl::StatusOr<std::vector<NpyArray>> arrays =
      ReadNpzEntries(path, {"x.npy"});
  ASSERT_FALSE(arrays.ok());
  EXPECT_EQ(arrays.status().code(), absl::StatusCode::kDataLoss);
  const std::string message(arrays.status().message());
  if (deflate()) {
    EXPECT_THAT(message, StartsWith(path + ": x.npy: entry claims 4294967280 "
                                           "bytes from "));
    EXPECT_THAT(message, HasSubstr(" compressed: more than deflate gives"));
  } else {
    EXPECT_EQ(message, path +
                           ": x.npy: stored entry claims 4294967280 bytes "
                           "but occupies " +
                           std::to_string(x.size()));
  }
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, NpzReaderTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "deflated" : "stored";
                         });

}  // namespace
}  // namespace tandem::data

#include "ml/data/tensor_dataset.h"

#include <cmath>
#include <cstdlib>
#include <limits>
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

// Writes x and y to `<dir>/<name>.npz` and returns the path.
std::string WriteXy(const std::string& dir, const std::string& name,
                    const Bytes& x, const Bytes& y, bool deflate = false) {
  const std::string path = dir + "/" + name + ".npz";
  testing_files::WriteXyNpz(path, x, y, deflate);
  return path;
}

// x of n examples of `per` floats, value i * per + k at example i, k.
std::vector<float> Ramp(int n, int per) {
  std::vector<float> v(n * per);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return v;
}

class TensorFileTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = testing_files::MakeTestDir();
    path_ = dir_ + "/d.npz";
  }
  // Loads x and y written as one .npz, stored or deflated per the parameter.
  absl::StatusOr<Dataset> Load(const Bytes& x, const Bytes& y,
                               const TensorDatasetOptions& options = {}) {
    testing_files::WriteXyNpz(path_, x, y, GetParam());
    return LoadTensorFile(path_, options);
  }
  // The error message of Load, which must fail with `code`.
  std::string ErrorOf(const Bytes& x, const Bytes& y,
                      const TensorDatasetOptions& options = {},
                      absl::StatusCode code = absl::StatusCode::kDataLoss) {
    absl::StatusOr<Dataset> d = Load(x, y, options);
    if (d.ok()) return "loaded";
    EXPECT_EQ(d.status().code(), code) << d.status();
    return std::string(d.status().message());
  }

  std::string dir_;
  std::string path_;  // where Load writes: <dir_>/d.npz
};

// Rank 3: N x C x H x W float32. Channel 0 holds 0..7 over the two
// examples, channel 1 is constant 10.
TEST_P(TensorFileTest, Rank3FloatFeaturesAndTheirStatistics) {
  const std::vector<float> x = {0, 1, 2, 3, 10, 10, 10, 10,
                                4, 5, 6, 7, 10, 10, 10, 10};
  absl::StatusOr<Dataset> d =
      Load(NpyFloats({2, 2, 2, 2}, x), NpyLabels({1, 0}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name, "tensor");
  EXPECT_EQ(d->rank, 3);
  EXPECT_EQ(d->channels, 2);
  EXPECT_EQ(d->height, 2);
  EXPECT_EQ(d->width, 2);
  EXPECT_TRUE(d->float_features);
  EXPECT_EQ(d->features, x);
  EXPECT_TRUE(d->pixels.empty());
  EXPECT_EQ(d->labels, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(d->num_classes, 2);
  // Population statistics of 0..7: mean 3.5, variance 42 / 8 = 5.25. The
  // sums are exact in double, so the same arithmetic: bit-exact.
  EXPECT_EQ(d->mean, (std::vector<float>{3.5f, 10.0f}));
  EXPECT_EQ(d->std, (std::vector<float>{static_cast<float>(std::sqrt(5.25)),
                                        1.0f}));  // zero variance: 1
}

// Rank 2: N x C x T, stored as C x 1 x T.
TEST_P(TensorFileTest, Rank2SensorChannels) {
  const std::vector<float> x = Ramp(3, 2 * 4);
  absl::StatusOr<Dataset> d =
      Load(NpyFloats({3, 2, 4}, x), NpyLabels({0, 1, 2}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->rank, 2);
  EXPECT_EQ(d->channels, 2);
  EXPECT_EQ(d->height, 1);
  EXPECT_EQ(d->width, 4);
  EXPECT_EQ(d->features, x);
  EXPECT_EQ(d->num_classes, 3);
  // Channel 0: {0..3, 8..11, 16..19}, mean 9.5; channel 1: mean 13.5.
  EXPECT_EQ(d->mean, (std::vector<float>{9.5f, 13.5f}));
  // Deviations from 9.5: -9.5..-6.5, -1.5..1.5, 6.5..9.5; squares sum to
  // 2 * (9.5^2 + 8.5^2 + 7.5^2 + 6.5^2) + 2 * (1.5^2 + 0.5^2) = 527, over 12
  // values. Exact sums in double: bit-exact.
  const float want = static_cast<float>(std::sqrt(527.0 / 12));
  EXPECT_EQ(d->std, (std::vector<float>{want, want}));
}

// Rank 1: N x F, each feature a channel with its own statistics.
TEST_P(TensorFileTest, Rank1TabularFeatures) {
  const std::vector<float> x = {1, -5, 100, 2, -5, 200, 3, -5, 300, 4, -5, 400};
  absl::StatusOr<Dataset> d =
      Load(NpyFloats({4, 3}, x), NpyLabels({0, 0, 1, 1}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->rank, 1);
  EXPECT_EQ(d->channels, 3);
  EXPECT_EQ(d->height, 1);
  EXPECT_EQ(d->width, 1);
  EXPECT_EQ(d->features, x);
  EXPECT_EQ(d->mean, (std::vector<float>{2.5f, -5.0f, 250.0f}));
  EXPECT_EQ(d->std,
            (std::vector<float>{static_cast<float>(std::sqrt(1.25)), 1.0f,
                                static_cast<float>(std::sqrt(12500.0))}));
  EXPECT_TRUE(ValidateDataset(*d).ok());
}

// uint8 x are pixels, normalised like images: statistics of p / 255.
TEST_P(TensorFileTest, Uint8ImagesArePixels) {
  const Bytes pixels = {0, 255, 0, 255, 51, 51, 51, 51};
  absl::StatusOr<Dataset> d =
      Load(NpyBytes("|u1", {2, 1, 2, 2}, pixels), NpyLabels({3, 1}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->float_features);
  EXPECT_TRUE(d->features.empty());
  EXPECT_EQ(d->pixels, pixels);
  EXPECT_EQ(d->rank, 3);
  EXPECT_EQ(d->num_classes, 4);
  // The same function the IDX reader uses, on the same sums.
  const PixelStats s =
      PixelStatsOf(0 + 255 + 0 + 255 + 4 * 51, 2 * 255 * 255 + 4 * 51 * 51, 8);
  EXPECT_EQ(d->mean, std::vector<float>{s.mean});
  EXPECT_EQ(d->std, std::vector<float>{s.std});
}

TEST_P(TensorFileTest, AnyIntegerLabelDtype) {
  const Bytes x = NpyFloats({3, 1}, {1, 2, 3});
  const std::vector<std::pair<std::string, Bytes>> labels = {
      {"|u1", Bytes{2, 0, 1}},
      {"|i1", RawBytes(std::vector<int8_t>{2, 0, 1})},
      {"<i2", RawBytes(std::vector<int16_t>{2, 0, 1})},
      {"<u2", RawBytes(std::vector<uint16_t>{2, 0, 1})},
      {"<i4", RawBytes(std::vector<int32_t>{2, 0, 1})},
      {"<u4", RawBytes(std::vector<uint32_t>{2, 0, 1})},
      {"<i8", RawBytes(std::vector<int64_t>{2, 0, 1})},
      {"<u8", RawBytes(std::vector<uint64_t>{2, 0, 1})},
  };
  for (const auto& [descr, bytes] : labels) {
    absl::StatusOr<Dataset> d = Load(x, NpyBytes(descr, {3}, bytes));
    ASSERT_TRUE(d.ok()) << descr << ": " << d.status();
    EXPECT_EQ(d->labels, (std::vector<uint8_t>{2, 0, 1})) << descr;
  }
}

TEST_P(TensorFileTest, NumClassesGivenOrInferred) {
  const Bytes x = NpyFloats({2, 1}, {1, 2});
  TensorDatasetOptions options;
  options.num_classes = 7;
  absl::StatusOr<Dataset> d = Load(x, NpyLabels({0, 2}), options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->num_classes, 7);
  // Label 255 is the largest a Dataset holds: 256 classes.
  d = Load(x, NpyLabels({255, 0}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->num_classes, 256);

  options.num_classes = 2;
  EXPECT_EQ(ErrorOf(x, NpyLabels({0, 2}), options),
            path_ +
                ": label 2 of example 1 is not below num_classes 2 "
                "(given)");
  options.num_classes = 300;
  EXPECT_EQ(ErrorOf(x, NpyLabels({0, 2}), options,
                    absl::StatusCode::kInvalidArgument),
            path_ + ": num_classes 300 is not in [1, 256]");
}

TEST_P(TensorFileTest, LabelsOutOfRange) {
  const Bytes x = NpyFloats({2, 1}, {1, 2});
  EXPECT_EQ(ErrorOf(x, NpyLabels({0, -1})),
            path_ + ": label -1 of example 1 is negative");
  EXPECT_EQ(ErrorOf(x, NpyLabels({256, 0})),
            path_ +
                ": label 256 of example 0 is not below 256 (labels are "
                "stored as uint8)");
  EXPECT_EQ(ErrorOf(x, NpyBytes("<u8", {2},
                                RawBytes(std::vector<uint64_t>{1, ~0ull}))),
            path_ +
                ": label 9223372036854775807 of example 1 is not below "
                "256 (labels are stored as uint8)");
}

TEST_P(TensorFileTest, XAndYOfDifferentLengths) {
  EXPECT_EQ(ErrorOf(NpyFloats({3, 1}, {1, 2, 3}), NpyLabels({0, 1})),
            path_ + ": x holds 3 examples but y holds 2 labels");
}

TEST_P(TensorFileTest, WrongDtypes) {
  EXPECT_EQ(ErrorOf(NpyBytes("<f8", {1, 1}, RawBytes(std::vector<double>{1})),
                    NpyLabels({0})),
            path_ + ": x must be float32 or uint8, got <f8");
  EXPECT_EQ(ErrorOf(NpyBytes("<i8", {1, 1}, RawBytes(std::vector<int64_t>{1})),
                    NpyLabels({0})),
            path_ + ": x must be float32 or uint8, got <i8");
  EXPECT_EQ(ErrorOf(NpyFloats({1, 1}, {1}), NpyFloats({1}, {0})),
            path_ +
                ": y must hold integer labels (|u1, <i2, <i4, <i8, ...), "
                "got <f4");
}

TEST_P(TensorFileTest, WrongShapes) {
  EXPECT_EQ(ErrorOf(NpyFloats({2}, {1, 2}), NpyLabels({0, 1})),
            path_ +
                ": x must be N x C x H x W, N x C x T or N x F, got shape "
                "(2,)");
  EXPECT_EQ(ErrorOf(NpyFloats({1, 1, 1, 1, 1}, {1}), NpyLabels({0})),
            path_ +
                ": x must be N x C x H x W, N x C x T or N x F, got shape "
                "(1, 1, 1, 1, 1)");
  EXPECT_EQ(
      ErrorOf(NpyFloats({2, 1}, {1, 2}),
              NpyBytes("<i8", {2, 1}, RawBytes(std::vector<int64_t>{0, 1}))),
      path_ +
          ": y must be 1-D (one label per example), got shape "
          "(2, 1)");
  EXPECT_EQ(ErrorOf(NpyFloats({2, 0}, {}), NpyLabels({0, 1})),
            path_ +
                ": x shape (2, 0): an example must have 1 to 2147483648 "
                "values");
  // No examples, so no bytes bound the example size: it is bounded alone.
  EXPECT_EQ(ErrorOf(NpyFloats({0, 100000, 100000}, {}), NpyLabels({})),
            path_ +
                ": x shape (0, 100000, 100000): an example must have 1 "
                "to 2147483648 values");
}

TEST_P(TensorFileTest, NonFiniteValuesNameTheExample) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ErrorOf(NpyFloats({2, 3}, {1, 2, 3, 4, 5, nan}), NpyLabels({0, 1})),
            path_ + ": x value 5 (example 1) is nan; values must be finite");
  EXPECT_EQ(
      ErrorOf(NpyFloats({2, 3}, {1, -inf, 3, 4, 5, 6}), NpyLabels({0, 1})),
      path_ + ": x value 1 (example 0) is -inf; values must be finite");
}

TEST_P(TensorFileTest, GivenMeanAndStd) {
  TensorDatasetOptions options;
  options.mean = {1, 2};
  options.std = {0.5f, 4};
  absl::StatusOr<Dataset> d =
      Load(NpyFloats({1, 2}, {7, 8}), NpyLabels({0}), options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->mean, options.mean);
  EXPECT_EQ(d->std, options.std);

  options.mean = {1};
  options.std = {1};
  EXPECT_EQ(ErrorOf(NpyFloats({1, 3}, {7, 8, 9}), NpyLabels({0}), options,
                    absl::StatusCode::kInvalidArgument),
            path_ +
                ": 1 mean and 1 std values given, expected one per "
                "channel: 3");
  options.mean = {1, 2};
  options.std = {1, 0};
  EXPECT_EQ(ErrorOf(NpyFloats({1, 2}, {7, 8}), NpyLabels({0}), options,
                    absl::StatusCode::kInvalidArgument),
            path_ +
                ": channel 1 has mean 2 and std 0; need finite values "
                "and std > 0");
}

TEST_P(TensorFileTest, MissingEntries) {
  testing_files::WriteNpz(path_, {{"y.npy", NpyLabels({0})}}, GetParam());
  absl::StatusOr<Dataset> d = LoadTensorFile(path_, {});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(d.status().message(),
            path_ + ": has no entry x.npy (entries: y.npy)");
  testing_files::WriteNpz(path_, {{"x.npy", NpyFloats({1, 1}, {1})}},
                          GetParam());
  d = LoadTensorFile(path_, {});
  EXPECT_EQ(d.status().message(),
            path_ + ": has no entry y.npy (entries: x.npy)");
}

TEST_P(TensorFileTest, BadNpyHeaderNamesArchiveAndEntry) {
  Bytes x = NpyFloats({1, 1}, {1});
  x[6] = 9;  // version 9.0
  EXPECT_EQ(ErrorOf(x, NpyLabels({0})),
            path_ + ": x.npy: .npy version 9.0 is not 1.0, 2.0 or 3.0");
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, TensorFileTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "deflated" : "stored";
                         });

TEST(TensorDatasetTest, TruncatedNpzIsAnErrorNamingTheFile) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path =
      WriteXy(dir, "d", NpyFloats({2, 2}, {1, 2, 3, 4}), NpyLabels({0, 1}),
              /*deflate=*/true);
  const Bytes whole = testing_files::ReadRaw(path);
  testing_files::WriteFile(
      path, Bytes(whole.begin(), whole.begin() + whole.size() / 2));
  absl::StatusOr<Dataset> d = LoadTensorFile(path, {});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(d.status().message()),
              StartsWith(path + ": not a readable .npz (zip) archive: "));
}

TEST(TensorDatasetTest, FileTypeByExtension) {
  const std::string dir = testing_files::MakeTestDir();
  absl::StatusOr<Dataset> d = LoadTensorFile(dir + "/d.npy", {});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message(),
            dir + "/d.npy: a tensor data file must be .npz or .csv");
  d = LoadTensorFile(dir + "/missing.npz", {});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(d.status().message()),
              StartsWith(dir + "/missing.npz: "));
  d = LoadTensorFile(dir + "/missing.csv", {});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kNotFound);
  // Extensions are matched without regard to case.
  testing_files::WriteXyNpz(dir + "/UPPER.NPZ", NpyFloats({1, 1}, {1}),
                            NpyLabels({0}));
  EXPECT_TRUE(LoadTensorFile(dir + "/UPPER.NPZ", {}).ok());
}

TEST(TensorDatasetTest, CsvIsRank1WithAndWithoutHeader) {
  const std::string dir = testing_files::MakeTestDir();
  testing_files::WriteText(dir + "/h.csv", "a,b,y\n1,10,0\n3,10,2\n");
  testing_files::WriteText(dir + "/n.csv", "1,10,0\n3,10,2\n");
  for (const std::string name : {"h.csv", "n.csv"}) {
    absl::StatusOr<Dataset> d = LoadTensorFile(dir + "/" + name, {});
    ASSERT_TRUE(d.ok()) << name << ": " << d.status();
    EXPECT_EQ(d->rank, 1) << name;
    EXPECT_EQ(d->channels, 2) << name;
    EXPECT_TRUE(d->float_features) << name;
    EXPECT_EQ(d->features, (std::vector<float>{1, 10, 3, 10})) << name;
    EXPECT_EQ(d->labels, (std::vector<uint8_t>{0, 2})) << name;
    EXPECT_EQ(d->num_classes, 3) << name;
    EXPECT_EQ(d->mean, (std::vector<float>{2, 10})) << name;
    EXPECT_EQ(d->std, (std::vector<float>{1, 1})) << name;
  }
  TensorDatasetOptions options;
  options.csv.label_name = "a";
  absl::StatusOr<Dataset> d = LoadTensorFile(dir + "/h.csv", options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->labels, (std::vector<uint8_t>{1, 3}));
  EXPECT_EQ(d->features, (std::vector<float>{10, 0, 10, 2}));
}

TEST(TensorDatasetTest, CsvErrorsNameTheFile) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string path = dir + "/t.csv";
  testing_files::WriteText(path, "a,y\n1,0\n2,-3\n");
  EXPECT_EQ(LoadTensorFile(path, {}).status().message(),
            path + ": label -3 of example 1 is negative");
  testing_files::WriteText(path, "a,y\n1,0\n2\n");
  EXPECT_EQ(LoadTensorFile(path, {}).status().message(),
            path + ": line 3: has 1 columns, expected 2 (as line 1)");
  testing_files::WriteText(path, "a,y\n1,0\nx,1\n");
  EXPECT_EQ(LoadTensorFile(path, {}).status().message(),
            path + ": line 3: column 1: \"x\" is not a number");
  testing_files::WriteText(path, "a,y\ninf,0\n");
  EXPECT_EQ(LoadTensorFile(path, {}).status().message(),
            path + ": line 2: column 1: \"inf\" is not a finite float32");
}

TEST(TensorDatasetTest, FromArraysWithoutFiles) {
  absl::StatusOr<NpyArray> x =
      ParseNpy("x", NpyFloats({2, 3}, {1, 2, 3, 4, 5, 6}));
  absl::StatusOr<NpyArray> y = ParseNpy("y", NpyLabels({1, 1}));
  ASSERT_TRUE(x.ok() && y.ok());
  TensorDatasetOptions options;
  options.name = "har";
  absl::StatusOr<Dataset> d = DatasetFromArrays("mem", *x, *y, options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name, "har");
  EXPECT_EQ(d->num_classes, 2);
  EXPECT_EQ(d->mean, (std::vector<float>{2.5f, 3.5f, 4.5f}));
  EXPECT_EQ(DatasetFromArrays("mem", *y, *y, options).status().message(),
            "mem: x must be float32 or uint8, got <i8");
}

// Train and test: the test set takes the training set's classes and
// statistics; an empty test path gives an empty test set of the same shape.
TEST(TensorDatasetTest, TrainAndTestFiles) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string train =
      WriteXy(dir, "train", NpyFloats({3, 1}, {0, 2, 4}), NpyLabels({0, 2, 1}));
  const std::string test =
      WriteXy(dir, "test", NpyFloats({2, 1}, {100, 200}), NpyLabels({1, 1}));
  absl::StatusOr<TrainTest> tt = LoadTensorDataset(train, test, {});
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->train.size(), 3);
  EXPECT_EQ(tt->test.size(), 2);
  EXPECT_EQ(tt->test.features, (std::vector<float>{100, 200}));
  EXPECT_EQ(tt->test.num_classes, 3);
  EXPECT_EQ(tt->test.mean, std::vector<float>{2});  // of the training set
  EXPECT_EQ(tt->test.std, tt->train.std);
  EXPECT_EQ(tt->test.name, "tensor");

  tt = LoadTensorDataset(train, "", {});
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->test.size(), 0);
  EXPECT_TRUE(tt->test.features.empty());
  EXPECT_EQ(tt->test.rank, 1);
  EXPECT_TRUE(tt->test.float_features);
  EXPECT_EQ(tt->test.mean, tt->train.mean);
  EXPECT_TRUE(ValidateDataset(tt->test).ok());

  // A CSV test set for an .npz training set: the same rank-1 shape.
  testing_files::WriteText(dir + "/test.csv", "x,y\n5,2\n");
  tt = LoadTensorDataset(train, dir + "/test.csv", {});
  ASSERT_TRUE(tt.ok()) << tt.status();
  EXPECT_EQ(tt->test.labels, std::vector<uint8_t>{2});
}

TEST(TensorDatasetTest, TestFileMustFitTheTrainingSet) {
  const std::string dir = testing_files::MakeTestDir();
  const std::string train =
      WriteXy(dir, "train", NpyFloats({2, 1}, {0, 2}), NpyLabels({0, 2}));
  const std::string wide =
      WriteXy(dir, "wide", NpyFloats({1, 2}, {1, 2}), NpyLabels({0}));
  EXPECT_EQ(LoadTensorDataset(train, wide, {}).status().message(),
            wide + ": examples are float32 2x1x1 (rank 1) but " + train +
                " has float32 1x1x1 (rank 1)");
  const std::string images =
      WriteXy(dir, "images", NpyBytes("|u1", {1, 1}, {9}), NpyLabels({0}));
  EXPECT_EQ(LoadTensorDataset(train, images, {}).status().message(),
            images + ": examples are uint8 1x1x1 (rank 1) but " + train +
                " has float32 1x1x1 (rank 1)");
  const std::string new_class =
      WriteXy(dir, "new_class", NpyFloats({2, 1}, {1, 2}), NpyLabels({1, 3}));
  absl::StatusOr<TrainTest> tt = LoadTensorDataset(train, new_class, {});
  EXPECT_EQ(tt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(tt.status().message(),
            new_class +
                ": label 3 of example 1 is not below num_classes 3 "
                "(1 + the largest training label)");
  EXPECT_EQ(LoadTensorDataset(train, dir + "/none.npz", {}).status().code(),
            absl::StatusCode::kNotFound);
}

// A folder of per-device files: device ids are the file names; the union
// (in id order) is the training set; each device reads its own file.
TEST(TensorDatasetTest, PerDeviceFolder) {
  const std::string dir = testing_files::MakeTestDir();
  WriteXy(dir, "phone-01", NpyFloats({2, 2}, {1, 1, 2, 2}), NpyLabels({0, 1}));
  testing_files::WriteText(dir + "/phone-00.csv", "a,b,y\n0,0,4\n");
  WriteXy(dir, "watch-00", NpyFloats({1, 2}, {9, 9}), NpyLabels({2}));
  testing_files::WriteText(dir + "/watch-00.csv",
                           "a,b,y\n7,7,7\n");  // .npz wins
  testing_files::WriteText(dir + "/README.txt", "not data");
  absl::StatusOr<std::vector<std::string>> ids = TensorFolderDeviceIds(dir);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids,
            (std::vector<std::string>{"phone-00", "phone-01", "watch-00"}));

  absl::StatusOr<TrainTest> all = LoadTensorDataset(dir, "", {});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->train.features, (std::vector<float>{0, 0, 1, 1, 2, 2, 9, 9}));
  EXPECT_EQ(all->train.labels, (std::vector<uint8_t>{4, 0, 1, 2}));
  EXPECT_EQ(all->train.num_classes, 5);
  EXPECT_EQ(all->train.mean, (std::vector<float>{3, 3}));

  TensorDatasetOptions options;
  options.num_classes = all->train.num_classes;
  options.mean = all->train.mean;
  options.std = all->train.std;
  absl::StatusOr<Dataset> mine = LoadDeviceTensorFile(dir, "phone-01", options);
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->features, (std::vector<float>{1, 1, 2, 2}));
  EXPECT_EQ(mine->num_classes, 5);
  EXPECT_EQ(mine->mean, all->train.mean);
  mine = LoadDeviceTensorFile(dir, "watch-00", options);
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->labels, std::vector<uint8_t>{2});
  // Alone, a device's file gets its own classes and statistics.
  mine = LoadDeviceTensorFile(dir, "phone-01", {});
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->num_classes, 2);
  EXPECT_EQ(mine->mean, (std::vector<float>{1.5f, 1.5f}));

  absl::StatusOr<Dataset> missing = LoadDeviceTensorFile(dir, "tv-00", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "tensor data folder " + dir + ": neither " + dir +
                "/tv-00.npz nor " + dir + "/tv-00.csv exists");
  for (const std::string bad : {"", "../phone-01", ".hidden", "a/b"}) {
    EXPECT_EQ(LoadDeviceTensorFile(dir, bad, {}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(TensorDatasetTest, FolderFilesMustAgreeAndExist) {
  const std::string dir = testing_files::MakeTestDir();
  EXPECT_EQ(TensorFolderDeviceIds(dir).status().message(),
            "tensor data folder " + dir + " holds no .npz or .csv files");
  EXPECT_EQ(TensorFolderDeviceIds(dir + "/none").status().code(),
            absl::StatusCode::kNotFound);
  WriteXy(dir, "a", NpyFloats({1, 2}, {1, 2}), NpyLabels({0}));
  const std::string b =
      WriteXy(dir, "b", NpyFloats({1, 3}, {1, 2, 3}), NpyLabels({0}));
  EXPECT_EQ(LoadTensorDataset(dir, "", {}).status().message(),
            b + ": examples are float32 3x1x1 (rank 1) but " + dir +
                "/a.npz has float32 2x1x1 (rank 1)");
}

// Files written by NumPy itself (numpy.savez writes zip64 local headers;
// savez_compressed deflates), when /usr/bin/python3 has numpy; the other
// tests write the same formats by hand.
TEST(TensorDatasetNumpyTest, ReadsWhatNumpyWrites) {
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
    GTEST_SKIP() << "no numpy for /usr/bin/python3";
  }
  const std::string dir = testing_files::MakeTestDir();
  const std::string script =
      "import numpy as np, sys\n"
      "d = sys.argv[1]\n"
      "x = np.arange(5 * 3 * 8, dtype=np.float32).reshape(5, 3, 8) / "
      "np.float32(7)\n"
      "y = np.array([0, 3, 1, 2, 3])\n"
      "np.savez(d + '/stored.npz', x=x, y=y)\n"
      "np.savez_compressed(d + '/deflated.npz', x=x, y=y.astype(np.int32))\n"
      "u = (np.arange(2 * 4 * 4) % 256).astype(np.uint8).reshape(2, 1, 4, 4)\n"
      "np.savez(d + '/images.npz', x=u, y=np.array([1, 0], dtype=np.uint8))\n";
  testing_files::WriteText(dir + "/write.py", script);
  ASSERT_EQ(
      std::system(("/usr/bin/python3 " + dir + "/write.py " + dir).c_str()), 0);
  for (const std::string name : {"stored.npz", "deflated.npz"}) {
    absl::StatusOr<Dataset> d = LoadTensorFile(dir + "/" + name, {});
    ASSERT_TRUE(d.ok()) << name << ": " << d.status();
    EXPECT_EQ(d->rank, 2) << name;
    EXPECT_EQ(d->channels, 3) << name;
    EXPECT_EQ(d->width, 8) << name;
    ASSERT_EQ(d->features.size(), 120u) << name;
    for (int i = 0; i < 120; ++i) {  // the same float32 division: bit-exact
      ASSERT_EQ(d->features[i], static_cast<float>(i) / 7.0f) << name << i;
    }
    EXPECT_EQ(d->labels, (std::vector<uint8_t>{0, 3, 1, 2, 3})) << name;
    EXPECT_EQ(d->num_classes, 4) << name;
  }
  absl::StatusOr<Dataset> images = LoadTensorFile(dir + "/images.npz", {});
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_FALSE(images->float_features);
  EXPECT_EQ(images->rank, 3);
  ASSERT_EQ(images->pixels.size(), 32u);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(images->pixels[i], i) << i;
  EXPECT_EQ(images->labels, (std::vector<uint8_t>{1, 0}));
}

}  // namespace
}  // namespace tandem::data

#include "ml/data/npy_reader.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ml_data/tensor_files.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;
using testing_files::Bytes;
using testing_files::NpyBytes;
using testing_files::RawBytes;

// The error of parsing `bytes` as "f.npy".
std::string NpyErrorOf(const Bytes& bytes) {
  absl::StatusOr<NpyArray> a = ParseNpy("f.npy", bytes);
  if (a.ok()) return "parsed";
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDataLoss) << a.status();
  return std::string(a.status().message());
}

TEST(NpyReaderTest, ParsesFloat32Array) {
  const std::vector<float> values = {1.5f, -2, 3, 4, 5, 6.25f};
  absl::StatusOr<NpyArray> a =
      ParseNpy("f.npy", NpyBytes("<f4", {2, 3}, RawBytes(values)));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->descr, "<f4");
  EXPECT_EQ(a->item_size, 4);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->count, 6);
  EXPECT_EQ(a->data_offset % 64, 0);  // numpy's alignment, as written
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a->at<float>(i), values[i]) << i;
}

TEST(NpyReaderTest, ReadsVersion2AndAnyKeyOrder) {
  absl::StatusOr<NpyArray> v2 = ParseNpy(
      "f.npy", NpyBytes("|u1", {3}, {7, 8, 9}, false, /*major_version=*/2));
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->shape, std::vector<int64_t>{3});
  EXPECT_EQ(v2->at<uint8_t>(2), 9);

  const std::string header =
      "{'shape': (2,), \"fortran_order\": False, 'descr': '<i2'}\n";
  Bytes b = {
      0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(header.size()),
      0};
  b.insert(b.end(), header.begin(), header.end());
  const Bytes data = RawBytes(std::vector<int16_t>{-3, 300});
  b.insert(b.end(), data.begin(), data.end());
  absl::StatusOr<NpyArray> a = ParseNpy("f.npy", b);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->descr, "<i2");
  EXPECT_EQ(NpyIntegerAt(*a, 0), -3);
  EXPECT_EQ(NpyIntegerAt(*a, 1), 300);
}

TEST(NpyReaderTest, ScalarAndEmptyArrays) {
  absl::StatusOr<NpyArray> scalar =
      ParseNpy("f.npy", NpyBytes("<f4", {}, RawBytes(std::vector<float>{2})));
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->count, 1);
  absl::StatusOr<NpyArray> empty =
      ParseNpy("f.npy", NpyBytes("<f4", {0, 5}, {}));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->count, 0);
}

TEST(NpyReaderTest, IntegerDtypes) {
  struct Case {
    std::string descr;
    Bytes data;
    int64_t want;
  };
  const std::vector<Case> cases = {
      {"|u1", {200}, 200},
      {"|i1", RawBytes(std::vector<int8_t>{-5}), -5},
      {"<u2", RawBytes(std::vector<uint16_t>{65535}), 65535},
      {"<i2", RawBytes(std::vector<int16_t>{-300}), -300},
      {"<u4", RawBytes(std::vector<uint32_t>{4000000000u}), 4000000000},
      {"<i4", RawBytes(std::vector<int32_t>{-70000}), -70000},
      {"<i8", RawBytes(std::vector<int64_t>{-(int64_t{1} << 40)}),
       -(int64_t{1} << 40)},
      {"<u8", RawBytes(std::vector<uint64_t>{~uint64_t{0}}),
       std::numeric_limits<int64_t>::max()},
  };
  for (const Case& c : cases) {
    absl::StatusOr<NpyArray> a =
        ParseNpy("f.npy", NpyBytes(c.descr, {1}, c.data));
    ASSERT_TRUE(a.ok()) << c.descr << ": " << a.status();
    EXPECT_TRUE(NpyIsInteger(a->descr)) << c.descr;
    EXPECT_EQ(NpyIntegerAt(*a, 0), c.want) << c.descr;
  }
  EXPECT_FALSE(NpyIsInteger("<f4"));
  EXPECT_FALSE(NpyIsInteger("|b1"));
}

TEST(NpyReaderTest, NativeAndOneByteOrderMarksAreNormalised) {
  absl::StatusOr<NpyArray> a =
      ParseNpy("f.npy", NpyBytes("=f4", {1}, RawBytes(std::vector<float>{1})));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->descr, "<f4");
  absl::StatusOr<NpyArray> b = ParseNpy("f.npy", NpyBytes("<u1", {1}, {3}));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->descr, "|u1");
}

TEST(NpyReaderTest, RejectsBadMagicAndVersion) {
  EXPECT_EQ(NpyErrorOf({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}),
            "f.npy: not a .npy array (no \\x93NUMPY magic)");
  EXPECT_THAT(NpyErrorOf({0x93, 'N', 'U'}), HasSubstr("f.npy: not a .npy"));
  Bytes b = NpyBytes("<f4", {0}, {});
  b[6] = 4;
  EXPECT_EQ(NpyErrorOf(b), "f.npy: .npy version 4.0 is not 1.0, 2.0 or 3.0");
}

TEST(NpyReaderTest, RejectsTruncatedHeader) {
  const Bytes full = NpyBytes("<f4", {1}, RawBytes(std::vector<float>{1}));
  EXPECT_EQ(NpyErrorOf(Bytes(full.begin(), full.begin() + 9)),
            "f.npy: truncated .npy header");
  EXPECT_EQ(NpyErrorOf(Bytes(full.begin(), full.begin() + 40)),
            "f.npy: truncated .npy header: it claims 118 bytes, 30 follow");
}

TEST(NpyReaderTest, RejectsMalformedHeaders) {
  auto with_header = [](const std::string& header) {
    // Built by appending (an initializer list then insert trips GCC 12's
    // -Warray-bounds at -O3, a false positive).
    Bytes b;
    b.reserve(10 + header.size());
    const uint8_t magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    for (uint8_t c : magic) b.push_back(c);
    b.push_back(static_cast<uint8_t>(header.size()));
    b.push_back(0);
    for (char c : header) b.push_back(static_cast<uint8_t>(c));
    return b;
  };
  EXPECT_THAT(
      NpyErrorOf(with_header("{'descr': '<f4', 'fortran_order': False}")),
      HasSubstr("f.npy: bad .npy header (needs the keys 'descr', "
                "'fortran_order' and 'shape')"));
  EXPECT_THAT(NpyErrorOf(with_header("{'descr': '<f4', 'fortran_order': False, "
                                     "'shape': (2, x)}")),
              HasSubstr("'shape' must be a tuple of non-negative integers"));
  EXPECT_THAT(NpyErrorOf(with_header("{'descr': '<f4', 'fortran_order': False, "
                                     "'shape': (-2,)}")),
              HasSubstr("'shape' must be a tuple of non-negative integers"));
  EXPECT_THAT(NpyErrorOf(with_header("{'descr': '<f4', 'fortran_order': 0, "
                                     "'shape': ()}")),
              HasSubstr("'fortran_order' must be True or False"));
  EXPECT_THAT(NpyErrorOf(with_header("{'descr': '<f4', 'descr': '<f4', "
                                     "'fortran_order': False, 'shape': ()}")),
              HasSubstr("unexpected or repeated key 'descr'"));
  EXPECT_THAT(NpyErrorOf(with_header("{'descr': '<f4', 'fortran_order': False, "
                                     "'shape': (), 'extra': 1}")),
              HasSubstr("unexpected or repeated key 'extra'"));
  EXPECT_THAT(NpyErrorOf(with_header("{'descr': '<f4', 'fortran_order': False, "
                                     "'shape': ()")),
              HasSubstr("expected '}'"));
  EXPECT_THAT(NpyErrorOf(with_header("{'descr: '<f4'}")),
              HasSubstr("bad .npy"));
  EXPECT_THAT(NpyErrorOf(with_header("")), HasSubstr("expected '{'"));
  EXPECT_THAT(NpyErrorOf(with_header("{'descr': [('a', '<f4')], "
                                     "'fortran_order': False, 'shape': ()}")),
              HasSubstr("structured dtypes are not supported"));
}

TEST(NpyReaderTest, RejectsFortranOrder) {
  EXPECT_EQ(NpyErrorOf(NpyBytes("<f4", {2, 2},
                                RawBytes(std::vector<float>{1, 2, 3, 4}),
                                /*fortran_order=*/true)),
            "f.npy: fortran_order True is not supported; save a C-order "
            "array (numpy.ascontiguousarray)");
}

TEST(NpyReaderTest, RejectsUnsupportedDtypes) {
  EXPECT_EQ(NpyErrorOf(NpyBytes(">f4", {1}, {0, 0, 0, 0})),
            "f.npy: dtype >f4 is not supported (big-endian; save with a "
            "little-endian dtype)");
  EXPECT_EQ(NpyErrorOf(NpyBytes("<c8", {1}, Bytes(8))),
            "f.npy: dtype <c8 is not supported (numeric little-endian dtypes "
            "only)");
  EXPECT_THAT(NpyErrorOf(NpyBytes("|O", {1}, Bytes(8))),
              HasSubstr("dtype |O is not supported"));
}

TEST(NpyReaderTest, RejectsDataOfTheWrongSize) {
  const Bytes values = RawBytes(std::vector<float>{1, 2, 3, 4, 5, 6});
  EXPECT_EQ(NpyErrorOf(NpyBytes("<f4", {2, 3},
                                Bytes(values.begin(), values.end() - 1))),
            "f.npy: shape (2, 3) of <f4 needs 24 bytes of data, but 23 bytes "
            "follow the header");
  Bytes longer = values;
  longer.push_back(0);
  EXPECT_EQ(NpyErrorOf(NpyBytes("<f4", {2, 3}, longer)),
            "f.npy: shape (2, 3) of <f4 needs 24 bytes of data, but 25 bytes "
            "follow the header");
}

// A header claiming 1e15 values (4e15 bytes) is refused by comparing with
// the bytes present: were it allocated, the sanitizer build would abort.
TEST(NpyReaderTest, HugeShapeIsRefusedWithoutAllocating) {
  EXPECT_EQ(NpyErrorOf(NpyBytes("<f4", {1000000000, 1000000},
                                RawBytes(std::vector<float>{1, 2}))),
            "f.npy: shape (1000000000, 1000000) of <f4 needs 4e+15 bytes of "
            "data, but 8 bytes follow the header");
  // Dimensions whose product overflows int64 are refused the same way.
  EXPECT_THAT(NpyErrorOf(NpyBytes("<f4", {int64_t{1} << 40, int64_t{1} << 40},
                                  Bytes(8))),
              HasSubstr("but 8 bytes follow the header"));
  EXPECT_THAT(NpyErrorOf(NpyBytes("<f4", {int64_t{1} << 60}, Bytes(8))),
              HasSubstr("a dimension is larger than 2^53"));
}

}  // namespace
}  // namespace tandem::data

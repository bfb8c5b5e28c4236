#include "ml/data/csv_reader.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ml_data/tensor_files.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;

// The error of parsing `text` as "t.csv".
std::string ErrorOf(const std::string& text, const CsvOptions& options = {}) {
  absl::StatusOr<CsvTable> t = ParseCsv("t.csv", text, options);
  if (t.ok()) return "parsed";
  return std::string(t.status().message());
}

TEST(CsvReaderTest, WithHeaderLabelIsTheLastColumn) {
  absl::StatusOr<CsvTable> t =
      ParseCsv("t.csv", "a,b,label\n1,2.5,0\n-3,4e2,2\n", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->rows, 2);
  EXPECT_EQ(t->features, 2);
  EXPECT_EQ(t->feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t->x, (std::vector<float>{1, 2.5f, -3, 400}));
  EXPECT_EQ(t->y, (std::vector<int64_t>{0, 2}));
}

TEST(CsvReaderTest, WithoutHeader) {
  absl::StatusOr<CsvTable> t = ParseCsv("t.csv", "1,2,1\n3,4,0", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->rows, 2);
  EXPECT_TRUE(t->feature_names.empty());
  EXPECT_EQ(t->x, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(t->y, (std::vector<int64_t>{1, 0}));
}

// kNo reads a first line of numbers as data; kYes skips it even if numeric.
TEST(CsvReaderTest, HeaderOptionOverridesDetection) {
  CsvOptions yes;
  yes.header = CsvOptions::Header::kYes;
  absl::StatusOr<CsvTable> t = ParseCsv("t.csv", "10,20,30\n1,2,1\n", yes);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->rows, 1);
  EXPECT_EQ(t->feature_names, (std::vector<std::string>{"10", "20"}));
  CsvOptions no;
  no.header = CsvOptions::Header::kNo;
  EXPECT_EQ(ErrorOf("a,b,c\n1,2,1\n", no),
            "t.csv: line 1: column 1: \"a\" is not a number");
}

TEST(CsvReaderTest, LabelColumnByNameOrIndex) {
  CsvOptions by_name;
  by_name.label_name = "activity";
  absl::StatusOr<CsvTable> t =
      ParseCsv("t.csv", "activity,ax,ay\n3,0.5,-1\n1,1.5,2\n", by_name);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->feature_names, (std::vector<std::string>{"ax", "ay"}));
  EXPECT_EQ(t->x, (std::vector<float>{0.5f, -1, 1.5f, 2}));
  EXPECT_EQ(t->y, (std::vector<int64_t>{3, 1}));

  CsvOptions by_index;
  by_index.label_index = 1;
  t = ParseCsv("t.csv", "0.5,4,7\n1,5,8\n", by_index);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->x, (std::vector<float>{0.5f, 7, 1, 8}));
  EXPECT_EQ(t->y, (std::vector<int64_t>{4, 5}));
}

TEST(CsvReaderTest, QuotesSpacesCrLfBlankLinesAndDelimiter) {
  CsvOptions semicolon;
  semicolon.delimiter = ';';
  absl::StatusOr<CsvTable> t =
      ParseCsv("t.csv", "\"x\" ; \"y\"\r\n\r\n 1.25 ;\"2\"\r\n\n  \n-1; 0\r\n",
               semicolon);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->feature_names, std::vector<std::string>{"x"});
  EXPECT_EQ(t->x, (std::vector<float>{1.25f, -1}));
  EXPECT_EQ(t->y, (std::vector<int64_t>{2, 0}));
}

TEST(CsvReaderTest, IntegralFloatLabelsAreAccepted) {
  absl::StatusOr<CsvTable> t = ParseCsv("t.csv", "1,3.0\n2,-1\n", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->y, (std::vector<int64_t>{3, -1}));  // range: tensor_dataset
}

TEST(CsvReaderTest, HeaderOnlyGivesNoRows) {
  absl::StatusOr<CsvTable> t = ParseCsv("t.csv", "a,b,y\n", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->rows, 0);
  EXPECT_EQ(t->features, 2);
}

TEST(CsvReaderTest, RowWithWrongColumnCountNamesTheLine) {
  EXPECT_EQ(ErrorOf("a,b,y\n1,2,0\n\n3,4\n"),
            "t.csv: line 4: has 2 columns, expected 3 (as line 1)");
  EXPECT_EQ(ErrorOf("1,2,0\n1,2,3,4\n"),
            "t.csv: line 2: has 4 columns, expected 3 (as line 1)");
}

TEST(CsvReaderTest, NonNumericCellNamesLineAndColumn) {
  EXPECT_EQ(ErrorOf("a,b,y\n1,2,0\n1,two,1\n"),
            "t.csv: line 3: column 2: \"two\" is not a number");
  EXPECT_EQ(ErrorOf("a,b,y\n1,,0\n"),
            "t.csv: line 2: column 2: \"\" is not a number");
}

TEST(CsvReaderTest, NonFiniteValuesAreRejected) {
  EXPECT_EQ(ErrorOf("1,nan,0\n"),
            "t.csv: line 1: column 2: \"nan\" is not a finite float32");
  EXPECT_EQ(ErrorOf("a,b,y\n1,2,0\n-inf,2,0\n"),
            "t.csv: line 3: column 1: \"-inf\" is not a finite float32");
  EXPECT_EQ(ErrorOf("1e39,1,0\n"),  // overflows float32
            "t.csv: line 1: column 1: \"1e39\" is not a finite float32");
}

TEST(CsvReaderTest, LabelMustBeAnInteger) {
  EXPECT_EQ(ErrorOf("1,2,0.5\n"),
            "t.csv: line 1: column 3: label \"0.5\" is not an integer");
  EXPECT_EQ(ErrorOf("x,y\n1,cat\n"),
            "t.csv: line 2: column 2: label \"cat\" is not an integer");
}

TEST(CsvReaderTest, BadLabelColumnOptions) {
  CsvOptions by_name;
  by_name.label_name = "label";
  absl::StatusOr<CsvTable> t = ParseCsv("t.csv", "a,b,y\n1,2,0\n", by_name);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(),
            "t.csv: no column named \"label\" (columns: a, b, y)");
  EXPECT_EQ(ErrorOf("1,2,0\n", by_name),
            "t.csv: label column \"label\" is named but the file has no "
            "header line");
  CsvOptions by_index;
  by_index.label_index = 3;
  EXPECT_EQ(ErrorOf("1,2,0\n", by_index),
            "t.csv: label column 3 does not exist (3 columns, from 0)");
}

TEST(CsvReaderTest, EmptyOrOneColumnFiles) {
  EXPECT_EQ(ErrorOf(""), "t.csv: empty CSV file");
  EXPECT_EQ(ErrorOf("\n \r\n"), "t.csv: empty CSV file");
  EXPECT_EQ(ErrorOf("y\n1\n"),
            "t.csv: line 1: has 1 column; need feature columns and a label");
}

TEST(CsvReaderTest, ReadsFilesAndNamesMissingOnes) {
  const std::string dir = testing_files::MakeTestDir();
  testing_files::WriteText(dir + "/t.csv", "f,y\n2,1\n");
  absl::StatusOr<CsvTable> t = ReadCsvFile(dir + "/t.csv", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->x, std::vector<float>{2});
  t = ReadCsvFile(dir + "/missing.csv", {});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(t.status().message(), dir + "/missing.csv: no such CSV file");
}

}  // namespace
}  // namespace tandem::data

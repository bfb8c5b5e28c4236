// Reader for tabular data in CSV: numeric feature columns and an integer
// label column, one example per line.
//
// The first line is a header when any of its cells is not a number (or when
// CsvOptions::header says so). Cells are separated by `delimiter`, may be
// surrounded by spaces and by double quotes (no quoted delimiters); lines
// end in "\n" or "\r\n"; blank lines are skipped. Every row must have as many
// cells as the first; feature cells must be finite numbers, label cells
// integers. Errors name the file, the line number (from 1) and the column.
//
//   CsvOptions options;
//   options.label_name = "activity";
//   TANDEM_ASSIGN_OR_RETURN(CsvTable t, ReadCsvFile("walk.csv", options));
//
// Functions here hold no state and are thread-safe.
#ifndef TANDEM_ML_DATA_CSV_READER_H_
#define TANDEM_ML_DATA_CSV_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tandem::data {

struct CsvOptions {
  enum class Header {
    kAuto,  // a header if a cell of the first line is not a number
    kYes,
    kNo,
  };
  Header header = Header::kAuto;
  char delimiter = ',';
  // The label column: by header name if set (the file must have a header),
  // else by 0-based index if >= 0, else the last column.
  std::string label_name;
  int label_index = -1;
};

// Examples of a CSV file: `rows` x `features` values, row-major, and one
// label per row.
struct CsvTable {
  int64_t rows = 0;
  int features = 0;
  std::vector<std::string> feature_names;  // from the header; else empty
  std::vector<float> x;
  std::vector<int64_t> y;
};

// Parses CSV `text`; `name` (the file) starts every error message. DataLoss
// for a row with the wrong number of cells, a cell that is not a (finite)
// number, a label that is not an integer, fewer than two columns, or no
// lines at all (a header alone gives 0 rows); InvalidArgument for a label
// column the file does not have.
absl::StatusOr<CsvTable> ParseCsv(const std::string& name,
                                  absl::string_view text,
                                  const CsvOptions& options);

// Reads `path` whole and parses it; NotFound if it does not exist.
absl::StatusOr<CsvTable> ReadCsvFile(const std::string& path,
                                     const CsvOptions& options);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_CSV_READER_H_

#include "ml/data/csv_reader.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace tandem::data {
namespace {

// Labels beyond this are not integers a double holds exactly.
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

absl::Status CorruptLine(const std::string& name, int64_t line,
                         const std::string& what) {
  return absl::DataLossError(absl::StrCat(name, ": line ", line, ": ", what));
}

// The cells of one line: split at `delimiter`, trimmed, unquoted.
std::vector<std::string> Cells(absl::string_view line, char delimiter) {
  std::vector<std::string> cells;
  for (absl::string_view cell : absl::StrSplit(line, delimiter)) {
    cell = absl::StripAsciiWhitespace(cell);
    if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') {
      cell = cell.substr(1, cell.size() - 2);
    }
    cells.emplace_back(cell);
  }
  return cells;
}

bool IsNumber(const std::string& cell) {
  double unused;
  return absl::SimpleAtod(cell, &unused);
}

// The non-blank lines of `text` with their numbers (from 1).
std::vector<std::pair<int64_t, absl::string_view>> Lines(
    absl::string_view text) {
  std::vector<std::pair<int64_t, absl::string_view>> lines;
  int64_t number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    lines.emplace_back(number, line);
  }
  return lines;
}

// The index of the label column among `columns`, or an error.
absl::StatusOr<int> LabelColumn(const std::string& name,
                                const std::vector<std::string>& header,
                                int columns, const CsvOptions& options) {
  if (!options.label_name.empty()) {
    if (header.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": label column \"", options.label_name,
                       "\" is named but the file has no header line"));
    }
    for (int i = 0; i < columns; ++i) {
      if (header[i] == options.label_name) return i;
    }
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": no column named \"", options.label_name,
                     "\" (columns: ", absl::StrJoin(header, ", "), ")"));
  }
  if (options.label_index >= columns) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": label column ", options.label_index,
                     " does not exist (", columns, " columns, from 0)"));
  }
  return options.label_index >= 0 ? options.label_index : columns - 1;
}

absl::StatusOr<int64_t> ParseLabel(const std::string& name, int64_t line,
                                   int column, const std::string& cell) {
  int64_t label;
  if (absl::SimpleAtoi(cell, &label)) return label;
  double v;
  if (absl::SimpleAtod(cell, &v) && std::isfinite(v) && v == std::floor(v) &&
      std::fabs(v) <= kMaxExactInteger) {
    return static_cast<int64_t>(v);  // e.g. "3.0", as pandas writes labels
  }
  return CorruptLine(name, line,
                     absl::StrCat("column ", column + 1, ": label \"", cell,
                                  "\" is not an integer"));
}

}  // namespace

absl::StatusOr<CsvTable> ParseCsv(const std::string& name,
                                  absl::string_view text,
                                  const CsvOptions& options) {
  const std::vector<std::pair<int64_t, absl::string_view>> lines = Lines(text);
  if (lines.empty()) {
    return absl::DataLossError(absl::StrCat(name, ": empty CSV file"));
  }
  const std::vector<std::string> first =
      Cells(lines[0].second, options.delimiter);
  const int columns = static_cast<int>(first.size());
  if (columns < 2) {
    return CorruptLine(
        name, lines[0].first,
        absl::StrCat("has ", columns,
                     " column; need feature columns and a label"));
  }
  bool has_header = options.header == CsvOptions::Header::kYes;
  if (options.header == CsvOptions::Header::kAuto) {
    for (const std::string& cell : first) has_header |= !IsNumber(cell);
  }
  std::vector<std::string> header;
  if (has_header) header = first;
  absl::StatusOr<int> label_or = LabelColumn(name, header, columns, options);
  if (!label_or.ok()) return label_or.status();
  const int label = *label_or;

  CsvTable table;
  table.features = columns - 1;
  for (int i = 0; i < static_cast<int>(header.size()); ++i) {
    if (i != label) table.feature_names.push_back(header[i]);
  }
  for (size_t r = has_header ? 1 : 0; r < lines.size(); ++r) {
    const int64_t line = lines[r].first;
    const std::vector<std::string> cells =
        Cells(lines[r].second, options.delimiter);
    if (static_cast<int>(cells.size()) != columns) {
      return CorruptLine(
          name, line,
          absl::StrCat("has ", cells.size(), " columns, expected ", columns,
                       " (as line ", lines[0].first, ")"));
    }
    for (int c = 0; c < columns; ++c) {
      if (c == label) {
        absl::StatusOr<int64_t> y = ParseLabel(name, line, c, cells[c]);
        if (!y.ok()) return y.status();
        table.y.push_back(*y);
        continue;
      }
      double v;
      if (!absl::SimpleAtod(cells[c], &v)) {
        return CorruptLine(name, line,
                           absl::StrCat("column ", c + 1, ": \"", cells[c],
                                        "\" is not a number"));
      }
      // Checked in double: a value beyond float's range has no float.
      if (!std::isfinite(v) ||
          std::fabs(v) > std::numeric_limits<float>::max()) {
        return CorruptLine(name, line,
                           absl::StrCat("column ", c + 1, ": \"", cells[c],
                                        "\" is not a finite float32"));
      }
      table.x.push_back(static_cast<float>(v));
    }
    ++table.rows;
  }
  return table;
}

absl::StatusOr<CsvTable> ReadCsvFile(const std::string& path,
                                     const CsvOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such CSV file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot open"));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot read"));
  }
  return ParseCsv(path, text.str(), options);
}

}  // namespace tandem::data

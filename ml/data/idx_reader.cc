#include "ml/data/idx_reader.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/gz_input_file.h"
#include "core/status_macros.h"
#include "ml/data/corrupt.h"

namespace tandem::data {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr int64_t kMaxSide = 4096;
constexpr int64_t kMaxPayload = int64_t{1} << 32;

// Header and values of one IDX file of unsigned bytes.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;
};

// Reads exactly `n` bytes, or says what ended early.
absl::Status ReadExactly(GzInputFile& file, void* buffer, int64_t n,
                         int64_t offset, const std::string& what) {
  TANDEM_ASSIGN_OR_RETURN(int64_t got, file.Read(buffer, n));
  if (got == n) return absl::OkStatus();
  return Corrupt(
      file.path(),
      absl::StrCat("expected ", n, " bytes of ", what, " at offset ", offset,
                   ", file ends after ", got,
                   file.stream_truncated() ? " (gzip stream cut short)" : ""));
}

absl::StatusOr<std::vector<int64_t>> ReadHeader(GzInputFile& file,
                                                int expected_dims,
                                                const std::string& kind) {
  uint8_t magic[4];
  TANDEM_RETURN_IF_ERROR(ReadExactly(file, magic, 4, 0, "magic number"));
  const uint32_t expected_magic = 0x0800 | expected_dims;
  if (magic[0] != 0 || magic[1] != 0) {
    return Corrupt(file.path(),
                   absl::StrFormat("bad magic 0x%02x%02x%02x%02x, not an IDX "
                                   "file (expected 0x%08x for %s)",
                                   magic[0], magic[1], magic[2], magic[3],
                                   expected_magic, kind));
  }
  if (magic[2] != kUnsignedByte) {
    return Corrupt(file.path(),
                   absl::StrFormat("data type 0x%02x is not unsigned byte "
                                   "(0x08)",
                                   magic[2]));
  }
  if (magic[3] != expected_dims) {
    return Corrupt(file.path(),
                   absl::StrCat("has ", magic[3], " dimensions, expected ",
                                expected_dims, " for ", kind));
  }
  std::vector<uint8_t> raw(4 * expected_dims);
  TANDEM_RETURN_IF_ERROR(
      ReadExactly(file, raw.data(), raw.size(), 4, "dimensions"));
  std::vector<int64_t> dims(expected_dims);
  for (int i = 0; i < expected_dims; ++i) {
    const uint8_t* b = raw.data() + 4 * i;
    dims[i] = (int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
  }
  return dims;
}

absl::Status CheckDims(const std::string& path,
                       const std::vector<int64_t>& dims) {
  int64_t total = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0) {
      return Corrupt(path, absl::StrCat("dimension ", i, " is zero"));
    }
    if (i > 0 && dims[i] > kMaxSide) {
      return Corrupt(path, absl::StrCat("dimension ", i, " is ", dims[i],
                                        ", more than ", kMaxSide));
    }
    total *= dims[i];  // at most 2^32 * 4096 * 4096: no overflow
  }
  if (total > kMaxPayload) {
    return Corrupt(path, absl::StrCat("header promises ", total,
                                      " bytes, more than 4 GiB"));
  }
  return absl::OkStatus();
}

absl::StatusOr<IdxArray> ReadIdx(const std::string& path, int expected_dims,
                                 const std::string& kind) {
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<GzInputFile> file,
                          GzInputFile::Open(path));
  IdxArray array;
  TANDEM_ASSIGN_OR_RETURN(array.dims, ReadHeader(*file, expected_dims, kind));
  TANDEM_RETURN_IF_ERROR(CheckDims(path, array.dims));
  int64_t total = 1;
  for (int64_t d : array.dims) total *= d;
  array.values.resize(total);
  const int64_t header = 4 + 4 * expected_dims;
  TANDEM_RETURN_IF_ERROR(
      ReadExactly(*file, array.values.data(), total, header, kind));
  uint8_t extra;
  TANDEM_ASSIGN_OR_RETURN(int64_t more, file->Read(&extra, 1));
  if (more != 0) {
    return Corrupt(
        path, absl::StrCat("has bytes after the ", total, " bytes of ", kind,
                           " its header promises"));
  }
  return array;
}

// `<folder>/<base>.gz` if it exists, else `<folder>/<base>`, else NotFound
// naming both.
absl::StatusOr<std::string> FindIdxFile(const std::string& folder,
                                        const std::string& base,
                                        const std::string& hint) {
  const std::string plain = (std::filesystem::path(folder) / base).string();
  const std::string gz = plain + ".gz";
  std::error_code ec;
  if (std::filesystem::is_regular_file(gz, ec)) return gz;
  if (std::filesystem::is_regular_file(plain, ec)) return plain;
  return absl::NotFoundError(
      absl::StrCat("IDX dataset folder ", folder, ": neither ", gz, " nor ",
                   plain, " exists", hint.empty() ? "" : "; ", hint));
}

// The images and labels files of one split of an MNIST-format folder.
struct IdxSplitFiles {
  std::string images, labels;

  absl::Status CheckCounts(int64_t labels_count, int64_t images_count) const {
    if (labels_count == images_count) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat(labels, " holds ", labels_count,
                                            " labels but ", images, " holds ",
                                            images_count, " images"));
  }
};

absl::StatusOr<IdxSplitFiles> FindIdxSplit(const std::string& folder,
                                           const std::string& images_base,
                                           const std::string& labels_base,
                                           const std::string& hint) {
  IdxSplitFiles files;
  TANDEM_ASSIGN_OR_RETURN(files.images, FindIdxFile(folder, images_base, hint));
  TANDEM_ASSIGN_OR_RETURN(files.labels, FindIdxFile(folder, labels_base, hint));
  return files;
}

absl::StatusOr<Dataset> LoadIdxSplit(const std::string& folder,
                                     const std::string& images_base,
                                     const std::string& labels_base,
                                     const IdxFolderOptions& options) {
  TANDEM_ASSIGN_OR_RETURN(
      IdxSplitFiles files,
      FindIdxSplit(folder, images_base, labels_base, options.missing_hint));
  TANDEM_ASSIGN_OR_RETURN(IdxImages images, ReadIdxImages(files.images));
  Dataset d;
  TANDEM_ASSIGN_OR_RETURN(d.labels, ReadIdxLabels(files.labels, 10));
  TANDEM_RETURN_IF_ERROR(files.CheckCounts(d.labels.size(), images.count));
  d.name = options.name;
  d.channels = 1;
  d.height = images.height;
  d.width = images.width;
  d.num_classes = 10;
  d.pixels = std::move(images.pixels);
  return d;
}

}  // namespace

absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(IdxArray array, ReadIdx(path, 3, "images"));
  IdxImages images;
  images.count = array.dims[0];
  images.height = static_cast<int>(array.dims[1]);
  images.width = static_cast<int>(array.dims[2]);
  images.pixels = std::move(array.values);
  return images;
}

absl::StatusOr<std::vector<uint8_t>> ReadIdxLabels(const std::string& path,
                                                   int num_classes) {
  TANDEM_ASSIGN_OR_RETURN(IdxArray array, ReadIdx(path, 1, "labels"));
  for (size_t i = 0; i < array.values.size(); ++i) {
    if (array.values[i] >= num_classes) {
      return Corrupt(path, absl::StrCat("label ", array.values[i], " at index ",
                                        i, " is not below ", num_classes));
    }
  }
  return std::move(array.values);
}

namespace {

// Keeps the rows `rows` (ascending) of the image file behind `file` (header
// read: `dims`) in `d`, and sums every row's pixels into `sum`, `sum_sq`.
absl::Status StreamRows(GzInputFile& file, const std::vector<int64_t>& dims,
                        const std::vector<int64_t>& rows, Dataset* d,
                        uint64_t* sum, uint64_t* sum_sq) {
  const int64_t row_bytes = dims[1] * dims[2];
  d->pixels.resize(rows.size() * row_bytes);
  std::vector<uint8_t> row(row_bytes);
  size_t next = 0;
  for (int64_t r = 0; r < dims[0]; ++r) {
    TANDEM_RETURN_IF_ERROR(
        ReadExactly(file, row.data(), row_bytes, 16 + r * row_bytes, "images"));
    for (uint8_t p : row) {
      *sum += p;
      *sum_sq += uint64_t{p} * p;
    }
    if (next < rows.size() && rows[next] == r) {
      std::copy(row.begin(), row.end(), d->pixels.begin() + next * row_bytes);
      ++next;
    }
  }
  uint8_t extra;
  TANDEM_ASSIGN_OR_RETURN(int64_t more, file.Read(&extra, 1));
  if (more != 0) {
    return Corrupt(file.path(),
                   "has bytes after the images its header "
                   "promises");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Dataset> LoadIdxTrainRows(const std::string& folder,
                                         const IdxFolderOptions& options,
                                         int64_t limit, const RowPicker& pick) {
  TANDEM_ASSIGN_OR_RETURN(IdxSplitFiles files,
                          FindIdxSplit(folder, kIdxTrainImages, kIdxTrainLabels,
                                       options.missing_hint));
  TANDEM_ASSIGN_OR_RETURN(std::vector<uint8_t> labels,
                          ReadIdxLabels(files.labels, 10));
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<GzInputFile> file,
                          GzInputFile::Open(files.images));
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> dims,
                          ReadHeader(*file, 3, "images"));
  TANDEM_RETURN_IF_ERROR(CheckDims(files.images, dims));
  TANDEM_RETURN_IF_ERROR(files.CheckCounts(labels.size(), dims[0]));
  const int64_t n = limit > 0 ? std::min(limit, dims[0]) : dims[0];
  labels.resize(n);
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> rows, pick(labels, 10));
  TANDEM_RETURN_IF_ERROR(CheckPickedRows(rows, n));
  Dataset d;
  d.name = options.name;
  d.height = static_cast<int>(dims[1]);
  d.width = static_cast<int>(dims[2]);
  uint64_t sum = 0, sum_sq = 0;
  TANDEM_RETURN_IF_ERROR(StreamRows(*file, dims, rows, &d, &sum, &sum_sq));
  for (int64_t r : rows) d.labels.push_back(labels[r]);
  if (!options.mean.empty()) {
    d.mean = options.mean;
    d.std = options.std;
  } else {
    const PixelStats s = PixelStatsOf(sum, sum_sq, dims[0] * dims[1] * dims[2]);
    d.mean = {s.mean};
    d.std = {s.std};
  }
  TANDEM_RETURN_IF_ERROR(ValidateDataset(d));
  return d;
}

absl::StatusOr<TrainTest> LoadIdxFolder(const std::string& folder,
                                        const IdxFolderOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    return absl::NotFoundError(absl::StrCat(
        "IDX dataset folder ", folder, " does not exist",
        options.missing_hint.empty() ? "" : "; ", options.missing_hint));
  }
  TrainTest tt;
  TANDEM_ASSIGN_OR_RETURN(tt.train, LoadIdxSplit(folder, kIdxTrainImages,
                                                 kIdxTrainLabels, options));
  TANDEM_ASSIGN_OR_RETURN(
      tt.test, LoadIdxSplit(folder, kIdxTestImages, kIdxTestLabels, options));
  if (tt.train.height != tt.test.height || tt.train.width != tt.test.width) {
    return absl::DataLossError(absl::StrCat(
        folder, ": train images are ", tt.train.height, "x", tt.train.width,
        " but test images are ", tt.test.height, "x", tt.test.width));
  }
  if (options.mean.empty()) {
    SetChannelStatsFromPixels(&tt.train);
  } else {
    tt.train.mean = options.mean;
    tt.train.std = options.std;
  }
  tt.test.mean = tt.train.mean;
  tt.test.std = tt.train.std;
  TANDEM_RETURN_IF_ERROR(ValidateDataset(tt.train));
  TANDEM_RETURN_IF_ERROR(ValidateDataset(tt.test));
  return tt;
}

}  // namespace tandem::data

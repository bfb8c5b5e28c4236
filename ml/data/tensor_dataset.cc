#include "ml/data/tensor_dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "ml/data/npz_reader.h"

namespace tandem::data {
namespace {

// Dataset labels are uint8.
constexpr int64_t kLabelLimit = 256;
// Values of one example. Bounds C * H * W even when x has no examples (and
// so no bytes to bound it by).
constexpr int64_t kMaxExampleValues = int64_t{1} << 31;

absl::Status Corrupt(const std::string& file, const std::string& what) {
  return absl::DataLossError(absl::StrCat(file, ": ", what));
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("(", absl::StrJoin(shape, ", "),
                      shape.size() == 1 ? ",)" : ")");
}

std::string Describe(const Dataset& d) {
  return absl::StrCat(d.float_features ? "float32 " : "uint8 ", d.channels, "x",
                      d.height, "x", d.width, " (rank ", d.rank, ")");
}

// Appends labels get(0 .. n) to d->labels; each must be in [0, 256).
template <typename Get>
absl::Status AppendLabels(const std::string& file, int64_t n, Get get,
                          Dataset* d) {
  d->labels.reserve(d->labels.size() + n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = get(i);
    if (v < 0) {
      return Corrupt(
          file, absl::StrCat("label ", v, " of example ", i, " is negative"));
    }
    if (v >= kLabelLimit) {
      return Corrupt(
          file, absl::StrCat("label ", v, " of example ", i, " is not below ",
                             kLabelLimit, " (labels are stored as uint8)"));
    }
    d->labels.push_back(static_cast<uint8_t>(v));
  }
  return absl::OkStatus();
}

// The first non-finite value of `v`, as an error naming its example.
absl::Status CheckFinite(const std::string& file, const std::vector<float>& v,
                         int64_t example_size) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return Corrupt(file,
                     absl::StrCat("x value ", i, " (example ", i / example_size,
                                  ") is ", v[i], "; values must be finite"));
    }
  }
  return absl::OkStatus();
}

// Examples and labels of x and y; num_classes and mean/std not yet set.
absl::StatusOr<Dataset> ExamplesFromArrays(const std::string& file,
                                           const NpyArray& x,
                                           const NpyArray& y) {
  if (x.descr != "<f4" && x.descr != "|u1") {
    return Corrupt(file,
                   absl::StrCat("x must be float32 or uint8, got ", x.descr));
  }
  if (x.shape.size() < 2 || x.shape.size() > 4) {
    return Corrupt(file,
                   absl::StrCat("x must be N x C x H x W, N x C x T or N x F, "
                                "got shape ",
                                ShapeString(x.shape)));
  }
  int64_t example_size = 1;
  for (size_t i = 1; i < x.shape.size(); ++i) {
    if (x.shape[i] < 1 || x.shape[i] > kMaxExampleValues / example_size) {
      return Corrupt(file, absl::StrCat("x shape ", ShapeString(x.shape),
                                        ": an example must have 1 to ",
                                        kMaxExampleValues, " values"));
    }
    example_size *= x.shape[i];
  }
  if (!NpyIsInteger(y.descr)) {
    return Corrupt(file, absl::StrCat("y must hold integer labels (|u1, <i2, "
                                      "<i4, <i8, ...), got ",
                                      y.descr));
  }
  if (y.shape.size() != 1) {
    return Corrupt(file, absl::StrCat("y must be 1-D (one label per "
                                      "example), got shape ",
                                      ShapeString(y.shape)));
  }
  const int64_t n = x.shape[0];
  if (y.shape[0] != n) {
    return Corrupt(file, absl::StrCat("x holds ", n, " examples but y holds ",
                                      y.shape[0], " labels"));
  }
  Dataset d;
  d.rank = static_cast<int>(x.shape.size()) - 1;
  d.channels = static_cast<int>(x.shape[1]);
  d.height = d.rank == 3 ? static_cast<int>(x.shape[2]) : 1;
  d.width = d.rank == 3   ? static_cast<int>(x.shape[3])
            : d.rank == 2 ? static_cast<int>(x.shape[2])
                          : 1;
  if (x.descr == "<f4") {
    d.float_features = true;
    d.features.resize(x.count);
    if (x.count > 0)
      std::memcpy(d.features.data(), x.data(), x.count * sizeof(float));
    TANDEM_RETURN_IF_ERROR(CheckFinite(file, d.features, example_size));
  } else {
    d.pixels.assign(x.data(), x.data() + x.count);
  }
  TANDEM_RETURN_IF_ERROR(AppendLabels(
      file, n, [&y](int64_t i) { return NpyIntegerAt(y, i); }, &d));
  return d;
}

absl::StatusOr<Dataset> ExamplesFromCsv(const std::string& file,
                                        CsvTable table) {
  Dataset d;
  d.rank = 1;
  d.channels = table.features;
  d.height = d.width = 1;
  d.float_features = true;
  d.features = std::move(table.x);
  TANDEM_RETURN_IF_ERROR(AppendLabels(
      file, table.rows, [&table](int64_t i) { return table.y[i]; }, &d));
  return d;
}

std::string Extension(const std::string& path) {
  return absl::AsciiStrToLower(
      std::filesystem::path(path).extension().string());
}

// The examples of one file, by extension; num_classes and mean/std not set.
absl::StatusOr<Dataset> ReadExamples(const std::string& path,
                                     const CsvOptions& csv) {
  const std::string ext = Extension(path);
  if (ext == ".npz") {
    TANDEM_ASSIGN_OR_RETURN(
        std::vector<NpyArray> xy,
        ReadNpzEntries(path, {kNpzExamplesEntry, kNpzLabelsEntry}));
    return ExamplesFromArrays(path, xy[0], xy[1]);
  }
  if (ext == ".csv") {
    TANDEM_ASSIGN_OR_RETURN(CsvTable table, ReadCsvFile(path, csv));
    return ExamplesFromCsv(path, std::move(table));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": a tensor data file must be .npz or .csv"));
}

// Sets d->num_classes to `given` (0: 1 + the largest label) and checks that
// every label is below it; `why` says where a given number comes from.
absl::Status SetNumClasses(const std::string& file, int given,
                           const std::string& why, Dataset* d) {
  if (given == 0) {
    if (d->labels.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file,
                       ": no examples to count the classes of; give "
                       "num_classes"));
    }
    d->num_classes = 1 + *std::max_element(d->labels.begin(), d->labels.end());
    return absl::OkStatus();
  }
  if (given < 1 || given > kLabelLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": num_classes ", given, " is not in [1, ", kLabelLimit, "]"));
  }
  for (size_t i = 0; i < d->labels.size(); ++i) {
    if (d->labels[i] >= given) {
      return Corrupt(file,
                     absl::StrCat("label ", d->labels[i], " of example ", i,
                                  " is not below num_classes ", given, why));
    }
  }
  d->num_classes = given;
  return absl::OkStatus();
}

// Sets d's mean/std: `mean` and `std` if given (one per channel), else
// computed on d's examples.
absl::Status SetStats(const std::string& file, const std::vector<float>& mean,
                      const std::vector<float>& std, Dataset* d) {
  if (mean.empty() && std.empty()) {
    if (d->float_features) {
      SetChannelStatsFromFeatures(d);
    } else {
      SetChannelStatsFromPixels(d);
    }
    return absl::OkStatus();
  }
  if (mean.size() != static_cast<size_t>(d->channels) ||
      std.size() != static_cast<size_t>(d->channels)) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": ", mean.size(), " mean and ", std.size(),
        " std values given, expected one per channel: ", d->channels));
  }
  for (int c = 0; c < d->channels; ++c) {
    if (!std::isfinite(mean[c]) || !std::isfinite(std[c]) || !(std[c] > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ": channel ", c, " has mean ", mean[c], " and std ", std[c],
          "; need finite values and std > 0"));
    }
  }
  d->mean = mean;
  d->std = std;
  return absl::OkStatus();
}

// Gives a training set its name, classes and statistics, and validates it.
absl::Status FinishTrain(const std::string& file,
                         const TensorDatasetOptions& options, Dataset* d) {
  d->name = options.name;
  TANDEM_RETURN_IF_ERROR(
      SetNumClasses(file, options.num_classes, " (given)", d));
  TANDEM_RETURN_IF_ERROR(SetStats(file, options.mean, options.std, d));
  return ValidateDataset(*d);
}

absl::Status CheckSameShape(const std::string& file, const Dataset& d,
                            const std::string& ref_file, const Dataset& ref) {
  if (d.rank == ref.rank && d.channels == ref.channels &&
      d.height == ref.height && d.width == ref.width &&
      d.float_features == ref.float_features) {
    return absl::OkStatus();
  }
  return Corrupt(file, absl::StrCat("examples are ", Describe(d), " but ",
                                    ref_file, " has ", Describe(ref)));
}

void Append(const Dataset& from, Dataset* to) {
  to->pixels.insert(to->pixels.end(), from.pixels.begin(), from.pixels.end());
  to->features.insert(to->features.end(), from.features.begin(),
                      from.features.end());
  to->labels.insert(to->labels.end(), from.labels.begin(), from.labels.end());
}

absl::Status CheckDeviceId(const std::string& device_id) {
  if (device_id.empty() || device_id[0] == '.' ||
      device_id.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device id \"", device_id,
        "\" cannot name a data file (empty, starts with '.' or holds '/')"));
  }
  return absl::OkStatus();
}

// `<folder>/<device_id>.npz`, else `.csv`, else NotFound naming both.
absl::StatusOr<std::string> DeviceFile(const std::string& folder,
                                       const std::string& device_id) {
  TANDEM_RETURN_IF_ERROR(CheckDeviceId(device_id));
  const std::filesystem::path base = std::filesystem::path(folder) / device_id;
  const std::string npz = base.string() + ".npz";
  const std::string csv = base.string() + ".csv";
  std::error_code ec;
  if (std::filesystem::is_regular_file(npz, ec)) return npz;
  if (std::filesystem::is_regular_file(csv, ec)) return csv;
  return absl::NotFoundError(absl::StrCat("tensor data folder ", folder,
                                          ": neither ", npz, " nor ", csv,
                                          " exists"));
}

// The union of a folder's per-device files; num_classes and mean/std not
// set.
absl::StatusOr<Dataset> ReadFolderExamples(const std::string& folder,
                                           const CsvOptions& csv) {
  TANDEM_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                          TensorFolderDeviceIds(folder));
  Dataset all;
  std::string first;
  for (const std::string& id : ids) {
    TANDEM_ASSIGN_OR_RETURN(std::string path, DeviceFile(folder, id));
    TANDEM_ASSIGN_OR_RETURN(Dataset d, ReadExamples(path, csv));
    if (first.empty()) {
      first = path;
      all = std::move(d);
      continue;
    }
    TANDEM_RETURN_IF_ERROR(CheckSameShape(path, d, first, all));
    Append(d, &all);
  }
  return all;
}

}  // namespace

absl::StatusOr<Dataset> DatasetFromArrays(const std::string& file,
                                          const NpyArray& x, const NpyArray& y,
                                          const TensorDatasetOptions& options) {
  TANDEM_ASSIGN_OR_RETURN(Dataset d, ExamplesFromArrays(file, x, y));
  TANDEM_RETURN_IF_ERROR(FinishTrain(file, options, &d));
  return d;
}

absl::StatusOr<Dataset> LoadTensorFile(const std::string& path,
                                       const TensorDatasetOptions& options) {
  TANDEM_ASSIGN_OR_RETURN(Dataset d, ReadExamples(path, options.csv));
  TANDEM_RETURN_IF_ERROR(FinishTrain(path, options, &d));
  return d;
}

absl::StatusOr<TrainTest> LoadTensorDataset(
    const std::string& train_path, const std::string& test_path,
    const TensorDatasetOptions& options) {
  TrainTest tt;
  std::error_code ec;
  if (std::filesystem::is_directory(train_path, ec)) {
    TANDEM_ASSIGN_OR_RETURN(tt.train,
                            ReadFolderExamples(train_path, options.csv));
  } else {
    TANDEM_ASSIGN_OR_RETURN(tt.train, ReadExamples(train_path, options.csv));
  }
  TANDEM_RETURN_IF_ERROR(FinishTrain(train_path, options, &tt.train));
  if (test_path.empty()) {
    tt.test = tt.train.Head(0);
    return tt;
  }
  TANDEM_ASSIGN_OR_RETURN(tt.test, ReadExamples(test_path, options.csv));
  TANDEM_RETURN_IF_ERROR(
      CheckSameShape(test_path, tt.test, train_path, tt.train));
  tt.test.name = tt.train.name;
  TANDEM_RETURN_IF_ERROR(SetNumClasses(
      test_path, tt.train.num_classes,
      options.num_classes > 0 ? " (given)"
                              : " (1 + the largest training label)",
      &tt.test));
  tt.test.mean = tt.train.mean;
  tt.test.std = tt.train.std;
  TANDEM_RETURN_IF_ERROR(ValidateDataset(tt.test));
  return tt;
}

absl::StatusOr<std::vector<std::string>> TensorFolderDeviceIds(
    const std::string& folder) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    return absl::NotFoundError(
        absl::StrCat("tensor data folder ", folder, " does not exist"));
  }
  std::vector<std::string> ids;
  for (std::filesystem::directory_iterator it(folder, ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::filesystem::path& p = it->path();
    const std::string ext = p.extension().string();
    const std::string id = p.stem().string();
    if ((ext == ".npz" || ext == ".csv") && it->is_regular_file(ec) &&
        CheckDeviceId(id).ok()) {
      ids.push_back(id);
    }
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("tensor data folder ", folder, ": ", ec.message()));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.empty()) {
    return absl::NotFoundError(absl::StrCat("tensor data folder ", folder,
                                            " holds no .npz or .csv files"));
  }
  return ids;
}

absl::StatusOr<Dataset> LoadDeviceTensorFile(
    const std::string& folder, const std::string& device_id,
    const TensorDatasetOptions& options) {
  TANDEM_ASSIGN_OR_RETURN(std::string path, DeviceFile(folder, device_id));
  return LoadTensorFile(path, options);
}

}  // namespace tandem::data

// LoadDataset: dispatches a DataSource to its reader (declared in
// ml/data/dataset.h).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "ml/data/cifar10_reader.h"
#include "ml/data/dataset.h"
#include "ml/data/idx_reader.h"
#include "ml/data/synthetic.h"
#include "ml/data/tensor_dataset.h"

namespace tandem::data {
namespace {

// Published per-channel statistics of the train sets.
constexpr float kFashionMnistMean = 0.2860f, kFashionMnistStd = 0.3530f;
constexpr float kMnistMean = 0.1307f, kMnistStd = 0.3081f;

absl::StatusOr<std::string> RequirePath(const DataSource& source) {
  if (source.path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data source kind \"", source.kind, "\" needs a path (a folder)"));
  }
  return source.path;
}

IdxFolderOptions FashionMnistOptions() {
  IdxFolderOptions options;
  options.name = "fashion-mnist";
  options.mean = {kFashionMnistMean};
  options.std = {kFashionMnistStd};
  options.missing_hint =
      "install Debian's dataset-fashion-mnist package (apt-get install "
      "dataset-fashion-mnist) or set the data path to a folder holding the "
      "Fashion-MNIST IDX files";
  return options;
}

std::string FashionMnistPath(const DataSource& source) {
  return source.path.empty() ? kDefaultFashionMnistPath : source.path;
}

IdxFolderOptions IdxOptions(const DataSource& source) {
  IdxFolderOptions options;
  options.name = source.kind;
  if (source.kind == "mnist") {
    options.mean = {kMnistMean};
    options.std = {kMnistStd};
  }
  return options;
}

absl::StatusOr<TrainTest> LoadFashionMnist(const DataSource& source) {
  return LoadIdxFolder(FashionMnistPath(source), FashionMnistOptions());
}

absl::StatusOr<TrainTest> LoadIdx(const DataSource& source) {
  TANDEM_ASSIGN_OR_RETURN(std::string path, RequirePath(source));
  return LoadIdxFolder(path, IdxOptions(source));
}

absl::StatusOr<TrainTest> LoadSynthetic(const DataSource& source) {
  SyntheticOptions options;
  options.train_size = source.synthetic_train;
  options.test_size = source.synthetic_test;
  options.channels = source.channels;
  options.height = source.height;
  options.width = source.width;
  options.num_classes = source.num_classes;
  options.seed = source.seed;
  return MakeSyntheticDataset(options);
}

TensorDatasetOptions TensorOptions(const DataSource& source) {
  TensorDatasetOptions options;
  options.name = source.kind;
  options.mean = source.mean;
  options.std = source.std;
  return options;
}

absl::StatusOr<std::string> RequireTensorPath(const DataSource& source) {
  if (source.path.empty()) {
    return absl::InvalidArgumentError(
        "data source kind \"tensor\" needs a path (a .npz or .csv training "
        "file, or a folder of per-device files)");
  }
  return source.path;
}

absl::StatusOr<TrainTest> LoadTensor(const DataSource& source) {
  TANDEM_ASSIGN_OR_RETURN(std::string path, RequireTensorPath(source));
  return LoadTensorDataset(path, source.test_path, TensorOptions(source));
}

}  // namespace

std::vector<std::string> DatasetKinds() {
  return {"fashion-mnist", "mnist", "idx", "cifar10", "synthetic", "tensor"};
}

absl::StatusOr<TrainTest> LoadDataset(const DataSource& source) {
  if (source.kind == "fashion-mnist") return LoadFashionMnist(source);
  if (source.kind == "mnist" || source.kind == "idx") return LoadIdx(source);
  if (source.kind == "synthetic") return LoadSynthetic(source);
  if (source.kind == "tensor") return LoadTensor(source);
  if (source.kind == "cifar10") {
    TANDEM_ASSIGN_OR_RETURN(std::string path, RequirePath(source));
    return LoadCifar10Folder(path);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown data source kind \"", source.kind,
                   "\"; accepted: ", absl::StrJoin(DatasetKinds(), ", ")));
}

absl::StatusOr<Dataset> LoadTrainRows(const DataSource& source, int64_t limit,
                                      const RowPicker& pick) {
  if (source.kind == "fashion-mnist") {
    return LoadIdxTrainRows(FashionMnistPath(source), FashionMnistOptions(),
                            limit, pick);
  }
  if (source.kind == "mnist" || source.kind == "idx") {
    TANDEM_ASSIGN_OR_RETURN(std::string path, RequirePath(source));
    return LoadIdxTrainRows(path, IdxOptions(source), limit, pick);
  }
  TrainTest tt;
  if (source.kind == "tensor") {  // the training set only
    DataSource train_only = source;
    train_only.test_path.clear();
    TANDEM_ASSIGN_OR_RETURN(tt, LoadTensor(train_only));
  } else {
    TANDEM_ASSIGN_OR_RETURN(tt, LoadDataset(source));
  }
  Dataset train = limit > 0 ? tt.train.Head(limit) : std::move(tt.train);
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                          pick(train.labels, train.num_classes));
  TANDEM_RETURN_IF_ERROR(CheckPickedRows(rows, train.size()));
  return train.Subset(rows);
}

absl::Status CheckPickedRows(const std::vector<int64_t>& rows, int64_t size) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= size || (i > 0 && rows[i] <= rows[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("picked rows must ascend within [0, ", size, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tandem::data

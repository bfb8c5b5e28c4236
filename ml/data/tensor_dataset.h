// Datasets of sensor and tabular examples from NumPy (.npz) and CSV files:
// the "tensor" data source (config data.dataset: "tensor").
//
// A .npz holds two arrays (numpy.savez(path, x=x, y=y), or
// savez_compressed): x, the examples, float32 or uint8, shaped
//   N x C x H x W  (rank 3, e.g. images),
//   N x C x T      (rank 2, e.g. C sensor channels over T time steps), or
//   N x F          (rank 1, F features);
// and y, N integer labels in [0, 256) (any integer dtype). float32 x becomes
// float features, normalised (x - mean) / std per channel; uint8 x becomes
// pixels, normalised like images, (p / 255 - mean) / std. A .csv is rank 1:
// feature columns and a label column (ml/data/csv_reader.h).
//
// num_classes is 1 + the largest training label unless given; mean and std
// are computed on the training set unless given. A test set takes both from
// its training set, so that every device and the coordinator agree.
//
//   TensorDatasetOptions options;
//   TANDEM_ASSIGN_OR_RETURN(TrainTest tt,
//       LoadTensorDataset("/data/har/train.npz", "/data/har/test.npz",
//                         options));
//
// Errors name the file and what was expected: DataLoss for what is wrong in
// a file, NotFound for a missing file, InvalidArgument for options that do
// not fit the data. Sizes read from a file are checked against the bytes it
// holds before anything is allocated. Functions here hold no state and are
// thread-safe.
#ifndef TANDEM_ML_DATA_TENSOR_DATASET_H_
#define TANDEM_ML_DATA_TENSOR_DATASET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/data/csv_reader.h"
#include "ml/data/dataset.h"
#include "ml/data/npy_reader.h"

namespace tandem::data {

// The entries of a .npz tensor file.
inline constexpr char kNpzExamplesEntry[] = "x.npy";
inline constexpr char kNpzLabelsEntry[] = "y.npy";

struct TensorDatasetOptions {
  // Dataset::name of the result.
  std::string name = "tensor";
  // Number of classes, in [1, 256]; every label must be below it. 0: 1 + the
  // largest label of the training set.
  int num_classes = 0;
  // Per-channel normalisation, one value per channel (in p / 255 units for
  // uint8 x). Empty: computed on the training set.
  std::vector<float> mean, std;
  // How .csv files are read (header, delimiter, label column).
  CsvOptions csv;
};

// x and y arrays (e.g. the entries of a .npz) as a Dataset, with
// num_classes and mean/std from `options` or computed on these examples.
// `file` names the source in errors.
absl::StatusOr<Dataset> DatasetFromArrays(const std::string& file,
                                          const NpyArray& x, const NpyArray& y,
                                          const TensorDatasetOptions& options);

// One file as a Dataset, by extension: `.npz` (entries x.npy and y.npy) or
// `.csv`. num_classes and mean/std as in DatasetFromArrays.
absl::StatusOr<Dataset> LoadTensorFile(const std::string& path,
                                       const TensorDatasetOptions& options);

// The train set from `train_path` and the test set from `test_path` (empty:
// an empty test set of the same shape). The test set must have the training
// set's rank, shape and dtype, and takes its num_classes and mean/std.
// `train_path` may also be a folder of per-device files (see
// LoadDeviceTensorFile): the training set is then their union, in
// TensorFolderDeviceIds order.
absl::StatusOr<TrainTest> LoadTensorDataset(
    const std::string& train_path, const std::string& test_path,
    const TensorDatasetOptions& options);

// The device ids of a folder of per-device files: the names, without
// extension, of its `.npz` and `.csv` files, sorted, each once. NotFound if
// `folder` is not a folder or holds no such file.
absl::StatusOr<std::vector<std::string>> TensorFolderDeviceIds(
    const std::string& folder);

// One device's own data: `<folder>/<device_id>.npz`, else
// `<folder>/<device_id>.csv` (NotFound naming both when neither exists).
// For every device to agree with the coordinator, pass the num_classes and
// mean/std of LoadTensorDataset(folder, ...)'s training set (or of the
// config); otherwise they are computed on this device's file alone.
// InvalidArgument for a device id that is empty or holds '/' or starts
// with '.'.
absl::StatusOr<Dataset> LoadDeviceTensorFile(
    const std::string& folder, const std::string& device_id,
    const TensorDatasetOptions& options);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_TENSOR_DATASET_H_

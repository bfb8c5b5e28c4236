// In-memory classification datasets (uint8 images, or float sensor and
// tabular examples) and where to load them from.
//
// The data layer is torch-free so that the device's data path compiles fast;
// ml/ turns examples into tensors (ml/internal/batch.h).
//
//   data::DataSource source;  // Fashion-MNIST from its Debian package
//   TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt, data::LoadDataset(source));
//   data::Dataset mine = tt.train.Subset(partition[device]);
//
// Dataset is a value type: copies are deep, concurrent reads are safe,
// concurrent mutation is not.
#ifndef TANDEM_ML_DATA_DATASET_H_
#define TANDEM_ML_DATA_DATASET_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tandem::data {

struct Dataset {
  // Short name, e.g. "fashion-mnist"; carried into subsets.
  std::string name;
  // Number of examples (== labels.size()).
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  // Values of one example: channels * height * width (bytes of pixels).
  int64_t example_size() const {
    return static_cast<int64_t>(channels) * height * width;
  }
  // Bytes of one uint8 example; the same number as example_size().
  int64_t example_bytes() const { return example_size(); }

  // Dimensions of one example as the model sees it: 3 = C x H x W (images);
  // 2 = C x T (channels x time steps), stored as channels = C, height = 1,
  // width = T; 1 = F features, stored as channels = F, height = width = 1,
  // so each feature is a channel and is normalised on its own.
  int rank = 3;
  int channels = 1, height = 28, width = 28;
  int num_classes = 10;
  // Examples are either uint8 `pixels` or, when float_features, raw float
  // `features`; the other vector is empty. Both are size * C * H * W values,
  // NCHW (NCT, NF for ranks 2 and 1).
  bool float_features = false;
  std::vector<uint8_t> pixels;  // raw 0..255
  std::vector<float> features;  // raw values, finite
  std::vector<uint8_t> labels;  // size, each < num_classes
  // Per channel, for normalising: pixels as (p / 255 - mean) / std, features
  // as (x - mean) / std. Subsets keep the parent's statistics so every device
  // normalises the same way.
  std::vector<float> mean, std;

  // Copies examples `indices` in that order (repeats allowed). Every index
  // must be in [0, size()); an index outside is a programming error and
  // aborts with a message rather than reading out of bounds.
  Dataset Subset(const std::vector<int64_t>& indices) const;
  // The first min(n, size()) examples; n <= 0 gives an empty dataset.
  Dataset Head(int64_t n) const;
};

struct TrainTest {
  Dataset train, test;
};

// Checks that rank and shape, example and label counts, label range and the
// mean/std vectors agree, and that float features are finite (naming the
// first that is not). Loaders call it before returning a dataset.
absl::Status ValidateDataset(const Dataset& dataset);

// Sets dataset->mean and dataset->std to the per-channel mean and population
// standard deviation of pixels / 255. A channel with zero variance (or an
// empty dataset) gets std 1 so normalising never divides by zero.
void SetChannelStatsFromPixels(Dataset* dataset);

// Sets dataset->mean and dataset->std to the per-channel mean and population
// standard deviation of float features (each channel over all its values of
// every example). A channel with zero variance (or an empty dataset) gets
// std 1.
void SetChannelStatsFromFeatures(Dataset* dataset);

// Mean and standard deviation of pixel / 255 over `count` pixels, from their
// exact sums (0 and 1 for no pixels; std 1 when they are all equal).
struct PixelStats {
  float mean = 0, std = 1;
};
PixelStats PixelStatsOf(uint64_t sum, uint64_t sum_sq, int64_t count);

// Where a dataset comes from. LoadDataset reads it.
struct DataSource {
  // "fashion-mnist", "mnist", "idx" (any MNIST-format folder), "cifar10",
  // "synthetic", "tensor" (NumPy .npz or CSV files, ml/data/tensor_dataset.h).
  std::string kind = "fashion-mnist";
  // Folder. Empty means the default, which only fashion-mnist has:
  // kDefaultFashionMnistPath (Debian's dataset-fashion-mnist package).
  // mnist/idx: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
  // t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz].
  // cifar10: data_batch_{1..5}.bin and test_batch.bin, in the folder or in
  // its cifar-10-batches-bin/ subfolder.
  // tensor: the training file, `.npz` (entries x.npy, y.npy) or `.csv`,
  // chosen by extension; or a folder of per-device files `<device id>.npz`
  // (or `.csv`), whose union is the training set.
  std::string path;

  // Tensor only. The test file (.npz or .csv); empty: no test set (the test
  // set is empty).
  std::string test_path;
  // Tensor only. Per-channel normalisation (one value per channel, in the
  // units of the data: raw for float features, p / 255 for uint8 pixels).
  // Empty: computed on the training set.
  std::vector<float> mean, std;

  // Synthetic only (see ml/data/synthetic.h).
  int64_t synthetic_train = 1000, synthetic_test = 200;
  int channels = 1, height = 28, width = 28;
  int num_classes = 10;
  uint64_t seed = 1;
};

inline constexpr char kDefaultFashionMnistPath[] =
    "/usr/share/datasets/fashion-mnist";

// Loads the train and test sets that `source` describes. Errors: NotFound
// names the missing folder or file (for fashion-mnist with the Debian package
// to install); DataLoss names the file and what is wrong with it;
// InvalidArgument for a bad kind or synthetic parameters.
// The kinds LoadDataset knows (DataSource::kind, config data.dataset).
std::vector<std::string> DatasetKinds();

absl::StatusOr<TrainTest> LoadDataset(const DataSource& source);

// Rows to keep, ascending, chosen from a training set's labels (and its
// number of classes); e.g. one device's data partition.
using RowPicker = std::function<absl::StatusOr<std::vector<int64_t>>(
    const std::vector<uint8_t>& labels, int num_classes)>;

// The rows `pick` chooses of the first `limit` (0: all) examples of the
// source's training set: LoadDataset's train set, cut to `limit`, Subset to
// the rows. MNIST-format sources are read without holding the other rows
// (or the test set); tensor sources load the training set whole but not the
// test file; the others are loaded whole first.
// OK if `rows` ascend strictly within [0, size), as a RowPicker's must.
absl::Status CheckPickedRows(const std::vector<int64_t>& rows, int64_t size);

absl::StatusOr<Dataset> LoadTrainRows(const DataSource& source, int64_t limit,
                                      const RowPicker& pick);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_DATASET_H_

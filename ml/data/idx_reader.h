// Reader for IDX files (the MNIST / Fashion-MNIST format), gzipped or plain.
//
// An IDX file is a 4-byte magic (0, 0, dtype, number of dimensions), one
// big-endian uint32 per dimension, then the values. Only unsigned bytes
// (dtype 0x08) are accepted: 3 dimensions for images, 1 for labels. A file
// must hold exactly the bytes its header promises; a short, long or corrupt
// file is a DataLoss error that names the file and what is wrong.
//
//   TANDEM_ASSIGN_OR_RETURN(TrainTest tt, LoadIdxFolder("/data/mnist", {}));
//
// Functions here hold no state and are thread-safe.
#ifndef TANDEM_ML_DATA_IDX_READER_H_
#define TANDEM_ML_DATA_IDX_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/data/dataset.h"

namespace tandem::data {

// Images of one IDX file: count x height x width bytes, row-major.
struct IdxImages {
  int64_t count = 0;
  int height = 0, width = 0;
  std::vector<uint8_t> pixels;
};

// Reads an IDX image file (magic 0x00000803). Dimensions must be non-zero,
// height and width at most 4096, the whole payload at most 4 GiB.
absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path);

// Reads an IDX label file (magic 0x00000801); every label must be below
// `num_classes`.
absl::StatusOr<std::vector<uint8_t>> ReadIdxLabels(const std::string& path,
                                                   int num_classes = 10);

// The four files of an MNIST-format folder; each may be `<name>.gz` (tried
// first) or plain `<name>`.
inline constexpr char kIdxTrainImages[] = "train-images-idx3-ubyte";
inline constexpr char kIdxTrainLabels[] = "train-labels-idx1-ubyte";
inline constexpr char kIdxTestImages[] = "t10k-images-idx3-ubyte";
inline constexpr char kIdxTestLabels[] = "t10k-labels-idx1-ubyte";

struct IdxFolderOptions {
  // Dataset::name of the result.
  std::string name = "idx";
  // Per-channel normalisation (one value each: IDX images have one channel).
  // Empty: computed from the train set.
  std::vector<float> mean, std;
  // Appended to NotFound errors, e.g. which package provides the files.
  std::string missing_hint;
};

// The rows `pick` chooses of the first `limit` (0: all) training examples
// of an MNIST-format folder, read without holding the others: the labels
// are read whole, the images streamed once. Equal to LoadIdxFolder's train
// set, cut to `limit`, Subset to the picked rows (normalisation statistics
// too: computed over all rows when `options` has none). The test files are
// not read.
absl::StatusOr<Dataset> LoadIdxTrainRows(const std::string& folder,
                                         const IdxFolderOptions& options,
                                         int64_t limit, const RowPicker& pick);

// Loads train and test sets (10 classes, one channel) from an MNIST-format
// folder. Images and labels counts must match, and train and test images
// must have the same height and width.
absl::StatusOr<TrainTest> LoadIdxFolder(const std::string& folder,
                                        const IdxFolderOptions& options);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_IDX_READER_H_

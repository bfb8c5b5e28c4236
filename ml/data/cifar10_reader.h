// Reader for the CIFAR-10 binary version (cifar-10-binary.tar.gz, unpacked).
//
// Each batch file is a sequence of 3073-byte records: one label byte (< 10)
// then 3072 pixel bytes, 3 x 32 x 32, channel-major (all red, all green, all
// blue), rows top to bottom. A file whose size is not a multiple of 3073 is a
// DataLoss error naming the file and its size.
//
//   TANDEM_ASSIGN_OR_RETURN(TrainTest tt, LoadCifar10Folder("/data/cifar"));
//
// Functions here hold no state and are thread-safe.
#ifndef TANDEM_ML_DATA_CIFAR10_READER_H_
#define TANDEM_ML_DATA_CIFAR10_READER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ml/data/dataset.h"

namespace tandem::data {

inline constexpr int kCifar10RecordBytes = 1 + 3 * 32 * 32;
inline constexpr int kCifar10TrainBatches = 5;  // data_batch_1..5.bin

// Appends the records of one batch file to `dataset` (whose shape must be
// 3 x 32 x 32). On error `dataset` is left as it was.
absl::Status AppendCifar10Batch(const std::string& path, Dataset* dataset);

// Loads data_batch_1.bin .. data_batch_5.bin as the train set and
// test_batch.bin as the test set, from `folder` or, if the files are not
// there, from `folder`/cifar-10-batches-bin (how the archive unpacks).
// Normalisation: the usual CIFAR-10 mean (0.4914, 0.4822, 0.4465) and std
// (0.2470, 0.2435, 0.2616). NotFound names the missing file.
absl::StatusOr<TrainTest> LoadCifar10Folder(const std::string& folder);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_CIFAR10_READER_H_

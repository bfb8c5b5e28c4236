// Which examples a device trains on: its own data folder, or its partition
// of a dataset the coordinator names (v1::DataSpec).
#ifndef TANDEM_CLIENT_DEVICE_DATA_H_
#define TANDEM_CLIENT_DEVICE_DATA_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/data/dataset.h"
#include "proto/tandem.pb.h"

namespace tandem::client {

// The device's data: its own file when `own_folder` names a .npz or .csv
// (ml/data/tensor_dataset.h; with the spec's classes and normalisation when
// the run's data is tensor data), the train split of an MNIST-format folder
// when it names a folder, else partition spec.partition_index() of the spec's
// dataset, the same rows data::PartitionForSpec gives. An MNIST-format
// dataset's partition is read without holding the rest of it
// (data::LoadTrainRows).
absl::StatusOr<std::shared_ptr<const data::Dataset>> LoadDeviceData(
    const v1::DataSpec& spec, const std::string& own_folder);

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_DEVICE_DATA_H_

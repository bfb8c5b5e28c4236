// What a run's config says about data: the source the coordinator and the
// simulator load, and the DataSpec that tells devices which partition of
// it to train on.
#ifndef TANDEM_ML_DATA_RUN_DATA_H_
#define TANDEM_ML_DATA_RUN_DATA_H_

#include <string>
#include <vector>

#include "core/config.h"
#include "ml/data/dataset.h"
#include "ml/data/partition.h"
#include "proto/tandem.pb.h"

namespace tandem::data {

// config.data as a DataSource (limits size the synthetic set).
DataSource SourceForConfig(const Config& config);

// The partitioning devices use: one partition per fleet device, or per
// server.min_devices devices when that is more. partition_index is left 0.
v1::DataSpec SpecForConfig(const Config& config);

// The partitioner's options a DataSpec describes: what every device cuts
// its partition with, and the coordinator sizes partitions with.
PartitionOptions PartitionOptionsFor(const v1::DataSpec& spec);

// The source a DataSpec names (train_limit sizes the synthetic set).
DataSource SourceForSpec(const v1::DataSpec& spec);

// The training set the spec names, cut to spec.train_limit.
absl::StatusOr<Dataset> LoadSpecTrainSet(const v1::DataSpec& spec);

// Every partition of `train` as the spec describes (num_partitions parts):
// the whole fleet's, for the simulator (a device cuts only its own,
// client/device_data.h).
absl::StatusOr<std::vector<Dataset>> PartitionForSpec(const Dataset& train,
                                                      const v1::DataSpec& spec);

// The ids of the config's fleet devices in fleet order: "<class>-NN" for
// NN = 00 .. count - 1 of each class (the simulator's devices).
std::vector<std::string> FleetDeviceIds(const Config& config);

// `device_id`'s index in FleetDeviceIds, or -1 when it is not a fleet id.
int FleetIndexOf(const Config& config, const std::string& device_id);

// A partition of SpecForConfig(config) for `device_id` that does not depend
// on the order devices join in: a fleet device's index in FleetDeviceIds;
// any other id a partition drawn from a hash of the id and config.seed (two
// such devices may share one: data.share_partitions).
int PartitionIndexFor(const Config& config, const std::string& device_id);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_RUN_DATA_H_

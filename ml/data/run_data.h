// What a run's config says about data: the source the coordinator and the
// simulator load, and the DataSpec that tells devices which partition of
// it to train on.
#ifndef TANDEM_ML_DATA_RUN_DATA_H_
#define TANDEM_ML_DATA_RUN_DATA_H_

#include "core/config.h"
#include "ml/data/dataset.h"
#include "proto/tandem.pb.h"

namespace tandem::data {

// config.data as a DataSource (limits size the synthetic set).
DataSource SourceForConfig(const Config& config);

// The partitioning devices use: one partition per fleet device, or per
// server.min_devices devices when that is more. partition_index is left 0.
v1::DataSpec SpecForConfig(const Config& config);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_RUN_DATA_H_

// How many samples a device's update may claim. The count is the update's
// weight in the aggregate, so a device that claims more examples than it
// holds takes the round over. A device trains on (and reports the size of)
// the data partition the coordinator assigned it at join
// (data::SpecForConfig), so that size is its cap; where the partition
// sizes are unknown, the training set's size; and never over 2^31.
//
//   SampleCap cap = SampleCap::ForTrainSet(config, train);
//   if (header.num_samples() > cap.For(device.partition)) refuse;
//
// Immutable once built; thread-safe.
#ifndef TANDEM_SERVER_SAMPLE_CAP_H_
#define TANDEM_SERVER_SAMPLE_CAP_H_

#include <cstdint>
#include <vector>

#include "core/config.h"
#include "ml/data/dataset.h"

namespace tandem::server {

class SampleCap {
 public:
  // The most any update may claim, whatever the data.
  static constexpr int64_t kMaxSamples = int64_t{1} << 31;

  // Sizes unknown: kMaxSamples for every device.
  SampleCap() = default;
  // `partition_sizes[i]`: examples in partition i of the run's DataSpec
  // (may be empty); `train_size`: examples in the training set (0: unknown).
  SampleCap(std::vector<int64_t> partition_sizes, int64_t train_size);

  // The partitions devices cut from `train` (the whole training set; the
  // config's data.train_limit is applied here, as devices do).
  static SampleCap ForTrainSet(const Config& config,
                               const data::Dataset& train);

  // The cap for the device given `partition` at join (DeviceRecord's).
  int64_t For(int partition) const;

 private:
  std::vector<int64_t> partition_sizes_;
  int64_t train_size_ = 0;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_SAMPLE_CAP_H_

#include "server/sample_cap.h"

#include <algorithm>
#include <utility>

#include "ml/data/partition.h"
#include "ml/data/run_data.h"

namespace tandem::server {

SampleCap::SampleCap(std::vector<int64_t> partition_sizes, int64_t train_size)
    : partition_sizes_(std::move(partition_sizes)), train_size_(train_size) {}

SampleCap SampleCap::ForTrainSet(const Config& config,
                                 const data::Dataset& train) {
  const int64_t limit = config.data.train_limit;
  const int64_t n =
      limit > 0 ? std::min<int64_t>(limit, train.size()) : train.size();
  // Tensor data: devices may train on files of their own (a folder of them
  // in simulation, --data FILE deployed), whose sizes only bound it.
  if (config.data.dataset == "tensor") return SampleCap({}, n);
  const std::vector<uint8_t> labels(train.labels.begin(),
                                    train.labels.begin() + n);
  // The same partitioner as the devices' (client/device_data.cc).
  auto parts =
      data::Partition(labels, train.num_classes,
                      data::PartitionOptionsFor(data::SpecForConfig(config)));
  if (!parts.ok()) return SampleCap({}, n);  // devices cannot load it either
  std::vector<int64_t> sizes;
  sizes.reserve(parts->size());
  for (const auto& p : *parts) sizes.push_back(static_cast<int64_t>(p.size()));
  return SampleCap(std::move(sizes), n);
}

int64_t SampleCap::For(int partition) const {
  if (!partition_sizes_.empty() && partition >= 0) {
    return std::min(kMaxSamples,
                    partition_sizes_[partition % partition_sizes_.size()]);
  }
  return train_size_ > 0 ? std::min(kMaxSamples, train_size_) : kMaxSamples;
}

}  // namespace tandem::server

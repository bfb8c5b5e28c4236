#include "ml/data/run_data.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"

namespace tandem::data {
namespace {

// FNV-1a (64 bit) of `bytes`, then SplitMix64's finaliser with `seed` mixed
// in: the same on every platform and library version, unlike std::hash.
uint64_t HashId(const std::string& bytes, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  uint64_t z = h ^ (seed + 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

DataSource SourceForConfig(const Config& c) {
  DataSource s;
  s.kind = c.data.dataset;
  s.path = c.data.path;
  s.test_path = c.data.test_path;
  s.mean.assign(c.data.mean.begin(), c.data.mean.end());
  s.std.assign(c.data.std.begin(), c.data.std.end());
  s.seed = c.seed;
  if (c.data.train_limit > 0) s.synthetic_train = c.data.train_limit;
  if (c.data.test_limit > 0) s.synthetic_test = c.data.test_limit;
  return s;
}

v1::DataSpec SpecForConfig(const Config& c) {
  v1::DataSpec spec;
  spec.set_dataset(c.data.dataset);
  spec.set_path(c.data.path);
  spec.set_partitioner(c.data.partition);
  spec.set_alpha(c.data.alpha);
  spec.set_shards_per_device(c.data.shards_per_device);
  spec.set_seed(c.seed);
  spec.set_num_partitions(std::max(c.TotalDevices(), c.server.min_devices));
  spec.set_train_limit(c.data.train_limit);
  return spec;
}

PartitionOptions PartitionOptionsFor(const v1::DataSpec& spec) {
  PartitionOptions options;
  options.kind = spec.partitioner();
  options.num_partitions = spec.num_partitions();
  options.alpha = spec.alpha();
  options.shards_per_partition = spec.shards_per_device();
  options.seed = spec.seed();
  return options;
}

std::vector<std::string> FleetDeviceIds(const Config& c) {
  std::vector<std::string> ids;
  for (const DeviceClassConfig& cls : c.fleet.classes) {
    for (int k = 0; k < cls.count; ++k) {
      ids.push_back(absl::StrFormat("%s-%02d", cls.name, k));
    }
  }
  return ids;
}

int FleetIndexOf(const Config& c, const std::string& device_id) {
  const std::vector<std::string> fleet = FleetDeviceIds(c);
  auto it = std::find(fleet.begin(), fleet.end(), device_id);
  return it == fleet.end() ? -1 : static_cast<int>(it - fleet.begin());
}

int PartitionIndexFor(const Config& c, const std::string& device_id) {
  const int named = FleetIndexOf(c, device_id);
  if (named >= 0) return named;
  const uint64_t n = static_cast<uint64_t>(SpecForConfig(c).num_partitions());
  return static_cast<int>(HashId(device_id, c.seed) % std::max<uint64_t>(1, n));
}

DataSource SourceForSpec(const v1::DataSpec& spec) {
  DataSource source;
  source.kind = spec.dataset();
  source.path = spec.path();
  source.seed = spec.seed();
  source.mean.assign(spec.mean().begin(), spec.mean().end());
  source.std.assign(spec.std().begin(), spec.std().end());
  if (spec.train_limit() > 0) source.synthetic_train = spec.train_limit();
  return source;
}

absl::StatusOr<Dataset> LoadSpecTrainSet(const v1::DataSpec& spec) {
  TANDEM_ASSIGN_OR_RETURN(TrainTest tt, LoadDataset(SourceForSpec(spec)));
  if (spec.train_limit() > 0) return tt.train.Head(spec.train_limit());
  return std::move(tt.train);
}

absl::StatusOr<std::vector<Dataset>> PartitionForSpec(
    const Dataset& train, const v1::DataSpec& spec) {
  TANDEM_ASSIGN_OR_RETURN(auto parts, Partition(train.labels, train.num_classes,
                                                PartitionOptionsFor(spec)));
  std::vector<Dataset> out;
  out.reserve(parts.size());
  for (const auto& indices : parts) out.push_back(train.Subset(indices));
  return out;
}

}  // namespace tandem::data

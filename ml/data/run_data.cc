#include "ml/data/run_data.h"

#include <algorithm>

namespace tandem::data {

DataSource SourceForConfig(const Config& c) {
  DataSource s;
  s.kind = c.data.dataset;
  s.path = c.data.path;
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

}  // namespace tandem::data

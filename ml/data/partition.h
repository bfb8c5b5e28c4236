// Splitting a dataset's examples among devices: IID, Dirichlet label skew,
// and label-sorted shards (McMahan et al. 2017).
//
//   PartitionOptions options;
//   options.kind = "dirichlet";
//   options.num_partitions = 20;
//   options.alpha = 0.1;
//   TANDEM_ASSIGN_OR_RETURN(auto parts,
//                           Partition(train.labels, train.num_classes,
//                           options));
//   Dataset device_data = train.Subset(parts[device]);
//
// Every example goes to exactly one partition, no partition is empty, and
// each partition's indices are sorted ascending. The split is a pure function
// of (labels, num_classes, options): randomness comes from std::mt19937_64
// seeded with options.seed through ml/data/portable_random.h, not from the
// implementation-defined std distributions. Thread-safe (no shared state).
#ifndef TANDEM_ML_DATA_PARTITION_H_
#define TANDEM_ML_DATA_PARTITION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tandem::data {

struct PartitionOptions {
  // "iid": shuffle, then cut into num_partitions parts whose sizes differ by
  //   at most one.
  // "dirichlet": for each class draw proportions p ~ Dir(alpha, ..., alpha)
  //   over the partitions and deal that class's (shuffled) examples out in
  //   those proportions (Hsu et al. 2019). If a partition ends up empty the
  //   whole draw is repeated, up to kDirichletRedraws times; after that, each
  //   empty partition takes one example from the currently largest one.
  // "shards": shuffle, sort by label (stable), cut into
  //   num_partitions * shards_per_partition shards of near-equal size and
  //   deal shards_per_partition random shards to each partition.
  std::string kind = "iid";
  // In [1, number of examples].
  int num_partitions = 10;
  // Dirichlet concentration, > 0: small (0.1) gives each partition few
  // classes, large (100) approaches IID. Ignored by other kinds.
  double alpha = 0.5;
  // Shards per partition, >= 1; num_partitions * shards_per_partition must
  // not exceed the number of examples. Ignored by other kinds.
  int shards_per_partition = 2;
  uint64_t seed = 1;
};

inline constexpr int kDirichletRedraws = 10;

// The kinds Partition knows (PartitionOptions::kind, config data.partition).
std::vector<std::string> PartitionKinds();

// Returns num_partitions lists of example indices into `labels`. Errors
// (InvalidArgument): unknown kind (names it and the accepted ones),
// num_partitions < 1 or more than labels.size(), alpha <= 0 or not finite
// for dirichlet, shards_per_partition < 1 or too many shards, num_classes
// outside [1, 256], or a label >= num_classes.
absl::StatusOr<std::vector<std::vector<int64_t>>> Partition(
    const std::vector<uint8_t>& labels, int num_classes,
    const PartitionOptions& options);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_PARTITION_H_

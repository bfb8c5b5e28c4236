// A device's partition read alone (LoadDeviceData) is the partition of the
// whole training set (data::LoadSpecTrainSet + PartitionForSpec): same rows,
// same labels, same normalisation.
#include "client/device_data.h"

#include "gtest/gtest.h"
#include "ml/data/run_data.h"

namespace tandem::client {
namespace {

v1::DataSpec Spec(const std::string& dataset, const std::string& partitioner,
                  int64_t train_limit) {
  v1::DataSpec spec;
  spec.set_dataset(dataset);
  spec.set_partitioner(partitioner);
  spec.set_alpha(0.3);
  spec.set_shards_per_device(2);
  spec.set_seed(7);
  spec.set_num_partitions(10);
  spec.set_train_limit(train_limit);
  return spec;
}

void ExpectSamePartitions(v1::DataSpec spec, std::vector<int> indices) {
  auto whole = data::LoadSpecTrainSet(spec);
  ASSERT_TRUE(whole.ok()) << whole.status();
  auto parts = data::PartitionForSpec(*whole, spec);
  ASSERT_TRUE(parts.ok()) << parts.status();
  for (int i : indices) {
    spec.set_partition_index(i);
    auto mine = LoadDeviceData(spec, "");
    ASSERT_TRUE(mine.ok()) << mine.status();
    const data::Dataset& want = (*parts)[i];
    EXPECT_GT(want.size(), 0);
    EXPECT_EQ((*mine)->labels, want.labels) << i;
    EXPECT_TRUE((*mine)->pixels == want.pixels) << i;
    EXPECT_EQ((*mine)->mean, want.mean);
    EXPECT_EQ((*mine)->std, want.std);
    EXPECT_EQ((*mine)->height, want.height);
    EXPECT_EQ((*mine)->name, want.name);
  }
}

TEST(DeviceDataTest, FashionMnistDirichletPartitionReadAlone) {
  ExpectSamePartitions(Spec("fashion-mnist", "dirichlet", 20000), {0, 9});
}

TEST(DeviceDataTest, FashionMnistIidPartitionOfTheWholeSet) {
  ExpectSamePartitions(Spec("fashion-mnist", "iid", 0), {3});
}

TEST(DeviceDataTest, IdxFolderNormalisesOverTheWholeSet) {
  v1::DataSpec spec = Spec("idx", "iid", 0);
  spec.set_path("/usr/share/datasets/fashion-mnist");
  ExpectSamePartitions(spec, {1});
}

TEST(DeviceDataTest, SyntheticPartitionThroughTheWholeSet) {
  ExpectSamePartitions(Spec("synthetic", "shards", 600), {0, 5});
}

TEST(DeviceDataTest, MissingPartitionIsAnError) {
  v1::DataSpec spec = Spec("synthetic", "iid", 100);
  spec.set_partition_index(10);
  EXPECT_FALSE(LoadDeviceData(spec, "").ok());
}

}  // namespace
}  // namespace tandem::client

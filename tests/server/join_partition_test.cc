// The data partition the coordinator gives a joining device is a function
// of its id, not of the order devices join in.
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ml/data/run_data.h"
#include "ml/data/synthetic.h"
#include "server/coordinator.h"

namespace tandem::server {
namespace {

// Three "pi" devices and two "jetson"s.
Config Fleet() {
  Config c;
  c.seed = 5;
  c.model.name = "mlp";
  c.fleet.classes.resize(2);
  c.fleet.classes[0].name = "pi";
  c.fleet.classes[0].count = 3;
  c.fleet.classes[1].name = "jetson";
  c.fleet.classes[1].count = 2;
  c.output.dir = ::testing::TempDir() + "/join_partition_runs";
  return c;
}

// Joins `ids` in order to a new coordinator; returns id -> partition index.
std::map<std::string, int> JoinInOrder(const std::vector<std::string>& ids) {
  data::SyntheticOptions so;
  so.train_size = 10;
  so.test_size = 10;
  CoordinatorOptions o;
  o.config = Fleet();
  o.test_set = std::make_shared<const data::Dataset>(
      data::MakeSyntheticDataset(so).value().test);
  auto coordinator = Coordinator::Create(o).value();
  std::map<std::string, int> partitions;
  for (const std::string& id : ids) {
    v1::JoinRequest req;
    req.set_device_id(id);
    auto reply = coordinator->devices()->Join(req);
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) continue;
    EXPECT_EQ(reply->data().num_partitions(), 5);
    partitions[id] = reply->data().partition_index();
  }
  return partitions;
}

TEST(JoinPartitionTest, FleetDevicesGetTheirIndexInTheFleet) {
  EXPECT_EQ(data::FleetDeviceIds(Fleet()),
            (std::vector<std::string>{"pi-00", "pi-01", "pi-02", "jetson-00",
                                      "jetson-01"}));
  const std::map<std::string, int> want = {{"pi-00", 0},
                                           {"pi-01", 1},
                                           {"pi-02", 2},
                                           {"jetson-00", 3},
                                           {"jetson-01", 4}};
  EXPECT_EQ(JoinInOrder({"jetson-01", "pi-02", "jetson-00", "pi-00", "pi-01"}),
            want);
}

TEST(JoinPartitionTest, OtherDevicesGetTheSamePartitionInAnyJoinOrder) {
  const std::vector<std::string> ids = {"phone-a", "phone-b", "pi-01",
                                        "sensor-7"};
  const std::map<std::string, int> forward = JoinInOrder(ids);
  const std::map<std::string, int> backward =
      JoinInOrder({ids.rbegin(), ids.rend()});
  EXPECT_EQ(forward, backward);
  for (const auto& [id, partition] : forward) {
    EXPECT_GE(partition, 0);
    EXPECT_LT(partition, 5);
    EXPECT_EQ(partition, data::PartitionIndexFor(Fleet(), id)) << id;
  }
  EXPECT_EQ(forward.at("pi-01"), 1);
  // The hash depends on the seed: other seeds move some devices.
  Config other = Fleet();
  int moved = 0;
  for (uint64_t seed = 6; seed < 16; ++seed) {
    other.seed = seed;
    moved += data::PartitionIndexFor(other, "phone-a") != forward.at("phone-a");
  }
  EXPECT_GT(moved, 0);
}

}  // namespace
}  // namespace tandem::server

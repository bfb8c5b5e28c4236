// The data partition the coordinator gives a joining device: a fleet id's
// own index whatever the join order; any other id the next partition no
// device holds, kept across rejoins and checkpoints, and a refusal when none
// is left unless data.share_partitions.
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ml/data/run_data.h"
#include "ml/data/synthetic.h"
#include "server/coordinator.h"
#include "server/run_state.h"

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

std::unique_ptr<Coordinator> CoordinatorFor(const Config& config) {
  data::SyntheticOptions so;
  so.train_size = 10;
  so.test_size = 10;
  CoordinatorOptions o;
  o.config = config;
  o.test_set = std::make_shared<const data::Dataset>(
      data::MakeSyntheticDataset(so).value().test);
  return Coordinator::Create(o).value();
}

absl::StatusOr<v1::JoinReply> JoinAs(Coordinator& coordinator,
                                     const std::string& id,
                                     const std::string& session = "") {
  v1::JoinRequest req;
  req.set_device_id(id);
  req.set_resume_session(session);
  return coordinator.devices()->Join(req);
}

// Joins `ids` in order to a new coordinator of `config`; returns id ->
// partition index.
std::map<std::string, int> JoinInOrder(const std::vector<std::string>& ids,
                                       const Config& config = Fleet()) {
  auto coordinator = CoordinatorFor(config);
  std::map<std::string, int> partitions;
  for (const std::string& id : ids) {
    auto reply = JoinAs(*coordinator, id);
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) continue;
    EXPECT_EQ(reply->data().num_partitions(),
              data::SpecForConfig(config).num_partitions());
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

// A deployment whose devices are not named in the config: four partitions
// (server.min_devices), four devices, four distinct partitions.
TEST(JoinPartitionTest, UnnamedDevicesEachGetAPartitionOfTheirOwn) {
  Config c = Fleet();
  c.fleet.classes.clear();
  c.server.min_devices = 4;
  const std::map<std::string, int> want = {
      {"phone-b", 0}, {"phone-a", 1}, {"sensor-7", 2}, {"pi-01", 3}};
  EXPECT_EQ(JoinInOrder({"phone-b", "phone-a", "sensor-7", "pi-01"}, c), want);
}

TEST(JoinPartitionTest, NamedIdsKeepTheirsAndOthersTakeTheRest) {
  Config c = Fleet();  // five named: partitions 0-4 are theirs
  c.server.min_devices = 7;
  auto coordinator = CoordinatorFor(c);
  auto a = JoinAs(*coordinator, "phone-a");
  auto b = JoinAs(*coordinator, "jetson-01");
  auto d = JoinAs(*coordinator, "phone-d");
  ASSERT_TRUE(a.ok() && b.ok() && d.ok());
  EXPECT_EQ(a->data().partition_index(), 5);
  EXPECT_EQ(b->data().partition_index(), 4);
  EXPECT_EQ(d->data().partition_index(), 6);
  // A device that rejoins keeps its partition.
  auto again = JoinAs(*coordinator, "phone-a", a->session_id());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->data().partition_index(), 5);
  // None left: refused, naming the way out.
  auto refused = JoinAs(*coordinator, "phone-e");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("data.share_partitions"),
            std::string::npos)
      << refused.status();
}

// A device that joined and went silent before it ever trained does not
// keep its partition from a newcomer.
TEST(JoinPartitionTest, ASilentDeviceThatNeverTrainedGivesItsPartitionUp) {
  Config c = Fleet();
  c.fleet.classes.clear();
  c.server.min_devices = 1;
  c.server.device_timeout_s = 0.2;
  auto coordinator = CoordinatorFor(c);
  auto a = JoinAs(*coordinator, "phone-a");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(JoinAs(*coordinator, "phone-b").ok());  // phone-a is live
  absl::SleepFor(absl::Milliseconds(300));
  auto b = JoinAs(*coordinator, "phone-b");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->data().partition_index(), 0);
}

// A checkpoint keeps the partitions given, so a resumed coordinator gives a
// returning device the same one; a record from before partitions were kept
// gets one at its next join.
TEST(JoinPartitionTest, CheckpointsKeepThePartitionsGiven) {
  DeviceRecord d;
  d.id = "phone-a";
  d.partition = 6;
  auto back = DevicesFromJson(DevicesToJson({{"phone-a", d}}));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->at("phone-a").partition, 6);
  nlohmann::json old = DevicesToJson({{"phone-a", d}});
  old["phone-a"].erase("partition");
  back = DevicesFromJson(old);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->at("phone-a").partition, -1);
}

TEST(JoinPartitionTest, SharingGivesEveryOtherIdAHashedPartition) {
  Config c = Fleet();
  c.data.share_partitions = true;
  const std::vector<std::string> ids = {"phone-a",  "phone-b", "pi-01",
                                        "sensor-7", "phone-c", "phone-d"};
  const std::map<std::string, int> forward = JoinInOrder(ids, c);
  EXPECT_EQ(forward, JoinInOrder({ids.rbegin(), ids.rend()}, c));
  ASSERT_EQ(forward.size(), ids.size());
  for (const auto& [id, partition] : forward) {
    EXPECT_EQ(partition, data::PartitionIndexFor(c, id)) << id;
  }
  EXPECT_EQ(forward.at("pi-01"), 1);
}

}  // namespace
}  // namespace tandem::server

// The PPO offload policy trained on the fleet's cost model: on a fleet where
// offloading clearly pays (very slow devices on fast links) it learns to
// cut the slowest round time; the saved policy loads into the coordinator's
// policy factory and acts.
#include <filesystem>

#include "gtest/gtest.h"
#include "offload/split_policy.h"
#include "sim/policy_trainer.h"

namespace tandem::sim {
namespace {

Config SlowDevicesFastLinks() {
  Config c;
  c.server.rounds = 5;
  c.model.name = "cnn";
  c.data.train_limit = 3000;
  c.training.batch_size = 50;
  c.offload.groups = 2;
  c.offload.server_cores = 2;
  c.fleet.classes.resize(2);
  c.fleet.classes[0].name = "slow";
  c.fleet.classes[0].count = 2;
  c.fleet.classes[0].device.slowdown = 50;
  c.fleet.classes[0].device.bandwidth_mbps = 1000;
  c.fleet.classes[1].name = "fast";
  c.fleet.classes[1].count = 1;
  c.fleet.classes[1].device.slowdown = 1;
  c.fleet.classes[1].device.bandwidth_mbps = 1000;
  return c;
}

TEST(PolicyTrainingTest, PpoLearnsToOffloadSlowDevices) {
  const std::string path = ::testing::TempDir() + "/trained.policy";
  auto r = TrainOffloadPolicy(SlowDevicesFastLinks(), 150, path);
  ASSERT_TRUE(r.ok()) << r.status();
  const double baseline = (*r)["baseline_slowest_s"];
  const double last = (*r)["last_episode_slowest_s"];
  std::printf("slowest round: no offload %.2f s, trained ppo %.2f s\n",
              baseline, last);
  // The cost model's best for this fleet is split point 1 for the slow
  // devices: about 0.6 x the no-offload time.
  EXPECT_LT(last, 0.75 * baseline);
  ASSERT_TRUE(std::filesystem::exists(path));

  Config c = SlowDevicesFastLinks();
  c.offload.policy = "ppo";
  c.offload.ppo_load = path;
  c.offload.ppo_learn = false;
  offload::PolicyContext ctx;
  ctx.num_stages = 4;
  EXPECT_TRUE(offload::CreateSplitPolicy(c.offload, ctx).ok());
  ctx.num_stages = 7;  // a policy trained for cnn does not fit vgg5
  EXPECT_FALSE(offload::CreateSplitPolicy(c.offload, ctx).ok());
}

}  // namespace
}  // namespace tandem::sim

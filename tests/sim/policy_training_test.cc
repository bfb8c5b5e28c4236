// The ppo offload policy on the cost model: trained on one fleet it comes
// near the bound; trained on random scenarios it saves a file that the
// coordinator's policy factory loads; without offload.ppo_load it takes the
// shipped policy, and a missing or foreign file is refused naming it; the
// shipped policy never plans a round slower than local training by more
// than its margin; the arena charges each device the link of its round.
#include <filesystem>
#include <random>

#include "gtest/gtest.h"
#include "offload/ppo_policy.h"
#include "offload/split_policy.h"
#include "sim/cost_arena.h"
#include "sim/policy_trainer.h"
#include "sim/random_scenario.h"

namespace tandem::sim {
namespace {

const std::string kShipped =
    std::string(TANDEM_SOURCE_DIR) + "/configs/policies/ppo-default.policy";
const std::string kProfiles =
    std::string(TANDEM_SOURCE_DIR) + "/configs/profiles";

Config SlowDevicesFastLinks() {
  Config c;
  c.server.rounds = 5;
  c.model.name = "cnn";
  c.data.train_limit = 3000;
  c.training.batch_size = 50;
  c.offload.server_cores = 2;
  c.fleet.compute_time = ComputeTime::kProfiled;
  c.fleet.profile = kProfiles + "/cnn-fashion-mnist.json";
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

TEST(PolicyTrainingTest, PpoTrainedOnAFleetComesNearTheBound) {
  // The network alone, without the cost model's prior: what it finds, it
  // learnt.
  PolicyTraining t;
  t.cost_model_prior = false;
  t.episodes = 150;
  t.batch = 64;
  t.out_path = ::testing::TempDir() + "/trained.policy";
  auto r = TrainOffloadPolicy(SlowDevicesFastLinks(), t);
  ASSERT_TRUE(r.ok()) << r.status();
  const double first = (*r)["first_tenth_ratio_to_bound"];
  const double last = (*r)["last_tenth_ratio_to_bound"];
  std::printf("total time / bound: first tenth %.3f, last tenth %.3f\n", first,
              last);
  EXPECT_LT(last, 1.05);
  EXPECT_LT(last, first);  // it learnt something
  Config c = SlowDevicesFastLinks();
  c.offload.policy = "ppo";
  c.offload.ppo_load = t.out_path;
  offload::PolicyContext ctx;
  ctx.num_stages = 4;
  ctx.profile.stages.resize(4);
  EXPECT_TRUE(offload::CreateSplitPolicy(c.offload, ctx).ok());
}

TEST(PolicyTrainingTest, RandomisedTrainingSavesAPolicyThatLoads) {
  PolicyTraining t;
  t.randomize = true;
  t.episodes = 6;
  t.rounds = 3;
  t.batch = 100;
  t.profiles_dir = kProfiles;
  t.command = "test";
  t.out_path = ::testing::TempDir() + "/random.policy";
  auto r = TrainOffloadPolicy(Config(), t);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT((*r)["decisions"].get<int>(), 6 * 3 * 2 - 1);
  EXPECT_GE((*r)["updates"].get<int>(), 1);
  nlohmann::json about;
  ASSERT_TRUE(offload::PpoAgent::Load(t.out_path, &about).ok());
  EXPECT_EQ(about["command"], "test");
  EXPECT_EQ(about["seed"], 1);
}

TEST(PolicyTrainingTest, PpoStartsFromTheShippedPolicyAndNamesABadFile) {
  offload::PolicyContext ctx;
  ctx.num_stages = 4;
  ctx.profile.stages.resize(4);
  OffloadConfig o;
  o.policy = "ppo";
  o.ppo_load = kShipped;
  EXPECT_TRUE(offload::CreateSplitPolicy(o, ctx).ok());
  // The default is relative to the working folder, as pinned profiles are.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(TANDEM_SOURCE_DIR);
  o.ppo_load.clear();
  EXPECT_TRUE(offload::CreateSplitPolicy(o, ctx).ok());
  std::filesystem::current_path(::testing::TempDir());
  auto missing = offload::CreateSplitPolicy(o, ctx);
  std::filesystem::current_path(cwd);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(offload::kDefaultPolicyFile),
            std::string::npos)
      << missing.status();
  o.ppo_load = kProfiles + "/cnn-fashion-mnist.json";  // not a policy
  auto foreign = offload::CreateSplitPolicy(o, ctx);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find(o.ppo_load), std::string::npos)
      << foreign.status();
}

// On random scenarios with steady links and a coordinator core per tail
// (so the cost model's plan is what the round costs), the shipped policy
// never makes a device's round slower than local training by more than
// kLocalMargin, whatever its network prefers.
TEST(PolicyTrainingTest, ShippedPolicyIsNeverSlowerThanLocalBeyondItsMargin) {
  auto profiles = ZooProfiles(kProfiles).value();
  std::shared_ptr<offload::PpoAgent> agent =
      offload::PpoAgent::Load(kShipped).value();
  std::mt19937_64 rng(2024);
  ScenarioOptions so;
  so.rounds = 3;
  so.max_devices = 10;
  so.links = LinkProcess::kConstant;
  int offloading = 0;
  for (int k = 0; k < 20; ++k) {
    CostScenario s = DrawScenario(rng, profiles, so);
    s.config.offload.link_guard = false;  // the policy's own margin alone
    s.context.server_cores = 1000;
    auto policy =
        offload::CreatePpoPolicyWithAgent(s.config.offload, s.context, agent)
            .value();
    for (int r = 1; r <= so.rounds; ++r) {
      const double start = s.clock_s;
      const double t = PlayRound(s, r, *policy).slowest_s;
      EXPECT_LE(BoundRound(s, r, start), t * (1 + 1e-9));
      EXPECT_LE(t, NoneRound(s, r, start) * (1 + offload::kLocalMargin) + 1e-9)
          << "scenario " << k << " round " << r;
      for (const CostDevice& d : s.fleet) {
        offloading += d.view.last_split < s.context.num_stages;
      }
    }
  }
  EXPECT_GT(offloading, 0);
}

TEST(CostArenaTest, EachDeviceIsChargedTheLinkOfItsRound) {
  auto profiles = ZooProfiles(kProfiles).value();
  std::mt19937_64 rng(7);
  ScenarioOptions so;
  so.rounds = 4;
  CostScenario s = DrawScenario(rng, profiles, so);
  s.mbps[0] = {100, 1, 100};
  EXPECT_EQ(LinkAt(s, 0, 1), 100);
  EXPECT_EQ(LinkAt(s, 0, 2), 1);
  EXPECT_EQ(LinkAt(s, 0, 4), 100);  // the last value goes on
  const auto process = DrawLink(rng, LinkProcess::kMarkov, 50, 200);
  int faded = 0;
  for (double x : process) {
    EXPECT_TRUE(x == 50 || x < 50 * 0.31) << x;
    faded += x < 50;
  }
  EXPECT_GT(faded, 5);
  EXPECT_LT(faded, 195);
}

}  // namespace
}  // namespace tandem::sim

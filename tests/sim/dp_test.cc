// Differential privacy with client-side clipping, end to end: the
// coordinator tells devices the clipping norm, devices clip before sending,
// so no update is refused as too large, and the noised model still learns.
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"

namespace tandem::sim {
namespace {

TEST(DifferentialPrivacyTest, DevicesClipWhenTheStrategyAsks) {
  Config c;
  c.seed = 4;
  c.server.rounds = 3;
  c.server.min_devices = 4;
  c.model.name = "mlp";
  c.data.train_limit = 2000;
  c.data.test_limit = 500;
  c.strategy.name = "dp_fixed_client";
  c.strategy.min_updates = 4;
  c.strategy.params = {{"clipping_norm", 0.5}, {"noise_multiplier", 0.01}};
  c.fleet.classes.resize(1);
  c.fleet.classes[0].count = 4;
  c.output.dir = ::testing::TempDir() + "/dp_runs";
  c.output.checkpoints = false;
  SimOptions o;
  o.config = c;
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->summary["rounds"], 3);
  EXPECT_EQ(r->summary["rejected_updates"], 0) << r->summary.dump();
  EXPECT_GT(r->summary["final_accuracy"].get<double>(), 0.5);
}

}  // namespace
}  // namespace tandem::sim

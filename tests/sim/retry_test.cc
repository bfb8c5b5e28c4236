// Simulated devices retry what the coordinator refuses for now: joins over
// server.max_joins_per_s are refused with RESOURCE_EXHAUSTED and retried,
// over the in-process channel (which has no connectivity state to wait on)
// and over loopback TCP, and every device trains the round.
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

class RetryTest : public ::testing::TestWithParam<bool> {};

TEST_P(RetryTest, RateLimitedJoinsAreRetried) {
  Config c = SmallRun("mlp", 3, 1, 300,
                      GetParam() ? "retry_loopback" : "retry_in_process");
  c.server.max_joins_per_s = 1;
  SimOptions o;
  o.config = c;
  o.loopback = GetParam();
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->summary["rounds"], 1);
  const auto rounds = Records(r->run_dir, "round");
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_EQ(rounds[0]["participants"], 3);
}

INSTANTIATE_TEST_SUITE_P(Channels, RetryTest, ::testing::Bool());

}  // namespace
}  // namespace tandem::sim

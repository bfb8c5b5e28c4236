// Issue #10, "bit-identical runs": the same config and seed give the same
// final weights (summary.json's weights_sha256), metrics and summary
// whatever fleet.concurrency and thread timing are (wall-clock fields
// aside), with or without offloading; and the offload bound on a pinned
// profile prints the same numbers every time.
#include <string>
#include <vector>

#include "core/run_writer.h"
#include "core/weights_digest.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "sim/offload_bound.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

void ExpectSameRun(const RunOutput& a, const RunOutput& b) {
  const std::string digest = a.summary.value("weights_sha256", "");
  EXPECT_EQ(digest.size(), 64u) << a.summary;
  EXPECT_EQ(digest, b.summary.value("weights_sha256", "?"));
  EXPECT_EQ(a.checkpoint_sha256, digest);  // the last checkpoint's weights
  EXPECT_EQ(b.checkpoint_sha256, digest);
  EXPECT_EQ(WithoutWallClock(a.summary).dump(),
            WithoutWallClock(b.summary).dump());
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (size_t i = 0; i < a.metrics.size(); ++i) {
    EXPECT_EQ(WithoutWallClock(a.metrics[i]).dump(),
              WithoutWallClock(b.metrics[i]).dump())
        << "metrics line " << i + 1;
  }
}

TEST(DeterminismTest, ConcurrencyOneAndTwoGiveTheSameRun) {
  // Round 1 may start once two devices joined: the simulator still waits
  // for its whole fleet, so round 1 does not depend on who joined first.
  Config c = ProfiledFleet("mlp", 800, "determinism_c1", 1);
  c.server.min_devices = 2;
  c.strategy.min_updates = 2;
  const RunOutput one = SimulateAndRead(c);
  c.output.dir = ::testing::TempDir() + "/determinism_c2";
  c.fleet.concurrency = 2;
  const RunOutput two = SimulateAndRead(c);
  ASSERT_EQ(one.summary.value("rounds", 0), 3) << one.summary;
  for (const nlohmann::json& j : one.metrics) {
    if (j["type"] == "round") {
      EXPECT_EQ(j["participants"], 4) << j;
    }
  }
  ExpectSameRun(one, two);
}

TEST(DeterminismTest, OffloadingRunsAreTheSameEveryTime) {
  // greedy picks the split point: the slow devices offload cnn on a local
  // loss, so the coordinator trains their tails and averages their auxiliary
  // classifiers (cnn's results, unlike mlp's, depend on LibTorch's thread
  // count).
  Config c = ProfiledFleet("cnn", 400, "determinism_greedy_a", 2);
  c.offload.policy = "greedy";
  c.offload.mode = OffloadMode::kLocalLoss;
  const RunOutput a = SimulateAndRead(c);
  c.output.dir = ::testing::TempDir() + "/determinism_greedy_b";
  c.fleet.concurrency = 1;
  const RunOutput b = SimulateAndRead(c);
  int offloaded = 0;
  for (const nlohmann::json& j : a.metrics) {
    if (j["type"] == "device" && j.value("mode", "") == "local_loss" &&
        j.value("split", 4) < 4) {
      ++offloaded;
    }
  }
  EXPECT_GE(offloaded, 4) << "the test needs devices that offload";
  ExpectSameRun(a, b);
}

TEST(DeterminismTest, LearningPpoDecidesTheSameAtConcurrencyOneAndTwo) {
  // The shipped ppo policy, sampling its placements and updating every
  // round: draws are seeded per device and decision, rewards recorded in
  // device order, so thread timing changes nothing.
  Config c = ProfiledFleet("cnn", 400, "determinism_ppo_a", 2);
  c.offload.policy = "ppo";
  c.offload.mode = OffloadMode::kAuto;
  c.offload.ppo_load =
      std::string(TANDEM_SOURCE_DIR) + "/configs/policies/ppo-default.policy";
  c.offload.ppo_learn = true;
  c.offload.ppo_update_every = 1;
  const RunOutput a = SimulateAndRead(c);
  c.output.dir = ::testing::TempDir() + "/determinism_ppo_b";
  c.fleet.concurrency = 1;
  const RunOutput b = SimulateAndRead(c);
  int offloaded = 0;
  for (const nlohmann::json& j : a.metrics) {
    offloaded += j["type"] == "device" && j.value("split", 4) < 4;
  }
  EXPECT_GE(offloaded, 1) << "the test needs devices that offload";
  ExpectSameRun(a, b);
}

TEST(DeterminismTest, ExactSplitRunsAreTheSameEveryTime) {
  // The slow devices offload vgg5 at split point 2 in exact mode: each tail
  // trains on a coordinator thread, whose LibTorch thread count changes vgg5's
  // results if it is not set.
  Config c = ProfiledFleet("vgg5", 500, "determinism_exact_a", 2);
  c.server.rounds = 2;
  c.offload.policy = "fixed";
  c.offload.mode = OffloadMode::kExact;
  c.offload.fixed = {{"slow", 2}};
  const RunOutput a = SimulateAndRead(c);
  c.output.dir = ::testing::TempDir() + "/determinism_exact_b";
  c.fleet.concurrency = 1;
  const RunOutput b = SimulateAndRead(c);
  int tails = 0;
  for (const nlohmann::json& j : a.metrics) tails += j.contains("tail_s");
  EXPECT_EQ(tails, 4);
  ExpectSameRun(a, b);
}

TEST(DeterminismTest, OffloadBoundOnAPinnedProfileIsTheSameEveryTime) {
  Config c = ProfiledFleet("mlp", 800, "determinism_bound", 2);
  c.fleet.bandwidth_events.push_back({"slow-01", 2, 2, 5});
  auto a = ComputeOffloadBound(c);
  auto b = ComputeOffloadBound(c);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->dump(2), b->dump(2));  // as tandem-sim --offload_bound prints
  EXPECT_LT((*a)["total_time_s"]["ratio"].get<double>(), 1) << a->dump(2);
}

}  // namespace
}  // namespace tandem::sim

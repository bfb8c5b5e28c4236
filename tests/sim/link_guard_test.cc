// The link guard: an offloading device whose link drops far below its split
// point's break-even throughput measures that on the task download and
// trains locally that round, then offloads again when the link recovers.
#include <map>

#include "core/run_writer.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

// Two slow devices (100x one core) training cnn over a 1 Gbit/s link, where
// greedy offloads from round 1; slow-01's link drops to 0.1 Mbit/s in round
// 3. Offloading at a split point moves tens of Mbit more per round than
// local training and saves seconds of device compute: break-even near
// 10 Mbit/s, far from both.
Config SlowFleet(bool guard) {
  Config c = SmallRun("cnn", 2, 4, 400, "link_guard_runs");
  c.offload.policy = "greedy";
  c.offload.link_guard = guard;
  c.fleet.classes[0].name = "slow";
  c.fleet.classes[0].device.slowdown = 100;
  c.fleet.classes[0].device.bandwidth_mbps = 1000;
  c.fleet.classes[0].device.latency_ms = 0;
  c.fleet.bandwidth_events.push_back({"slow-01", 3, 3, 0.1});
  return c;
}

// (device, round) -> split point of its accepted update. Read with at():
// a missing record must fail the test, not read as split 0.
std::map<std::pair<std::string, int>, int> Splits(const Config& c) {
  SimOptions o;
  o.config = c;
  auto r = RunSimulation(o);
  EXPECT_TRUE(r.ok()) << r.status();
  std::map<std::pair<std::string, int>, int> splits;
  if (!r.ok()) return splits;
  for (const nlohmann::json& j : Records(r->run_dir, "device")) {
    if (j["status"] == "accepted")
      splits[{j["device"], j["round"]}] = j["split"];
  }
  return splits;
}

constexpr int kLocal = 4;  // cnn has 4 stages

TEST(LinkGuardTest, SlowLinkTrainsLocallyWhileTheOtherOffloads) {
  auto s = Splits(SlowFleet(true));
  // Greedy places both from the stage timing they sent before round 1.
  for (int round = 1; round <= 4; ++round) {
    EXPECT_LT((s.at({"slow-00", round})), kLocal) << "round " << round;
  }
  EXPECT_LT((s.at({"slow-01", 2})), kLocal);
  EXPECT_EQ((s.at({"slow-01", 3})), kLocal);
}

TEST(LinkGuardTest, CoversLocalLossToo) {
  Config c = SlowFleet(true);
  c.offload.mode = OffloadMode::kLocalLoss;
  auto s = Splits(c);
  EXPECT_LT((s.at({"slow-01", 2})), kLocal);
  EXPECT_EQ((s.at({"slow-01", 3})), kLocal);
  EXPECT_LT((s.at({"slow-01", 4})), kLocal);
}

TEST(LinkGuardTest, WithoutTheGuardGreedyOffloadsOnTheSlowLink) {
  auto s = Splits(SlowFleet(false));
  EXPECT_LT((s.at({"slow-01", 3})), kLocal);  // it has not seen the drop yet
}

TEST(LinkGuardTest, OffWhenGreedyWeighsEnergy) {
  // The break-even is on time; at alpha < 1 greedy's choice stands.
  Config c = SlowFleet(true);
  c.offload.alpha = 0.5;
  auto s = Splits(c);
  EXPECT_LT((s.at({"slow-01", 3})), kLocal);
}

}  // namespace
}  // namespace tandem::sim

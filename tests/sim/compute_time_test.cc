// fleet.compute_time "profiled": a device's compute time and its tail's are
// examples x the profile's stage seconds x slowdown, the same every round,
// whatever else the host is running.
#include <map>

#include "core/run_writer.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

// cnn's four stages at 1, 2, 3 and 4 ms per example.
std::shared_ptr<const ml::ModelProfile> HandProfile() {
  ml::ModelProfile p;
  p.model = "cnn";
  p.input_elements = 784;
  for (double ms : {1.0, 2.0, 3.0, 4.0}) {
    p.stages.push_back({"s", ms / 1e3, 1, 1});
  }
  return std::make_shared<const ml::ModelProfile>(p);
}

// Two devices of slowdown 2 with 200 examples each: "whole" trains the
// whole model, "head" offloads at split point 2.
Config TwoClasses() {
  Config c = SmallRun("cnn", 2, 3, 400, "compute_time_runs");
  c.offload.policy = "fixed";
  c.offload.fixed = {{"head", 2}};
  c.fleet.compute_time = ComputeTime::kProfiled;
  c.fleet.classes.assign(2, c.fleet.classes[0]);
  c.fleet.classes[0].name = "whole";
  c.fleet.classes[1].name = "head";
  for (DeviceClassConfig& d : c.fleet.classes) {
    d.count = 1;
    d.device.slowdown = 2;
  }
  return c;
}

TEST(ComputeTimeTest, ProfiledTimesFollowTheProfileExactly) {
  SimOptions o;
  o.config = TwoClasses();
  o.compute_profile = HandProfile();
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  int lines = 0;
  for (const nlohmann::json& j : Records(r->run_dir, "device")) {
    if (j["status"] != "accepted") continue;
    ++lines;
    // Before its first task each device timed 3 batches of 32 and 3 of 16
    // examples of every stage: 2 x 144 x (1 + 2 + 3 + 4) ms, charged to
    // round 1's time but not to its compute.
    EXPECT_DOUBLE_EQ(j["timing_s"].get<double>(), j["round"] == 1 ? 2.88 : 0.0);
    if (j["device"] == "whole-00") {
      // 2 x 200 x (1 + 2 + 3 + 4) ms.
      EXPECT_DOUBLE_EQ(j["compute_s"].get<double>(), 4.0);
    } else {
      // 2 x 200 x 3 ms.
      EXPECT_DOUBLE_EQ(j["compute_s"].get<double>(), 1.2);
      // The coordinator's core: 200 x (3 + 4) ms.
      EXPECT_DOUBLE_EQ(j["tail_s"].get<double>(), 1.4);
    }
  }
  EXPECT_EQ(lines, 6);
}

// server.round_deadline_s holds on the virtual clock: a device whose round
// takes longer is late, its update refused, and the round lasts the
// deadline.
TEST(ComputeTimeTest, RoundDeadlineHoldsInVirtualTime) {
  Config c = TwoClasses();
  c.offload.policy = "none";
  c.offload.fixed = nlohmann::json::object();
  c.fleet.classes[1].name = "slow";
  c.fleet.classes[1].device.slowdown = 20;  // 2 x 200 x 10 ms x 20 = 80 s
  c.server.round_deadline_s = 30;
  c.strategy.min_updates = 1;
  SimOptions o;
  o.config = c;
  o.compute_profile = HandProfile();
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<nlohmann::json> rounds = Records(r->run_dir, "round");
  ASSERT_EQ(rounds.size(), 3u);
  for (const nlohmann::json& j : rounds) {
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["participants"], 1);
    EXPECT_EQ(j["rejected"], 1);
    EXPECT_DOUBLE_EQ(j["round_time_s"].get<double>(), 30.0);
  }
  EXPECT_DOUBLE_EQ(r->summary["virtual_time_s"].get<double>(), 90.0);
  EXPECT_EQ(r->summary["rejections"]["late"], 3) << r->summary.dump();
}

}  // namespace
}  // namespace tandem::sim

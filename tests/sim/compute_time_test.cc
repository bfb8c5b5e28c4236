// fleet.compute_time "profiled": a device's compute time and its tail's are
// examples x the profile's stage seconds x slowdown, the same every round,
// whatever else the host is running.
#include <map>

#include "core/run_writer.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"

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
// whole model, "head" offloads at cut 2.
Config TwoClasses() {
  Config c;
  c.server.rounds = 3;
  c.server.min_devices = 2;
  c.model.name = "cnn";
  c.data.train_limit = 400;
  c.data.test_limit = 100;
  c.strategy.min_updates = 2;
  c.offload.policy = "fixed";
  c.offload.fixed = {{"head", 2}};
  c.fleet.compute_time = "profiled";
  for (const char* name : {"whole", "head"}) {
    DeviceClassConfig d;
    d.name = name;
    d.slowdown = 2;
    c.fleet.classes.push_back(d);
  }
  c.output.dir = ::testing::TempDir() + "/compute_time_runs";
  c.output.checkpoints = false;
  return c;
}

TEST(ComputeTimeTest, ProfiledTimesFollowTheProfileExactly) {
  SimOptions o;
  o.config = TwoClasses();
  o.compute_profile = HandProfile();
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<nlohmann::json> metrics = ReadMetrics(r->run_dir).value();
  int lines = 0;
  for (const nlohmann::json& j : metrics) {
    if (j["type"] != "device" || j["status"] != "accepted") continue;
    ++lines;
    if (j["device"] == "whole-00") {
      // 2 x 200 x (1 + 2 + 3 + 4) ms.
      EXPECT_DOUBLE_EQ(j["compute_s"].get<double>(), 4.0);
    } else {
      EXPECT_DOUBLE_EQ(j["compute_s"].get<double>(), 1.2);  // 2 x 200 x 3 ms
      // The coordinator's core: 200 x (3 + 4) ms.
      EXPECT_DOUBLE_EQ(j["tail_s"].get<double>(), 1.4);
    }
  }
  EXPECT_EQ(lines, 6);
}

}  // namespace
}  // namespace tandem::sim

// Bandwidth traces in the simulator: a device's link drops for a stretch of
// rounds and its link time follows; a trace naming no device is an error.
#include <map>

#include "absl/strings/str_split.h"
#include "core/file_io.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

Config TwoDevices() {
  Config c = SmallRun("mlp", 2, 3, 400, "bandwidth_runs");
  c.fleet.classes[0].device.bandwidth_mbps = 100;
  c.fleet.classes[0].device.latency_ms = 0;
  c.fleet.bandwidth_events.push_back({"dev-01", 2, 2, 1.0});
  return c;
}

TEST(BandwidthTraceTest, LinkTimeFollowsTheTrace) {
  SimOptions o;
  o.config = TwoDevices();
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::map<std::pair<std::string, int>, double> link;
  const std::string metrics = ReadFile(r->run_dir + "/metrics.jsonl").value();
  for (absl::string_view line :
       absl::StrSplit(metrics, '\n', absl::SkipEmpty())) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "device") link[{j["device"], j["round"]}] = j["link_s"];
  }
  // at(): a missing record fails the test instead of reading as 0 s.
  auto at = [&](const std::string& device, int round) {
    return link.at(std::make_pair(device, round));
  };
  // 100x less bandwidth in round 2 only: 100x the link time (no latency).
  EXPECT_NEAR(at("dev-01", 2) / at("dev-01", 1), 100, 1);
  // Equal but for a few header bytes (round 1's task has no virtual start).
  EXPECT_NEAR(at("dev-01", 3), at("dev-01", 1), 1e-5);
  EXPECT_NEAR(at("dev-00", 2), at("dev-00", 1), 1e-5);
}

TEST(BandwidthTraceTest, UnknownDeviceIsAnError) {
  Config c = TwoDevices();
  c.fleet.bandwidth_events[0].device = "dev-7";
  SimOptions o;
  o.config = c;
  auto r = RunSimulation(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bandwidth_events[0].device"),
            std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace tandem::sim

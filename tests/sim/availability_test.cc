// Simulated availability: periodic on/off and trace intervals, and a fleet
// whose flaky devices train only in rounds they are online through.
#include "sim/availability.h"

#include <fstream>
#include <random>

#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

TEST(AvailabilityTest, PeriodicIsOnlineThroughOnlyInsideAnOnPeriod) {
  const Availability a = Availability::Periodic(10, 5, 3);
  std::mt19937_64 rng(1);
  int through = 0, online = 0;
  for (int i = 0; i < 2000; ++i) {
    const double t = std::uniform_real_distribution<double>(0, 300)(rng);
    const double d = std::uniform_real_distribution<double>(0, 8)(rng);
    online += a.OnlineAt(t);
    if (!a.OnlineThrough(t, d)) continue;
    ++through;
    for (int k = 0; k <= 50; ++k) ASSERT_TRUE(a.OnlineAt(t + d * k / 50));
  }
  EXPECT_NEAR(online / 2000.0, 10.0 / 15, 0.05);
  EXPECT_GT(through, 200);
  const Availability always = Availability::Periodic(10, 0, 3);
  EXPECT_TRUE(always.OnlineThrough(1e6, 1e6));
}

TEST(AvailabilityTest, IntervalsAndTheirTrace) {
  const Availability a = Availability::Intervals({{0, 10}, {20, 30}});
  EXPECT_TRUE(a.OnlineThrough(1, 8));
  EXPECT_FALSE(a.OnlineThrough(5, 10));  // crosses the gap
  EXPECT_FALSE(a.OnlineAt(15));
  EXPECT_TRUE(a.OnlineAt(20));
  const std::string path = ::testing::TempDir() + "/trace.json";
  std::ofstream(path) << R"({"dev-00": [[0, 10], [5, 12]]})";
  auto bad = LoadAvailabilityTrace(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("dev-00"), std::string::npos);
  std::ofstream(path, std::ios::trunc) << R"({"dev-00": [[0, 10], [20, 30]]})";
  auto good = LoadAvailabilityTrace(path);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->at("dev-00").size(), 2u);
  EXPECT_FALSE(LoadAvailabilityTrace(path + ".missing").ok());
}

// Two steady devices and two that are online 6 s of every 12 (virtual),
// cnn at 10 ms per example (profiled): a round takes 4 s and more.
TEST(AvailabilityTest, FlakyDevicesTrainOnlyWhenOnlineThroughTheRound) {
  Config c = SmallRun("cnn", 4, 8, 800, "availability_runs");
  c.strategy.min_updates = 1;
  c.fleet.compute_time = ComputeTime::kProfiled;
  c.fleet.classes.assign(2, c.fleet.classes[0]);
  c.fleet.classes[0].name = "steady";
  c.fleet.classes[0].count = 2;
  c.fleet.classes[1].name = "flaky";
  c.fleet.classes[1].count = 2;
  c.fleet.classes[1].online_s = 6;
  c.fleet.classes[1].offline_s = 6;
  ml::ModelProfile p;
  p.model = "cnn";
  p.input_elements = 784;
  for (double ms : {1.0, 2.0, 3.0, 4.0})
    p.stages.push_back({"s", ms / 1e3, 1, 1});
  SimOptions o;
  o.config = c;
  o.compute_profile = std::make_shared<const ml::ModelProfile>(p);
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  // Each round starts at the run's virtual time after the one before.
  std::map<int64_t, double> start = {{1, 0.0}};
  for (const nlohmann::json& j : Records(r->run_dir, "round")) {
    start[j["round"].get<int64_t>() + 1] = j["virtual_time_s"].get<double>();
  }
  const Availability flaky[2] = {
      Availability::Periodic(6, 6, c.seed * 1000 + 2),
      Availability::Periodic(6, 6, c.seed * 1000 + 3)};
  int flaky_trained = 0, flaky_dropped = 0;
  for (const nlohmann::json& j : Records(r->run_dir, "device")) {
    const std::string id = j["device"];
    const int64_t round = j["round"];
    if (id.rfind("steady", 0) == 0) {
      EXPECT_EQ(j["status"], "accepted") << j;
      continue;
    }
    const Availability& a = flaky[id == "flaky-01"];
    if (j["status"] == "accepted") {
      ++flaky_trained;
      EXPECT_TRUE(a.OnlineThrough(start[round], j["round_time_s"])) << j;
    } else {
      ++flaky_dropped;
      // Offline when the round opened, or online then but not through it.
      const bool at_start = a.OnlineAt(start[round]);
      EXPECT_EQ(j["reason"],
                at_start ? "went offline during the round" : "offline")
          << j;
    }
  }
  EXPECT_GT(flaky_dropped, 0);
  EXPECT_EQ(flaky_trained + flaky_dropped, 16);
}

}  // namespace
}  // namespace tandem::sim

// Over-selection on virtual time (strategy.over_selection): a round samples
// more devices than it aggregates, waits for all of them, and keeps the
// updates with the shortest virtual round times, whatever order they
// arrived in.
#include <map>
#include <string>

#include "core/run_writer.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

TEST(OverSelectionTest, KeepsTheFastestUpdatesOnVirtualTime) {
  // Two devices slow to compute on a fast link, two fast on a slower one;
  // half are aggregated, all sampled.
  Config c = ProfiledFleet("mlp", 800, "over_selection_c2", 2);
  c.strategy.fraction = 0.5;
  c.strategy.over_selection = 2;
  c.strategy.min_updates = 2;
  const RunOutput two = SimulateAndRead(c);
  // Per round: the slowest kept update and the fastest left out.
  std::map<int, double> kept_max, surplus_min;
  std::map<std::string, int> kept_rounds;
  for (const nlohmann::json& j : two.metrics) {
    if (j["type"] != "device") continue;
    const int round = j["round"];
    const double t = j["round_time_s"];
    if (j["status"] == "accepted") {
      kept_max[round] = std::max(kept_max[round], t);
      ++kept_rounds[j["device"]];
    } else {
      ASSERT_EQ(j["status"], "surplus") << j;
      surplus_min[round] =
          surplus_min.count(round) ? std::min(surplus_min[round], t) : t;
    }
  }
  int rounds = 0;
  for (const nlohmann::json& j : two.metrics) {
    if (j["type"] != "round") continue;
    ++rounds;
    const int round = j["round"];
    EXPECT_EQ(j["sampled"], 4) << j;
    EXPECT_EQ(j["participants"], 2) << j;
    EXPECT_EQ(j["surplus"], 2) << j;
    EXPECT_LE(kept_max[round], surplus_min[round]) << "round " << round;
    EXPECT_EQ(j["round_time_s"].get<double>(), kept_max[round])
        << "a round lasts until its last kept update";
  }
  EXPECT_EQ(rounds, 3);
  for (const nlohmann::json& d : two.summary["devices"]) {
    EXPECT_EQ(d["rounds"], kept_rounds[d["id"]]) << d;
  }

  // One device training at a time: same records.
  c.fleet.concurrency = 1;
  c.output.dir = ::testing::TempDir() + "/over_selection_c1";
  const RunOutput one = SimulateAndRead(c);
  ASSERT_EQ(one.metrics.size(), two.metrics.size());
  for (size_t i = 0; i < one.metrics.size(); ++i) {
    EXPECT_EQ(WithoutWallClock(one.metrics[i]).dump(),
              WithoutWallClock(two.metrics[i]).dump());
  }
  EXPECT_EQ(one.summary["weights_sha256"], two.summary["weights_sha256"]);
}

}  // namespace
}  // namespace tandem::sim

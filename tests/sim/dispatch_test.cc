// The simulator's in-process devices are dispatched: an idle device holds
// no thread (nor long-poll, nor heartbeat), so a fleet's threads do not grow
// with its size.
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

int ProcessThreads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    int n = 0;
    if (absl::StartsWith(line, "Threads:") &&
        absl::SimpleAtoi(line.substr(8), &n)) {
      return n;
    }
  }
  return -1;
}

TEST(DispatchTest, IdleDevicesHoldNoThreads) {
  // 300 devices, 6 of them training a round.
  Config c = SmallRun("mlp", 300, 2, 3000, "dispatch");
  c.strategy.fraction = 0.02;
  c.strategy.min_updates = 6;
  SimOptions o;
  o.config = c;
  int most = 0;
  o.on_round = [&most](const nlohmann::json&) {
    most = std::max(most, ProcessThreads());
  };
  auto run = RunSimulation(o);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->summary["rounds"], 2) << run->summary;
  ASSERT_GT(most, 0);
  // A thread (or two) per device would be 300 or more.
  EXPECT_LT(most, 60);
}

}  // namespace
}  // namespace tandem::sim

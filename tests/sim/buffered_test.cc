// Buffered asynchronous aggregation (FedBuff) on virtual time: fast devices
// report more often, slow ones' updates arrive stale, and the run is the
// same whatever order the simulated devices' threads finished in.
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/ml/torchscript_files.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

Config BufferedFleet(const std::string& dir, int concurrency,
                     const std::string& torchscript = "") {
  // Two devices 40x slower to compute than the other two, all on one fast
  // link; three train at once, every two reports make a version.
  Config c = ProfiledFleet("mlp", 800, dir, concurrency);
  if (!torchscript.empty()) {
    c.model.name.clear();
    c.model.torchscript = torchscript;
  }
  c.fleet.classes[1].device.bandwidth_mbps = 1000;
  c.server.rounds = 5;
  c.strategy.min_updates = 1;
  c.strategy.buffer_size = 2;
  c.strategy.concurrency = 3;
  // A version without reports fails the run within seconds, not minutes.
  c.server.round_deadline_s = 20;
  c.server.max_round_retries = 0;
  return c;
}

class BufferedTest : public ::testing::TestWithParam<std::string> {
 protected:
  // "" (the zoo's mlp) or the same mlp written in PyTorch.
  std::string ModelFile() const {
    return GetParam().empty() ? ""
                              : test_models::TorchScriptModelFile(GetParam());
  }
};

TEST_P(BufferedTest, SameRunWhateverTheThreadOrder) {
  const std::string file = ModelFile();
  ASSERT_EQ(file.empty(), GetParam().empty());
  const RunOutput two =
      SimulateAndRead(BufferedFleet("buffered_c2" + GetParam(), 2, file));
  std::map<std::string, int> reports;  // by class
  int stale = 0, rounds = 0;
  double virtual_s = 0;
  for (const nlohmann::json& j : two.metrics) {
    if (j["type"] == "device") {
      ASSERT_EQ(j["status"], "accepted") << j;
      ++reports[j["class"]];
      stale += j["staleness"].get<int>() > 0;
      EXPECT_EQ(j["round"].get<int>() - j["task_round"].get<int>(),
                j["staleness"].get<int>())
          << j;
    } else if (j["type"] == "round") {
      ++rounds;
      EXPECT_EQ(j["participants"], 2) << j;
      EXPECT_GE(j["virtual_time_s"].get<double>(), virtual_s) << j;
      virtual_s = j["virtual_time_s"];
    }
  }
  EXPECT_EQ(rounds, 5);
  // Every device's announced least round time held (else "malformed").
  EXPECT_EQ(two.summary["rejected_updates"], 0) << two.summary["rejections"];
  EXPECT_GT(reports["fast"], reports["slow"]);
  EXPECT_GT(stale, 0);
  EXPECT_FALSE(two.checkpoint_sha256.empty());

  // One device training at a time: the same records and model.
  const RunOutput one =
      SimulateAndRead(BufferedFleet("buffered_c1" + GetParam(), 1, file));
  ASSERT_EQ(one.metrics.size(), two.metrics.size());
  for (size_t i = 0; i < one.metrics.size(); ++i) {
    EXPECT_EQ(WithoutWallClock(one.metrics[i]).dump(),
              WithoutWallClock(two.metrics[i]).dump());
  }
  EXPECT_EQ(one.summary["weights_sha256"], two.summary["weights_sha256"]);
  EXPECT_EQ(one.checkpoint_sha256, two.checkpoint_sha256);
}

INSTANTIATE_TEST_SUITE_P(ZooAndTorchScript, BufferedTest,
                         ::testing::Values("", "mlp"));

}  // namespace
}  // namespace tandem::sim

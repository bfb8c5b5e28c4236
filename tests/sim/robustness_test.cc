// End to end in the simulator: 2 of 10 devices send sign-flipped or scaled
// (x10) updates. FedAvg degrades; Krum, FedMedian and FedTrimmedAvg stay near
// the clean run; admission clips the attackers and only them. Small: mlp on
// 5,000 Fashion-MNIST images, 5 rounds.
#include <cmath>
#include <map>

#include "absl/strings/str_split.h"
#include "core/file_io.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"

namespace tandem::sim {
namespace {

// Admission is off unless asked for: the robust rules are measured alone.
Config Fleet(const std::string& strategy, const std::string& attack,
             Admission admission = Admission::kOff) {
  Config c;
  c.seed = 3;
  c.server.rounds = 5;
  c.server.min_devices = 10;
  c.model.name = "mlp";
  c.data.train_limit = 5000;
  c.data.test_limit = 1000;
  c.training.batch_size = 32;
  c.training.learning_rate = 0.05;
  c.strategy.name = strategy;
  c.strategy.min_updates = 10;
  c.strategy.admission = admission;
  if (strategy == "krum") c.strategy.params = {{"num_malicious", 2}};
  if (strategy == "fedtrimmedavg") c.strategy.params = {{"beta", 0.2}};
  c.fleet.classes.resize(2);
  c.fleet.classes[0].name = "honest";
  c.fleet.classes[0].count = 8;
  c.fleet.classes[1].name = "attacker";
  c.fleet.classes[1].count = 2;
  c.fleet.classes[1].attack = attack;
  c.fleet.classes[1].attack_scale = 10;
  c.output.dir = ::testing::TempDir() + "/robustness_runs";
  c.output.checkpoints = false;
  return c;
}

// A run the attack broke is stopped by the coordinator. It rolls back
// aggregates that are not finite or lose accuracy, but an attack from round 1
// has no accurate model to lose: the aggregates drift until devices abandon
// the diverged model, and a round fails until its retries run out. That counts
// as accuracy 0, the model never got anywhere useful. Any other failure
// (set-up, data) fails the test: it is not a sign that the attack worked.
double FinalAccuracy(const Config& c, bool may_fail = false) {
  SimOptions o;
  o.config = c;
  auto r = RunSimulation(o);
  if (r.ok()) return r->summary["final_accuracy"].get<double>();
  const bool attack_broke_it =
      may_fail && r.status().message().find("server.max_round_retries") !=
                      std::string::npos;
  EXPECT_TRUE(attack_broke_it) << r.status();
  return attack_broke_it ? 0 : std::nan("");
}

class RobustnessTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RobustnessTest, RobustStrategiesResistMaliciousDevices) {
  const std::string attack = GetParam();
  const double clean = FinalAccuracy(Fleet("fedavg", "none"));
  const double fedavg = FinalAccuracy(Fleet("fedavg", attack), true);
  const double admitted = FinalAccuracy(
      Fleet("fedavg", attack, Admission::kAdaptive), /*may_fail=*/true);
  std::map<std::string, double> robust;
  for (const char* s : {"krum", "fedmedian", "fedtrimmedavg"}) {
    robust[s] = FinalAccuracy(Fleet(s, attack));
  }
  std::printf(
      "%s: clean fedavg %.3f | attacked: fedavg %.3f, with admission %.3f, "
      "krum %.3f fedmedian %.3f fedtrimmedavg %.3f\n",
      attack.c_str(), clean, fedavg, admitted, robust["krum"],
      robust["fedmedian"], robust["fedtrimmedavg"]);
  EXPECT_GT(clean, 0.70);
  EXPECT_LT(fedavg, clean - 0.1);
  // Clipped to twice the median, 2 of 10 devices still pull: measured
  // 0.712 (sign_flip) and 0.774 (scale) against 0.080 and 0.582 without.
  EXPECT_GT(admitted, clean - 0.1);
  EXPECT_GT(admitted, fedavg + 0.1);
  for (const auto& [name, acc] : robust) {
    EXPECT_GT(acc, clean - 0.06) << name;
  }
}

// Admission clips the attackers in every round (the first at its close,
// against its own median) and no honest device, and says so in
// metrics.jsonl and summary.json.
TEST(AdmissionRecordTest, AttackersAreClippedAndRecordedHonestDevicesNot) {
  SimOptions o;
  o.config = Fleet("fedavg", "scale", Admission::kAdaptive);
  o.config.server.rounds = 3;
  absl::StatusOr<SimResult> r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string metrics = ReadFile(r->run_dir + "/metrics.jsonl").value();
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j["type"] != "device" || j["status"] != "accepted") continue;
    ++lines;
    const bool attacker = j["class"] == "attacker";
    const double scale = j["clip_scale"].get<double>();
    if (attacker) {
      EXPECT_LT(scale, 0.5) << j.dump();  // x10 cut to 2x the median
    } else {
      EXPECT_EQ(scale, 1) << j.dump();
    }
  }
  EXPECT_EQ(lines, 30);
  for (const nlohmann::json& d : r->summary["devices"]) {
    EXPECT_EQ(d["clipped"], d["class"] == "attacker" ? 3 : 0) << d.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Attacks, RobustnessTest,
                         ::testing::Values("sign_flip", "scale"));

}  // namespace
}  // namespace tandem::sim

// Resuming from a checkpoint: the run goes on after the checkpoint's round,
// from its weights and run state (strategy optimiser, policy, tallies,
// virtual clock), as the uninterrupted run did; a corrupt, foreign or
// finished checkpoint is refused with a message naming the file.
#include <fstream>

#include "core/file_io.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
#include "tests/ml/torchscript_files.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

Config Small(int rounds) {
  Config c = SmallRun("mlp", 2, rounds, 400, "resume_runs");
  c.output.checkpoints = true;
  return c;
}

absl::StatusOr<SimResult> Simulate(const Config& c) {
  SimOptions o;
  o.config = c;
  return RunSimulation(o);
}

TEST(ResumeTest, GoesOnFromTheCheckpointsWeightsAndRound) {
  auto first = Simulate(Small(2));
  ASSERT_TRUE(first.ok()) << first.status();
  Config c = Small(3);
  c.server.resume_from = first->run_dir + "/checkpoints/latest.ckpt";
  c.training.learning_rate = 0;  // training keeps the weights as they are
  auto resumed = Simulate(c);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  const auto rounds = Records(resumed->run_dir, "round");
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_EQ(rounds[0]["round"], 3);
  EXPECT_EQ(resumed->summary["first_round"], 3);
  ASSERT_EQ(Records(resumed->run_dir, "resume").size(), 1u);
  // Same weights as after round 2, so the same test accuracy.
  const auto before = Records(first->run_dir, "round");
  EXPECT_DOUBLE_EQ(rounds[0]["accuracy"].template get<double>(),
                   before.back()["accuracy"].template get<double>());
}

// Runs `c` for 4 rounds, resumes it from its round-2 checkpoint (what a
// coordinator killed in round 3 left), and expects rounds 3 and 4 and the
// final model to be the same to the bit.
// The offload policy's state in a run's last checkpoint.
RunState PolicyState(const std::string& run_dir) {
  RunState state, out;
  auto w = DecodeCheckpoint(
      ReadFile(run_dir + "/checkpoints/latest.ckpt").value(), nullptr, &state);
  EXPECT_TRUE(w.ok()) << w.status();
  out.values = state.values.value("policy", nlohmann::json());
  for (const auto& [name, values] : state.arrays) {
    if (name.rfind("policy.", 0) == 0) out.arrays[name] = values;
  }
  return out;
}

// `same_policy_state`: the policy's last state must be the uninterrupted
// run's too (what it learnt may not show in its placements yet).
void ExpectResumedRunMatches(Config c, bool same_policy_state = false) {
  c.server.rounds = 4;
  const std::string dir = c.output.dir;
  auto whole = Simulate(c);
  ASSERT_TRUE(whole.ok()) << whole.status();
  c.output.dir = dir + "_resumed";
  c.server.resume_from = whole->run_dir + "/checkpoints/round-00002.ckpt";
  auto resumed = Simulate(c);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  for (const char* type : {"round", "device"}) {
    std::vector<nlohmann::json> want;
    for (const nlohmann::json& j : Records(whole->run_dir, type)) {
      if (j["round"].get<int>() > 2) want.push_back(WithoutWallClock(j));
    }
    std::vector<nlohmann::json> got;
    for (const nlohmann::json& j : Records(resumed->run_dir, type)) {
      got.push_back(WithoutWallClock(j));
    }
    ASSERT_EQ(got.size(), want.size()) << type;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].dump(), want[i].dump()) << type << " " << i;
    }
  }
  nlohmann::json a = WithoutWallClock(whole->summary);
  nlohmann::json b = WithoutWallClock(resumed->summary);
  EXPECT_EQ(b["first_round"], 3);
  a.erase("first_round");
  b.erase("first_round");
  EXPECT_EQ(a.dump(), b.dump());
  if (!same_policy_state) return;
  const RunState p = PolicyState(whole->run_dir);
  const RunState q = PolicyState(resumed->run_dir);
  EXPECT_FALSE(p.arrays.empty());
  EXPECT_EQ(p.values.dump(), q.values.dump());
  EXPECT_TRUE(p.arrays == q.arrays) << "the policy's arrays differ";
}

TEST(ResumeTest, FedAdamGoesOnAsTheUninterruptedRun) {
  Config c = ProfiledFleet("mlp", 800, "resume_fedadam", 2);
  c.strategy.name = "fedadam";
  c.strategy.params = {{"eta", 0.01}};
  ExpectResumedRunMatches(c);
}

TEST(ResumeTest, FedAvgMWithGreedyOffloadGoesOnAsTheUninterruptedRun) {
  // Greedy's link and speed estimates, the devices' last split points and
  // the auxiliary classifiers of local-loss offload are in the checkpoint.
  // slow-01's link drops in round 2: greedy plans round 3 on what it
  // measured then, not on the link the device advertises.
  Config c = ProfiledFleet("cnn", 400, "resume_fedavgm", 2);
  c.strategy.name = "fedavgm";
  c.strategy.params = {{"server_momentum", 0.9}};
  c.offload.policy = "greedy";
  c.offload.mode = OffloadMode::kLocalLoss;
  c.offload.link_guard = false;
  c.fleet.bandwidth_events.push_back({"slow-01", 2, 2, 1});
  ExpectResumedRunMatches(c);
}

TEST(ResumeTest, TorchScriptModelWithGreedyOffloadGoesOnAsTheUninterruptedRun) {
  // The zoo's cnn written in PyTorch: its own weights, its auxiliary
  // classifiers and the pinned cnn profile (same stage sizes) resume alike.
  Config c = ProfiledFleet("cnn", 400, "resume_torchscript", 2);
  c.model.name.clear();
  c.model.torchscript = test_models::TorchScriptModelFile("cnn");
  ASSERT_FALSE(c.model.torchscript.empty());
  c.offload.policy = "greedy";
  c.offload.mode = OffloadMode::kLocalLoss;
  ExpectResumedRunMatches(c);
}

TEST(ResumeTest, LearningPpoPolicyGoesOnAsTheUninterruptedRun) {
  // The agent's weights, Adam moments and recorded decisions, what the
  // policy measured of each device, its draw counts and its pending
  // decisions are in the checkpoint: it samples and updates every round,
  // so any of them lost changes rounds 3 and 4.
  Config c = ProfiledFleet("cnn", 400, "resume_ppo", 2);
  c.offload.policy = "ppo";
  c.offload.mode = OffloadMode::kLocalLoss;
  c.offload.ppo_load =
      std::string(TANDEM_SOURCE_DIR) + "/configs/policies/ppo-default.policy";
  c.offload.ppo_learn = true;
  c.offload.ppo_update_every = 1;
  ExpectResumedRunMatches(c, /*same_policy_state=*/true);
}

TEST(ResumeTest, RefusesBadCheckpoints) {
  auto first = Simulate(Small(2));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string good = first->run_dir + "/checkpoints/latest.ckpt";
  std::string bytes = ReadFile(good).value();
  bytes[bytes.size() / 2] ^= 0x5a;
  const std::string corrupt = ::testing::TempDir() + "/corrupt.ckpt";
  std::ofstream(corrupt, std::ios::binary) << bytes;

  struct Case {
    std::string path, model, expect;
    int rounds;
  };
  for (const Case& k : {Case{corrupt, "mlp", "CRC mismatch", 3},
                        Case{good, "cnn", "not a checkpoint of model 'cnn'", 3},
                        Case{good, "mlp", "no rounds left", 2},
                        Case{good + ".missing", "mlp", ".missing", 3}}) {
    Config c = Small(k.rounds);
    c.model.name = k.model;
    c.server.resume_from = k.path;
    auto r = Simulate(c);
    ASSERT_FALSE(r.ok()) << k.expect;
    EXPECT_NE(r.status().message().find("server.resume_from: " + k.path),
              std::string::npos)
        << r.status();
    EXPECT_NE(r.status().message().find(k.expect), std::string::npos)
        << r.status();
  }
}

}  // namespace
}  // namespace tandem::sim

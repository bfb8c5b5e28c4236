// Resuming from a checkpoint: the run goes on after the checkpoint's round,
// from its weights; a corrupt, foreign or finished checkpoint is refused
// with a message naming the file.
#include <fstream>

#include "core/run_writer.h"
#include "gtest/gtest.h"
#include "sim/fleet_simulator.h"
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

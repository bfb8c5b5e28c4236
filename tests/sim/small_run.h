// Small simulator runs for tests: a config to start from and its records.
#ifndef TANDEM_TESTS_SIM_SMALL_RUN_H_
#define TANDEM_TESTS_SIM_SMALL_RUN_H_

#include <string>
#include <vector>

#include "core/config.h"
#include "core/file_io.h"
#include "core/run_writer.h"
#include "core/weights_digest.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sim/fleet_simulator.h"

namespace tandem::sim {

// `devices` devices of one class "dev" training `model` on the first
// `train_limit` Fashion-MNIST images (100 test images per 50 training),
// all of them needed every round; no checkpoints; runs below the test's
// temp dir in `dir_name`.
inline Config SmallRun(const std::string& model, int devices, int rounds,
                       int64_t train_limit, const std::string& dir_name) {
  Config c;
  c.server.rounds = rounds;
  c.server.min_devices = devices;
  c.model.name = model;
  c.data.train_limit = train_limit;
  c.data.test_limit = train_limit / 2;
  c.strategy.min_updates = devices;
  c.fleet.classes.resize(1);
  c.fleet.classes[0].name = "dev";
  c.fleet.classes[0].count = devices;
  c.output.dir = ::testing::TempDir() + "/" + dir_name;
  c.output.checkpoints = false;
  return c;
}

// The metrics records of `run_dir` of one type ("round", "device", ...).
inline std::vector<nlohmann::json> Records(const std::string& run_dir,
                                           const std::string& type) {
  std::vector<nlohmann::json> out;
  const std::vector<nlohmann::json> metrics = ReadMetrics(run_dir).value();
  for (const nlohmann::json& j : metrics) {
    if (j["type"] == type) out.push_back(j);
  }
  return out;
}

// What may differ between two runs: measured wall-clock and CPU time.
inline const char* const kWallClockFields[] = {"wall_time_s", "round_wall_s",
                                               "cpu_s", "run_dir"};

inline nlohmann::json WithoutWallClock(nlohmann::json j) {
  for (const char* key : kWallClockFields) j.erase(key);
  if (j.contains("target") && j["target"].is_object()) {
    j["target"].erase("wall_time_s");
  }
  return j;
}

// Four devices in two classes (a slow one on a fast link, which offloading
// policies like) training `model` on `examples` Fashion-MNIST examples for
// 3 rounds, compute charged from the model's pinned profile.
inline Config ProfiledFleet(const std::string& model, int64_t examples,
                            const std::string& dir, int concurrency) {
  Config c = SmallRun(model, 4, 3, examples, dir);
  c.fleet.compute_time = ComputeTime::kProfiled;
  c.fleet.profile = std::string(TANDEM_SOURCE_DIR) + "/configs/profiles/" +
                    model + "-fashion-mnist.json";
  c.fleet.concurrency = concurrency;
  c.output.checkpoints = true;
  c.data.partition = "dirichlet";
  c.data.alpha = 0.5;
  c.fleet.classes.assign(2, c.fleet.classes[0]);
  c.fleet.classes[0].name = "slow";
  c.fleet.classes[0].count = 2;
  c.fleet.classes[0].device.slowdown = 40;
  c.fleet.classes[0].device.bandwidth_mbps = 1000;
  c.fleet.classes[1].name = "fast";
  c.fleet.classes[1].count = 2;
  c.fleet.classes[1].device.slowdown = 1;
  return c;
}

// A simulation's summary, metrics and the weights digest of its last
// checkpoint ("" without checkpoints); empty (and a test failure) when it
// failed.
struct RunOutput {
  nlohmann::json summary;
  std::vector<nlohmann::json> metrics;
  std::string checkpoint_sha256;
};

inline RunOutput SimulateAndRead(const Config& config) {
  SimOptions o;
  o.config = config;
  auto r = RunSimulation(o);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  RunOutput run;
  run.summary = r->summary;
  run.metrics = ReadMetrics(r->run_dir).value();
  if (!config.output.checkpoints) return run;
  auto latest = DecodeCheckpoint(
      ReadFile(r->run_dir + "/checkpoints/latest.ckpt").value(), nullptr);
  EXPECT_TRUE(latest.ok()) << latest.status();
  if (latest.ok()) run.checkpoint_sha256 = WeightsSha256(*latest);
  return run;
}

}  // namespace tandem::sim

#endif  // TANDEM_TESTS_SIM_SMALL_RUN_H_

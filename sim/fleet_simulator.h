// The fleet simulator: a coordinator and every device of the config's fleet
// in one process, talking real gRPC over an in-process channel, with
// virtual time (measured per-thread CPU x slowdown + bytes over each
// device's modelled link).
//
//   SimOptions o; o.config = config;
//   TANDEM_ASSIGN_OR_RETURN(SimResult r, RunSimulation(o));
#ifndef TANDEM_SIM_FLEET_SIMULATOR_H_
#define TANDEM_SIM_FLEET_SIMULATOR_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "ml/profile.h"
#include "nlohmann/json.hpp"

namespace tandem::sim {

struct SimOptions {
  Config config;
  std::string run_name = "sim";
  // Devices connect over TCP on 127.0.0.1 instead of the in-process channel.
  bool loopback = false;
  // Devices report measured wall time instead of virtual time.
  bool wall_time = false;
  // Called with each round's metrics line (progress printing).
  std::function<void(const nlohmann::json&)> on_round;
  // fleet.compute_time "profiled": the model profile to charge compute
  // with; measured at start when null. Runs to be compared share one.
  std::shared_ptr<const ml::ModelProfile> compute_profile;
};

struct SimResult {
  nlohmann::json summary;
  std::string run_dir;
};

absl::StatusOr<SimResult> RunSimulation(const SimOptions& options);

// Slice `index` of `count` of the config's fleet (devices [n * index / count,
// n * (index + 1) / count) in fleet order), as gRPC clients of the
// coordinator at `server` (tandem-server --fleet with the same config).
struct ShardSpec {
  int index = 0;
  int count = 1;
  std::string server;
};
struct ShardResult {
  int devices = 0;  // in the slice
  int failed = 0;   // whose agent ended with an error
};
// Returns when every device of the slice has ended (the coordinator said
// STOP, or a device gave up on it).
absl::StatusOr<ShardResult> RunShard(const SimOptions& options,
                                     const ShardSpec& shard);

// "round 3/10  devices 10/10  acc 84.21%  loss 0.431  round 12.3 s  virtual
// 40.2 s  wall 25.1 s": the progress line of one round's metrics.
std::string ProgressLine(const nlohmann::json& round, int total_rounds);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_FLEET_SIMULATOR_H_

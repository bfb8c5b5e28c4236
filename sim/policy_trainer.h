// Trains the PPO offload policy in the fleet simulator's cost-model mode:
// the config's fleet (speeds, links, bandwidth events, power) and the
// model's measured per-stage profile stand in for real training, so many
// episodes run in seconds. The link guard acts as in a run (a placement
// slower than local training at the round's link trains locally). The saved
// policy is then loaded by the
// coordinator (offload.ppo_load) and can keep learning online.
//
//   tandem-sim --config configs/fedadapt-5dev.json --train-policy
//              --policy-out ppo.policy [--episodes 300]
#ifndef TANDEM_SIM_POLICY_TRAINER_H_
#define TANDEM_SIM_POLICY_TRAINER_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "nlohmann/json.hpp"

namespace tandem::sim {

// Returns {episodes, rounds, baseline_slowest_s (no offload),
// first_episode_slowest_s, last_episode_slowest_s} (mean slowest round time
// per episode) and saves the policy to `out_path`.
absl::StatusOr<nlohmann::json> TrainOffloadPolicy(const Config& config,
                                                  int episodes,
                                                  const std::string& out_path);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_POLICY_TRAINER_H_

// Trains the ppo offload policy on the offload cost model (sim/cost_arena.h):
// many rounds in seconds instead of real training.
//
// With `randomize`, on a new random scenario every episode
// (sim/random_scenario.h: fleets of 2 to 50 devices, every zoo model, links
// that step, fade and drift), so the policy serves fleets it never saw;
// otherwise on the config's own fleet, links and model. The link guard acts
// as in a run. The agent is updated every `batch` decisions.
//
//   tandem-sim --train_policy --randomize --episodes 3000 --seed 1
//              --policy_out configs/policies/ppo-default.policy
//   tandem-sim --config configs/fedadapt-5dev.json --train_policy
//              --policy_out ppo.policy [--episodes 300]
#ifndef TANDEM_SIM_POLICY_TRAINER_H_
#define TANDEM_SIM_POLICY_TRAINER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "nlohmann/json.hpp"

namespace tandem::sim {

struct PolicyTraining {
  int episodes = 300;
  bool randomize = false;
  uint64_t seed = 1;  // the agent's and the scenarios'
  int rounds = 10;    // per random episode
  int batch = 2048;   // decisions per update
  std::string profiles_dir = "configs/profiles";  // randomize: zoo profiles
  // Start from the cost model's choice (offload/ppo_policy.h); false: from
  // a network alone (what tests of the learning itself want).
  bool cost_model_prior = true;
  double learning_rate = 0;  // 0: the policy's default
  std::string out_path;
  std::string command;  // written into the policy file: how it was made
};

// Returns {episodes, decisions, updates, wall_s, first and last tenth of
// the episodes' total time as a ratio to the bound (randomize) or mean
// slowest round (own fleet), policy_file} and saves the policy.
absl::StatusOr<nlohmann::json> TrainOffloadPolicy(const Config& config,
                                                  const PolicyTraining& t);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_POLICY_TRAINER_H_

// The best any offload policy could reach on a scenario, by the cost model:
// each device in each round at its fastest placement (split mode "exact" or
// "local_loss", and split point), knowing that round's bandwidth (or its traced
// links) in advance, each tail with a coordinator core of its own; every device
// also times its stages before round 1, as in a run. Ratios to no offload on
// the same model, so they say whether a goal such as "the slowest device's
// round 60% shorter" is reachable on a fleet at all.
//
//   tandem-sim --config configs/fedadapt-5dev.json --offload_bound
#ifndef TANDEM_SIM_OFFLOAD_BOUND_H_
#define TANDEM_SIM_OFFLOAD_BOUND_H_

#include "absl/status/statusor.h"
#include "core/config.h"
#include "ml/profile.h"
#include "nlohmann/json.hpp"

namespace tandem::sim {

// {model, stages: [{name, train_ms_per_100 (one core), out_bytes_per_example
//  (on the wire)}], input, rounds, slowest_mean_round_s {none, best, ratio},
//  total_time_s {none, best, ratio}, energy_j {none, best, ratio},
//  devices: [{id, examples, none_mean_round_s, best_mean_round_s,
//  placements: ["none" or "<mode>:<split>", per round]}],
//  exact_only: {slowest_mean_round_s, total_time_s, energy_j}: the same
//  with SplitFed-v1 ("exact") placements only}
// slowest_mean_round_s is the largest per-device mean over the rounds;
// total_time_s sums each round's slowest device; energy is at the fastest
// placements. Profiles the model on one core of this machine (a few seconds).
// `profile`: the model profile to use; measured here when null.
absl::StatusOr<nlohmann::json> ComputeOffloadBound(
    const Config& config, const ml::ModelProfile* profile = nullptr);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_OFFLOAD_BOUND_H_

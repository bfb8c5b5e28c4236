// Rounds played on the offload cost model instead of real training: a
// fleet (sim/cost_fleet.h), its links round by round, and a policy that
// chooses each device's placement and observes the outcomes, as the
// coordinator's policy does in a run. The link guard acts as in a run (a
// placement slower than local training at the round's link trains
// locally). The PPO trainer and the policy benchmarks play here.
#ifndef TANDEM_SIM_COST_ARENA_H_
#define TANDEM_SIM_COST_ARENA_H_

#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "offload/split_policy.h"
#include "sim/cost_fleet.h"

namespace tandem::sim {

struct CostScenario {
  Config config;  // training, offload and the fleet's bandwidth events
  offload::PolicyContext context;  // with the model's profile
  std::vector<CostDevice> fleet;
  // Per device, its link in each round (Mbit/s; round r at [r - 1], the
  // last value repeated after the end); empty: the config's classes and
  // bandwidth_events. Devices whose estimate has traced links follow their
  // traces instead, on the virtual clock.
  std::vector<std::vector<double>> mbps;
  // The virtual clock: when the next round PlayRound plays starts (each
  // round ends with its slowest device).
  double clock_s = 0;
};

// Device i's link in `round` (from 1).
double LinkAt(const CostScenario& s, size_t i, int round);

// The config's own fleet, links (bandwidth_events) and model, its profile
// pinned (fleet.profile) or measured on one core.
absl::StatusOr<CostScenario> ConfigScenario(const Config& config);

struct RoundPlay {
  double slowest_s = 0;          // the round's slowest device
  double energy_j = 0;           // the fleet's
  std::vector<double> device_s;  // each device's round, in fleet order
};

// One round at s.clock_s: the policy plans and chooses, the round is
// costed, the policy observes the outcomes; the clock moves on by the
// round's slowest device.
RoundPlay PlayRound(CostScenario& s, int round, offload::SplitPolicy& policy);

// The round's slowest device without offload, and with every device at its
// fastest placement knowing the round's link, its tail on a coordinator
// core of its own (sim/offload_bound.h, without the stage timing), for a
// round that starts at `start_s` on the virtual clock (traced links).
double NoneRound(const CostScenario& s, int round, double start_s);
double BoundRound(const CostScenario& s, int round, double start_s);
// Each device's round at that fastest placement, in fleet order.
std::vector<double> BoundDevices(const CostScenario& s, int round,
                                 double start_s);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_COST_ARENA_H_

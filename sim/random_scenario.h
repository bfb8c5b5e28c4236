// Random offload scenarios on the cost model, for training the ppo policy
// on fleets it will never see and for judging policies on fleets they were
// not trained on: 2 to 50 devices, slowdowns 1 to 50 and links 1 to 1,000
// Mbit/s (log-uniform), latency 0 to 100 ms, any of the pinned zoo
// profiles, and per device a bandwidth process: constant, a step down (and
// maybe back), two-state Markov on/off fading, or a slow multiplicative
// drift (per round); or, only when asked for, Markov on/off fading within
// rounds (kFadingTrace): both directions follow a two-state trace
// (sim/trace_generator.h) whose stays are 0.3 to 10 (good) and 0.2 to 3
// (bad) times the device's local round, from a random point. Everything is
// drawn from the given generator, so a seed names a scenario sequence.
#ifndef TANDEM_SIM_RANDOM_SCENARIO_H_
#define TANDEM_SIM_RANDOM_SCENARIO_H_

#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/profile.h"
#include "sim/cost_arena.h"

namespace tandem::sim {

// kAny draws one of kConstant .. kDrift per device, not kFadingTrace: the
// shipped ppo policy was trained on those (training on fading traces too
// was tried and did not help: docs/ppo-policy.md).
enum class LinkProcess {
  kAny,
  kConstant,
  kSteps,
  kMarkov,
  kDrift,
  kFadingTrace
};

struct ScenarioOptions {
  int min_devices = 2, max_devices = 50;
  double min_slowdown = 1, max_slowdown = 50;
  double min_mbps = 1, max_mbps = 1000;
  double max_latency_ms = 100;
  int rounds = 10;
  LinkProcess links = LinkProcess::kAny;  // kAny: one drawn per device
};

// A model's pinned profile (at any batch size) and its name.
struct NamedProfile {
  std::string model;
  ml::ModelProfile profile;
};

// The pinned Fashion-MNIST profiles of the zoo's models under `dir`
// (configs/profiles); errors name the file.
absl::StatusOr<std::vector<NamedProfile>> ZooProfiles(const std::string& dir);

// One device's link over `rounds` rounds of `process` around `base`
// (kAny: one of kConstant .. kDrift; kFadingTrace: constant here, the
// trace is drawn by DrawScenario).
std::vector<double> DrawLink(std::mt19937_64& rng, LinkProcess process,
                             double base, int rounds);

CostScenario DrawScenario(std::mt19937_64& rng,
                          const std::vector<NamedProfile>& profiles,
                          const ScenarioOptions& options);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_RANDOM_SCENARIO_H_

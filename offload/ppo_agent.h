// A PPO agent (actor and critic MLPs in LibTorch) with a multi-discrete
// action: one categorical choice per group (e.g. a split point per device
// group), as FedAdapt's offload agent. Torch-free interface.
//
//   TANDEM_ASSIGN_OR_RETURN(auto agent, PpoAgent::Create(options));
//   PpoAgent::Step s = agent->Act(state, /*deterministic=*/false);
//   agent->Record(s, reward);            // per environment step
//   TANDEM_RETURN_IF_ERROR(agent->Update());  // PPO epochs over the record
//
// Not thread-safe.
#ifndef TANDEM_OFFLOAD_PPO_AGENT_H_
#define TANDEM_OFFLOAD_PPO_AGENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/checkpoint.h"
#include "nlohmann/json.hpp"

namespace tandem::offload {

struct PpoOptions {
  int state_dim = 1;
  int groups = 1;   // independent categorical choices per step
  int actions = 2;  // choices per group
  int hidden = 64;
  double learning_rate = 3e-3;
  double gamma = 0.9;     // discount over the recorded steps
  double clip = 0.2;      // PPO ratio clipping
  int epochs = 8;         // optimisation passes per Update()
  double entropy = 0.01;  // entropy bonus
  uint64_t seed = 1;
};

class PpoAgent {
 public:
  struct Step {
    std::vector<float> state;
    std::vector<int> actions;  // one per group
    double log_prob = 0;       // of the actions under the acting policy
    double value = 0;          // critic's estimate of the state
  };

  static absl::StatusOr<std::unique_ptr<PpoAgent>> Create(
      const PpoOptions& options);
  ~PpoAgent();

  const PpoOptions& options() const;
  // Samples actions (or takes the most likely ones when deterministic).
  absl::StatusOr<Step> Act(const std::vector<float>& state, bool deterministic);
  void Record(const Step& step, double reward);
  int recorded() const;
  // PPO update on the recorded steps (discounted returns, normalised
  // advantages); clears the record.
  absl::Status Update();

  // Everything the agent carries between calls, for a checkpoint: the
  // networks' weights and Adam's moments and step counts (arrays
  // "<key>.<n>"), the sampling RNG and the steps recorded since the last
  // Update (values[key]). LoadState restores them into an agent of the same
  // options; nothing changes on error.
  void SaveState(const std::string& key, RunState* out) const;
  absl::Status LoadState(const std::string& key, const RunState& in);
  // A step as JSON, and back for an agent of `options` (false: malformed).
  static nlohmann::json StepToJson(const Step& step);
  static bool StepFromJson(const nlohmann::json& json,
                           const PpoOptions& options, Step* step);

  // A file with the options (JSON) and the networks' weights.
  absl::Status Save(const std::string& path) const;
  static absl::StatusOr<std::unique_ptr<PpoAgent>> Load(
      const std::string& path);

 private:
  struct Impl;
  explicit PpoAgent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_PPO_AGENT_H_

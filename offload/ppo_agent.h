// A PPO agent that scores candidates. One network, shared by every decision,
// maps a candidate's feature vector to a logit, and a decision is a softmax
// over the candidates offered, however many: so one agent decides for any
// fleet size and any model (a candidate is a device's placement). A critic
// maps the decision's context (the device) to the reward it expects.
// Each decision stands alone (a contextual bandit: the reward of a round's
// placement does not depend on later decisions), so the return is the
// reward itself and the advantage is reward - value. Torch-free interface.
//
//   TANDEM_ASSIGN_OR_RETURN(auto agent, PpoAgent::Create(options));
//   PpoAgent::Decision d = agent->Act(context, candidates, false, draw);
//   agent->Record(d, reward);
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
  int features = 1;  // per candidate
  int context = 1;   // per decision: the critic's input
  int hidden = 64;
  double learning_rate = 1e-3;
  double clip = 0.2;      // PPO ratio clipping
  int epochs = 8;         // optimisation passes per Update()
  double entropy = 0.01;  // entropy bonus
  uint64_t seed = 1;      // the networks' initial weights
  // A candidate's logit is the network's output minus prior_scale x its
  // feature prior_feature (-1: none): the network learns a correction to a
  // prior score, such as the cost model's (see offload/ppo_policy.h).
  int prior_feature = -1;
  double prior_scale = 0;
};

class PpoAgent {
 public:
  struct Decision {
    std::vector<float> context;
    std::vector<float> candidates;  // n x features, row-major
    int choice = 0;
    double log_prob = 0;  // of the choice under the acting policy
    double value = 0;     // the critic's estimate for the context
  };

  static absl::StatusOr<std::unique_ptr<PpoAgent>> Create(
      const PpoOptions& options);
  ~PpoAgent();

  const PpoOptions& options() const;
  // Picks one of the candidates (at least one): the most likely when
  // deterministic, else a draw seeded by `draw` alone, so decisions do not
  // depend on the order they are asked in.
  absl::StatusOr<Decision> Act(const std::vector<float>& context,
                               const std::vector<float>& candidates,
                               bool deterministic, uint64_t draw) const;
  void Record(const Decision& decision, double reward);
  int recorded() const;
  // PPO update on the recorded decisions (normalised advantages); clears
  // the record.
  absl::Status Update();

  // Everything the agent carries between calls, for a checkpoint: the
  // networks' weights and Adam's moments and step counts (arrays
  // "<key>.<n>"), and the decisions recorded since the last Update
  // (values[key]). LoadState restores them into an agent of the same
  // options; nothing changes on error.
  void SaveState(const std::string& key, RunState* out) const;
  absl::Status LoadState(const std::string& key, const RunState& in);
  static nlohmann::json DecisionToJson(const Decision& decision);
  // False when malformed for an agent of `options`.
  static bool DecisionFromJson(const nlohmann::json& json,
                               const PpoOptions& options, Decision* decision);

  // A policy file: a format line, the options and `about` (JSON: how it was
  // made), then the networks' weights with a CRC. Written atomically.
  absl::Status Save(const std::string& path, const nlohmann::json& about) const;
  // Errors name the path and what is wrong (not a policy file, another
  // format version, truncated, corrupt).
  static absl::StatusOr<std::unique_ptr<PpoAgent>> Load(
      const std::string& path, nlohmann::json* about = nullptr);

 private:
  struct Impl;
  explicit PpoAgent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_PPO_AGENT_H_

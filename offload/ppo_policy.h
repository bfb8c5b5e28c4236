// The ppo offload policy: one network, shared by every device, scores each
// device's legal placements (mode x split point, masked by its memory
// budget) from what the coordinator measured of it (offload/ppo_features.h)
// and picks one per device every round. A device that drops out is decided
// alone; fleets of any size and every model use the same network.
//
// The network scores a placement as a learnt correction to the cost
// model's score (PpoOptions::prior_feature): untrained, it chooses as greedy
// does; training teaches it where the cost model's plan on the last
// measured link is wrong (links that fade and recover, tails that share the
// coordinator, memory).
//
// Reward of a device's decision, measured when the round closes (each
// decision stands alone, see offload/ppo_agent.h):
//   r = -(0.75 x own + 0.25 x slowest),
//   own     = alpha x T / T_local + (1 - alpha) x E / E_local
//   slowest = max over the round's devices of T / max of T_local
// where T_local (E_local) is the cost model's time (energy) of training
// locally at the link and speed measured in that round. Ratios, so fleets
// of any speed train alike; the slowest term is the goal (the round lasts
// as long as its slowest device), the own term gives each device credit for
// its own choice, and weighs most: it is what the decision changes.
//
// Never worse than local: where the cost model says the chosen placement
// is slower than local training by more than kLocalMargin (its score, at the
// link the plan assumes: under the link guard the best of the last three,
// as greedy's, since the guard catches a link that has dropped since), the
// device trains locally; PpoOverrides() counts how often.
//
// Without offload.ppo_load the policy starts from the shipped, pre-trained
// network (kDefaultPolicyFile, relative to the working folder, as pinned
// profiles are). It acts deterministically (the most likely placement)
// unless offload.ppo_learn, when it samples and updates every
// offload.ppo_update_every rounds.
#ifndef TANDEM_OFFLOAD_PPO_POLICY_H_
#define TANDEM_OFFLOAD_PPO_POLICY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "offload/ppo_agent.h"
#include "offload/split_policy.h"

namespace tandem::offload {

inline constexpr char kDefaultPolicyFile[] =
    "configs/policies/ppo-default.policy";
inline constexpr double kLocalMargin = 0.05;

// The options of a new, untrained agent for this policy.
PpoOptions PpoPolicyAgentOptions(uint64_t seed);

// Loads offload.ppo_load (or kDefaultPolicyFile); errors name the file.
absl::StatusOr<std::unique_ptr<SplitPolicy>> CreatePpoPolicy(
    const OffloadConfig& config, const PolicyContext& context);

// With a given agent, shared with its other users (the trainer's fleets).
// `override_to_local` false: kLocalMargin does not apply.
absl::StatusOr<std::unique_ptr<SplitPolicy>> CreatePpoPolicyWithAgent(
    const OffloadConfig& config, const PolicyContext& context,
    std::shared_ptr<PpoAgent> agent, bool override_to_local = true);

// The placements the policy overrode to local (kLocalMargin) so far; 0 for
// any other policy.
int64_t PpoOverrides(const SplitPolicy& policy);

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_PPO_POLICY_H_

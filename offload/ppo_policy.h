// The PPO offload policy (FedAdapt's form, improved): devices are grouped by
// k-means on their measured compute time and link throughput; the state
// holds, per group, the normalised compute time, the log link throughput
// and the current split point; the action is one split point per group; the
// reward is the time saved against the first (no-offload) round:
//   r = (T_baseline - T_round) / T_baseline, T = slowest device's round time.
// Bandwidth is in the state, so the agent can react when a link drops.
#ifndef TANDEM_OFFLOAD_PPO_POLICY_H_
#define TANDEM_OFFLOAD_PPO_POLICY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "offload/split_policy.h"

namespace tandem::offload {

// The device grouping and a new agent are seeded with context.seed (an agent
// from offload.ppo_load keeps the seed it was saved with).
absl::StatusOr<std::unique_ptr<SplitPolicy>> CreatePpoPolicy(
    const OffloadConfig& config, const PolicyContext& context);

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_PPO_POLICY_H_

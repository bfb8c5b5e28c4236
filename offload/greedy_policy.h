// The greedy offload policy: for each device, the placement (split point and,
// under offload.mode "auto", split mode) that minimises alpha x T + (1 -
// alpha) x E under the cost model (normalised by the no-offload values),
// excluding placements over the device class's memory budget.
// In its first round a device is placed from the stage timing it reported
// before its first task and its advertised link; a device that reported
// none trains locally that round. From then on its compute speed and link
// throughput are the ones measured in its rounds: small changes are
// averaged, a change over 25% is taken as measured. Under the link guard
// (alpha 1) it plans with the best link of the device's last 3 rounds: the
// guard catches a link that is still low on the task download.
#ifndef TANDEM_OFFLOAD_GREEDY_POLICY_H_
#define TANDEM_OFFLOAD_GREEDY_POLICY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "offload/split_policy.h"

namespace tandem::offload {

absl::StatusOr<std::unique_ptr<SplitPolicy>> CreateGreedyPolicy(
    const OffloadConfig& config, const PolicyContext& context);

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_GREEDY_POLICY_H_

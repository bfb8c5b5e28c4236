// The greedy offload policy: for each device, the split point that
// minimises alpha x T + (1 - alpha) x E under the cost model (normalised by
// the no-offload values), excluding splits over the device class's memory
// budget. Each device trains its first round without offload; from then on
// its compute speed and link throughput are the ones measured in its rounds
// (exponentially averaged), not its advertised profile.
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

// Client sampling: which of the available devices train in a round.
//
//   TANDEM_ASSIGN_OR_RETURN(std::vector<std::string> chosen,
//                           SampleDevices(available, 0.1, 2, seed, round));
#ifndef TANDEM_STRATEGIES_SAMPLING_H_
#define TANDEM_STRATEGIES_SAMPLING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tandem {

// Picks k = min(n, max(min_devices, ceil(fraction * n))) of the n available
// devices uniformly without replacement, and returns them sorted. The choice
// depends only on (seed, round) and the set of ids, not on their order or
// the platform.
//
// Errors: InvalidArgument when fraction is not in (0, 1], min_devices < 1 or
// an id repeats; FailedPrecondition when fewer than min_devices are
// available (the coordinator waits for more devices rather than running an
// undersized round).
//
// With over_selection > 1 (over-selection), it samples min(n,
// ceil(k * over_selection)) devices instead; the first k of its draws are
// the devices it would sample without, so over-selection only adds devices.
absl::StatusOr<std::vector<std::string>> SampleDevices(
    const std::vector<std::string>& available, double fraction, int min_devices,
    uint64_t seed, int64_t round, double over_selection = 1);

// `k` of `available` (distinct; all of them when fewer), uniformly at random
// from (seed, salt), in id order.
std::vector<std::string> PickDevices(std::vector<std::string> available,
                                     int64_t k, uint64_t seed, uint64_t salt);

// k above: how many of `n` available devices a round aggregates.
int64_t SampleSize(int64_t n, double fraction, int min_devices);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_SAMPLING_H_

// Central differential privacy with fixed clipping (McMahan et al., "Learning
// Differentially Private Recurrent Language Models", 2018), as two strategy
// wrappers around a FedAvg-family strategy:
//
//   "dp_fixed_server": the server clips each update's parameter delta to
//       clipping_norm, then adds noise.
//   "dp_fixed_client": devices clip with ClipUpdate (the coordinator sends
//       Strategy::client_clipping_norm()); the server checks the bound,
//       rejecting larger updates as norm_too_large, and adds noise.
//
// params: {"inner": "fedavg", "inner_params": {...},
//          "noise_multiplier": z, "clipping_norm": C,
//          "weighting": "unweighted" | "examples"}
// inner is one of fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad.
//
// The wrapper computes the noisy mean itself and passes it to the inner
// strategy as one update, so the inner server optimiser only post-processes
// privatised data:
//   parameters: mean = (1/n) sum_k clip(d_k) + N(0, (z * C / n)^2) per value,
//       n = accepted updates. Unweighted: sample weights would raise the
//       sensitivity above C / n. Flower divides by the number sampled; using
//       the number received gives at least as much noise.
//       With "weighting": "examples" (Flower's inner FedAvg), the mean is
//       sum_k s_k clip(d_k) / sum_k s_k, s_k = num_samples, with the same
//       noise: then one device's reported count can scale its influence up
//       to C, and z no longer measures the privacy the noise buys.
//   buffers: sample-weighted mean, neither clipped nor noised (batch-norm
//       statistics are not privatised; use a model without them when that
//       matters).
// max_update_norm still applies, to the update before clipping. The noise
// is seeded from (StrategyOptions::seed, round, rounds finished so far) and
// the deltas are summed in ascending device-id order, so a round replays bit
// for bit whatever order its updates arrived in.
#ifndef TANDEM_STRATEGIES_DP_FIXED_CLIPPING_H_
#define TANDEM_STRATEGIES_DP_FIXED_CLIPPING_H_

#include "absl/status/status.h"
#include "core/weights.h"

namespace tandem {

// Scales the parameter part of (local - global) so its L2 norm is at most
// clipping_norm, in place; buffers are not touched. Errors (local unchanged):
// layouts differ, clipping_norm not positive and finite, or a non-finite
// value in local.
absl::Status ClipUpdate(const Weights& global, Weights& local,
                        double clipping_norm);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_DP_FIXED_CLIPPING_H_

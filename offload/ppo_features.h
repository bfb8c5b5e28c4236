// What the ppo policy's network sees of one device: a context (the device,
// its link's recent history, the coordinator's load) and, per legal
// placement, the cost model's prediction of its round against training
// locally at the link as it is now, at its recent mean, low and high, its
// energy, and what kind of placement it is. The features do not depend on
// the model, its number of stages or the fleet's size, so one network
// serves them all. The cost model is the policy's model of the world; what
// the network learns is how far to trust it on a link that moves.
#ifndef TANDEM_OFFLOAD_PPO_FEATURES_H_
#define TANDEM_OFFLOAD_PPO_FEATURES_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "offload/cost_model.h"
#include "offload/split_policy.h"

namespace tandem::offload {

inline constexpr int kContextFeatures = 11;
inline constexpr int kPlacementFeatures = 10;
// The placement feature that is the cost model's score of a placement,
// greedy's: alpha x ln(T / T_local) + (1 - alpha) x ln(E / E_local) at the
// link greedy plans with (the best recent one under the link guard, else
// the last).
inline constexpr int kCostModelScore = 9;
// A candidate's input: its placement features, then the context.
inline constexpr int kCandidateFeatures = kPlacementFeatures + kContextFeatures;

// The recent link measurements of a device, newest last (Mbit/s): the last,
// their mean and lowest, and the best of the last kGuardedLinkMemory.
struct LinkStats {
  double now = 0, mean = 0, low = 0, high = 0;
  double cv = 0;     // standard deviation / mean
  double trend = 0;  // ln(now / mean)
  int measured = 0;  // measurements behind it
};
// `recent` must not be empty.
LinkStats LinkStatsOf(const std::deque<double>& recent);

// A device as the policy sees it when it chooses.
struct DeviceSituation {
  DeviceEstimate estimate;  // speed, powers, memory budget; link from `link`
  LinkStats link;
  int64_t examples = 0;
  Placement current;          // last round's; split num_stages: none
  bool guarded = false;       // its last offload ran locally (the link guard)
  int others_offloading = 0;  // devices offloading last round, not this one
  int fleet = 1;              // devices in last round
};

struct PlacementChoices {
  // The legal placements (those that fit the memory budget, or the one
  // that needs least memory when none fits), costed at link.now; the
  // no-offload entry is last when legal.
  std::vector<SplitCost> costs;
  SplitCost local;              // training locally, at link.now
  std::vector<float> context;   // kContextFeatures
  std::vector<float> features;  // costs.size() x kCandidateFeatures
};

// `guarded`: the coordinator's link guard is on for this policy.
PlacementChoices DescribeChoices(const PolicyContext& context,
                                 const DeviceSituation& device, double alpha,
                                 bool guarded);

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_PPO_FEATURES_H_

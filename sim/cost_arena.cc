#include "sim/cost_arena.h"

#include <algorithm>

#include "core/device_model.h"
#include "core/status_macros.h"
#include "ml/run_profile.h"

namespace tandem::sim {
namespace {

offload::DeviceEstimate EstimateAt(const CostScenario& s, size_t i, int round,
                                   double start_s) {
  offload::DeviceEstimate e = s.fleet[i].estimate;
  e.bandwidth_mbps = LinkAt(s, i, round);
  e.start_s = start_s;
  return e;
}

}  // namespace

double LinkAt(const CostScenario& s, size_t i, int round) {
  if (s.mbps.empty()) {
    return BandwidthAt(s.config.fleet.bandwidth_events, s.fleet[i].view.id,
                       round, s.fleet[i].estimate.bandwidth_mbps);
  }
  const std::vector<double>& m = s.mbps[i];
  return m[std::clamp<size_t>(round - 1, 0, m.size() - 1)];
}

absl::StatusOr<CostScenario> ConfigScenario(const Config& config) {
  TANDEM_ASSIGN_OR_RETURN(const FleetData data, LoadFleetData(config));
  TANDEM_ASSIGN_OR_RETURN(ml::ModelProfile profile,
                          ml::ProfileOnOneCore(config, data.input));
  CostScenario s;
  s.config = config;
  TANDEM_ASSIGN_OR_RETURN(s.context,
                          offload::PolicyContextFromConfig(
                              config, static_cast<int>(profile.stages.size())));
  s.context.profile = std::move(profile);
  TANDEM_ASSIGN_OR_RETURN(s.fleet, CostFleet(config, data, s.context.profile));
  return s;
}

RoundPlay PlayRound(CostScenario& s, int round, offload::SplitPolicy& policy) {
  const offload::PolicyContext& ctx = s.context;
  std::vector<offload::DeviceView> views;
  for (const CostDevice& d : s.fleet) views.push_back(d.view);
  policy.Plan(views);
  std::vector<offload::Placement> placed;
  int offloading = 0;
  for (CostDevice& d : s.fleet) {
    placed.push_back(policy.Choose(d.view));
    offloading += placed.back().split < ctx.num_stages ? 1 : 0;
  }
  std::vector<offload::DeviceOutcome> outcomes;
  RoundPlay play;
  for (size_t i = 0; i < s.fleet.size(); ++i) {
    const offload::DeviceEstimate e = EstimateAt(s, i, round, s.clock_s);
    offload::RoundShape shape =
        offload::RoundShapeOf(ctx, s.fleet[i].view.examples, offloading);
    shape.mode = placed[i].mode;
    const std::vector<offload::SplitCost> costs =
        offload::EvaluateSplits(ctx.profile, e, shape);
    offload::SplitCost cost = costs[placed[i].split - 1];
    if (s.config.offload.link_guard && cost.time_s > costs.back().time_s) {
      cost = costs.back();
    }
    offload::DeviceOutcome o;
    o.id = s.fleet[i].view.id;
    o.split = cost.split;
    o.mode = cost.mode;
    o.compute_s = cost.device_compute_s;
    o.tail_s = cost.tail_s;
    o.round_time_s = cost.time_s;
    o.energy_j = cost.energy_j;
    o.samples = s.fleet[i].view.examples;
    o.batches = static_cast<int64_t>(offload::BatchSizes(shape).size());
    // The time the link took, latencies included, and the bytes it moved,
    // as a device reports them (offload::OutcomeMbps takes them apart).
    o.link_s = cost.up_s + cost.down_s;
    const bool exact =
        cost.split < ctx.num_stages && cost.mode == SplitMode::kExact;
    const double moving_s =
        o.link_s - (2 + (exact ? 2.0 * o.batches : 0)) * e.latency_ms / 1e3;
    o.bytes = e.traced() ? static_cast<int64_t>(cost.bytes)
                         : static_cast<int64_t>(std::max(0.0, moving_s) *
                                                e.bandwidth_mbps * 1e6 / 8);
    outcomes.push_back(o);
    s.fleet[i].view.last_split = cost.split;
    play.slowest_s = std::max(play.slowest_s, cost.time_s);
    play.device_s.push_back(cost.time_s);
    play.energy_j += cost.energy_j;
  }
  policy.Observe(round, outcomes);
  s.clock_s += play.slowest_s;
  return play;
}

double NoneRound(const CostScenario& s, int round, double start_s) {
  double slowest = 0;
  for (size_t i = 0; i < s.fleet.size(); ++i) {
    const auto costs = offload::EvaluateSplits(
        s.context.profile, EstimateAt(s, i, round, start_s),
        offload::RoundShapeOf(s.context, s.fleet[i].view.examples, 0));
    slowest = std::max(slowest, costs.back().time_s);
  }
  return slowest;
}

std::vector<double> BoundDevices(const CostScenario& s, int round,
                                 double start_s) {
  std::vector<double> out;
  for (size_t i = 0; i < s.fleet.size(); ++i) {
    offload::RoundShape shape =
        offload::RoundShapeOf(s.context, s.fleet[i].view.examples, 0);
    shape.tail_share = 1;
    const auto costs = offload::EvaluatePlacements(
        s.context.profile, EstimateAt(s, i, round, start_s), shape,
        s.context.modes);
    out.push_back(costs[offload::ChoosePlacement(costs, 1.0)].time_s);
  }
  return out;
}

double BoundRound(const CostScenario& s, int round, double start_s) {
  const std::vector<double> devices = BoundDevices(s, round, start_s);
  return devices.empty() ? 0
                         : *std::max_element(devices.begin(), devices.end());
}

}  // namespace tandem::sim

#include "sim/policy_trainer.h"

#include <algorithm>
#include <vector>

#include "core/device_model.h"
#include "core/status_macros.h"
#include "ml/profile.h"
#include "offload/cost_model.h"
#include "offload/split_policy.h"
#include "sim/cost_fleet.h"

namespace tandem::sim {
namespace {

// One round of the cost-model fleet under `policy`; returns the slowest
// device's round time.
double PlayRound(const Config& c, const offload::PolicyContext& ctx,
                 std::vector<CostDevice>& fleet, int round,
                 offload::SplitPolicy& policy) {
  std::vector<offload::DeviceView> views;
  for (const CostDevice& d : fleet) views.push_back(d.view);
  policy.Plan(views);
  std::vector<offload::Placement> placed;
  int offloading = 0;
  for (CostDevice& d : fleet) {
    placed.push_back(policy.Choose(d.view));
    offloading += placed.back().split < ctx.num_stages ? 1 : 0;
  }
  offload::RoundShape shape;
  std::vector<offload::DeviceOutcome> outcomes;
  double slowest = 0;
  for (size_t i = 0; i < fleet.size(); ++i) {
    offload::DeviceEstimate e = fleet[i].estimate;
    e.bandwidth_mbps = BandwidthAt(c.fleet.bandwidth_events, fleet[i].view.id,
                                   round, e.bandwidth_mbps);
    shape = offload::RoundShapeOf(ctx, fleet[i].view.examples, offloading);
    shape.mode = placed[i].mode;
    const std::vector<offload::SplitCost> costs =
        offload::EvaluateSplits(ctx.profile, e, shape);
    offload::SplitCost cost = costs[placed[i].split - 1];
    // offload.link_guard: a device whose link this round is below its
    // placement's break-even trains locally instead, as in a run.
    if (c.offload.link_guard && cost.time_s > costs.back().time_s) {
      cost = costs.back();
    }
    offload::DeviceOutcome o;
    o.id = fleet[i].view.id;
    o.split = cost.split;
    o.mode = cost.mode;
    o.compute_s = cost.device_compute_s;
    o.tail_s = cost.tail_s;
    o.link_s = cost.up_s + cost.down_s;
    o.round_time_s = cost.time_s;
    o.energy_j = cost.energy_j;
    o.samples = fleet[i].view.examples;
    o.bytes = static_cast<int64_t>(o.link_s * e.bandwidth_mbps * 1e6 / 8);
    outcomes.push_back(o);
    fleet[i].view.last_split = cost.split;
    slowest = std::max(slowest, cost.time_s);
  }
  policy.Observe(round, outcomes);
  return slowest;
}

// The slowest device's round time in round 1 without offload.
double SlowestWithoutOffload(const Config& c, const offload::PolicyContext& ctx,
                             const std::vector<CostDevice>& fleet) {
  double slowest = 0;
  for (const CostDevice& d : fleet) {
    offload::DeviceEstimate e = d.estimate;
    e.bandwidth_mbps =
        BandwidthAt(c.fleet.bandwidth_events, d.view.id, 1, e.bandwidth_mbps);
    const auto costs = offload::EvaluateSplits(
        ctx.profile, e, offload::RoundShapeOf(ctx, d.view.examples, 0));
    slowest = std::max(slowest, costs.back().time_s);
  }
  return slowest;
}

}  // namespace

absl::StatusOr<nlohmann::json> TrainOffloadPolicy(const Config& config,
                                                  int episodes,
                                                  const std::string& out_path) {
  if (config.TotalDevices() == 0 || episodes < 1) {
    return absl::InvalidArgumentError(
        "train-policy: needs a fleet and at least one episode");
  }
  Config c = config;
  c.offload.policy = "ppo";
  c.offload.ppo_learn = true;
  c.offload.ppo_save = out_path;
  TANDEM_ASSIGN_OR_RETURN(const FleetData data, LoadFleetData(c));
  TANDEM_ASSIGN_OR_RETURN(ml::ModelProfile profile,
                          offload::ProfileOnOneCore(c, data.input));
  TANDEM_ASSIGN_OR_RETURN(offload::PolicyContext ctx,
                          offload::PolicyContextFromConfig(
                              c, static_cast<int>(profile.stages.size())));
  ctx.profile = std::move(profile);
  TANDEM_ASSIGN_OR_RETURN(auto policy,
                          offload::CreateSplitPolicy(c.offload, ctx));
  std::vector<CostDevice> fleet = CostFleet(c, data, ctx.profile);
  double first = 0, last = 0;
  const double baseline = SlowestWithoutOffload(c, ctx, fleet);
  for (int ep = 0; ep < episodes; ++ep) {
    double sum = 0;
    for (int r = 1; r <= c.server.rounds; ++r) {
      const double t = PlayRound(c, ctx, fleet, r, *policy);
      sum += t;
    }
    (ep == 0 ? first : last) = sum / c.server.rounds;
  }
  if (episodes == 1) last = first;
  TANDEM_RETURN_IF_ERROR(policy->Finish());
  return nlohmann::json{
      {"episodes", episodes},           {"rounds", c.server.rounds},
      {"baseline_slowest_s", baseline}, {"first_episode_slowest_s", first},
      {"last_episode_slowest_s", last}, {"policy_file", out_path}};
}

}  // namespace tandem::sim

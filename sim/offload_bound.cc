#include "sim/offload_bound.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/device_model.h"
#include "core/status_macros.h"
#include "ml/run_profile.h"
#include "offload/cost_model.h"
#include "offload/split_policy.h"
#include "sim/cost_fleet.h"

namespace tandem::sim {
namespace {

struct Totals {
  double none = 0, best = 0;
};

nlohmann::json Ratio(const Totals& t) {
  return {{"none", t.none},
          {"best", t.best},
          {"ratio", t.none > 0 ? t.best / t.none : 0}};
}

// The compute a device spends timing its stages before its first task.
double StageTimingSeconds(const offload::DeviceView& device) {
  double per_example = 0;
  for (double t : device.stage_seconds) per_example += t;
  return per_example * ml::kStageTimingExamples;
}

// "none", or "<mode>:<split point>".
std::string PlacementName(const offload::SplitCost& c, int stages) {
  if (c.split >= stages) return "none";
  return absl::StrCat(SplitModeName(c.mode), ":", c.split);
}

// Every device at its fastest placement in `modes`, every round.
struct BoundPlay {
  Totals slowest_mean, total, energy;
  nlohmann::json devices = nlohmann::json::array();
};

BoundPlay Play(const Config& config, const offload::PolicyContext& ctx,
               const std::vector<CostDevice>& fleet,
               const std::vector<SplitMode>& modes) {
  const int rounds = config.server.rounds;
  const int stages = ctx.num_stages;
  BoundPlay out;
  std::vector<Totals> device_time(fleet.size());
  std::vector<nlohmann::json> placements(fleet.size(), nlohmann::json::array());
  Totals clock;  // when the round starts without offload and at the bound
  for (int r = 1; r <= rounds; ++r) {
    Totals slowest;
    for (size_t i = 0; i < fleet.size(); ++i) {
      offload::DeviceEstimate e = fleet[i].estimate;
      e.bandwidth_mbps = BandwidthAt(config.fleet.bandwidth_events,
                                     fleet[i].view.id, r, e.bandwidth_mbps);
      offload::RoundShape shape =
          offload::RoundShapeOf(ctx, fleet[i].view.examples, 0);
      // Each tail with a coordinator core to itself: no run's tail is
      // faster (the simulator charges max(1, k / server_cores) of it).
      shape.tail_share = 1;
      e.start_s = clock.best;
      const auto costs =
          offload::EvaluatePlacements(ctx.profile, e, shape, modes);
      // The fastest placement (the fleet has no memory budgets).
      const offload::SplitCost& best =
          costs[offload::ChoosePlacement(costs, /*alpha=*/1.0)];
      // On traced links no offload starts its rounds at its own times.
      e.start_s = clock.none;
      const offload::SplitCost none =
          e.traced()
              ? offload::EvaluatePlacements(ctx.profile, e, shape, modes).back()
              : costs.back();
      // Whatever the policy, a device times its stages before round 1.
      const double timing = r == 1 ? StageTimingSeconds(fleet[i].view) : 0;
      const double none_s = none.time_s + timing;
      const double best_s = best.time_s + timing;
      const double timing_j = timing * e.power_compute_w;
      device_time[i].none += none_s / rounds;
      device_time[i].best += best_s / rounds;
      out.energy.none += none.energy_j + timing_j;
      out.energy.best += best.energy_j + timing_j;
      slowest.none = std::max(slowest.none, none_s);
      slowest.best = std::max(slowest.best, best_s);
      placements[i].push_back(PlacementName(best, stages));
    }
    out.total.none += slowest.none;
    out.total.best += slowest.best;
    clock = out.total;
  }
  for (size_t i = 0; i < fleet.size(); ++i) {
    out.slowest_mean.none =
        std::max(out.slowest_mean.none, device_time[i].none);
    out.slowest_mean.best =
        std::max(out.slowest_mean.best, device_time[i].best);
    out.devices.push_back({{"id", fleet[i].view.id},
                           {"examples", fleet[i].view.examples},
                           {"none_mean_round_s", device_time[i].none},
                           {"best_mean_round_s", device_time[i].best},
                           {"placements", placements[i]}});
  }
  return out;
}

nlohmann::json StagesJson(const offload::PolicyContext& ctx) {
  nlohmann::json stages = nlohmann::json::array();
  for (const ml::StageProfile& st : ctx.profile.stages) {
    stages.push_back(
        {{"name", st.name},
         {"train_ms_per_100", 1e5 * st.TrainSeconds(ctx.profile.batch_size)},
         {"aux_ms_per_100", 1e5 * st.AuxSeconds(ctx.profile.batch_size)},
         {"out_bytes_per_example", st.out_elements * ctx.activation_bytes}});
  }
  return stages;
}

}  // namespace

absl::StatusOr<nlohmann::json> ComputeOffloadBound(
    const Config& config, const ml::ModelProfile* given) {
  if (config.TotalDevices() == 0 || config.server.rounds < 1) {
    return absl::InvalidArgumentError(
        "offload bound: needs a fleet and at least one round");
  }
  TANDEM_ASSIGN_OR_RETURN(const FleetData data, LoadFleetData(config));
  const ml::InputShape input = data.input;
  ml::ModelProfile profile;
  if (given != nullptr) {
    profile = *given;
  } else {
    TANDEM_ASSIGN_OR_RETURN(profile, ml::ProfileOnOneCore(config, input));
  }
  const int stages = static_cast<int>(profile.stages.size());
  TANDEM_ASSIGN_OR_RETURN(offload::PolicyContext ctx,
                          offload::PolicyContextFromConfig(config, stages));
  ctx.profile = std::move(profile);
  TANDEM_ASSIGN_OR_RETURN(const std::vector<CostDevice> fleet,
                          CostFleet(config, data, ctx.profile));
  const BoundPlay both =
      Play(config, ctx, fleet, {SplitMode::kExact, SplitMode::kLocalLoss});
  const BoundPlay exact = Play(config, ctx, fleet, {SplitMode::kExact});
  return nlohmann::json{{"model", config.model.id()},
                        {"stages", StagesJson(ctx)},
                        {"input", {input.channels, input.height, input.width}},
                        {"rounds", config.server.rounds},
                        {"slowest_mean_round_s", Ratio(both.slowest_mean)},
                        {"total_time_s", Ratio(both.total)},
                        {"energy_j", Ratio(both.energy)},
                        {"devices", both.devices},
                        {"exact_only",
                         {{"slowest_mean_round_s", Ratio(exact.slowest_mean)},
                          {"total_time_s", Ratio(exact.total)},
                          {"energy_j", Ratio(exact.energy)}}}};
}

}  // namespace tandem::sim

#include "server/offload_planner.h"

#include <algorithm>

#include "core/status_macros.h"
#include "ml/run_profile.h"
#include "ml/split_weights.h"

namespace tandem::server {

offload::DeviceView ViewOf(const DeviceRecord& d) {
  offload::DeviceView view;
  view.id = d.id;
  view.device_class = d.profile.device_class();
  view.device = FromHardwareProfile(d.profile);
  view.last_split = d.last_split;
  view.stage_seconds = d.stage_seconds;
  view.examples = d.timed_examples;
  return view;
}

absl::StatusOr<std::unique_ptr<OffloadPlanner>> OffloadPlanner::Create(
    const Config& config, const ml::InputShape& input, int num_stages,
    std::shared_ptr<const ml::ModelProfile> profile) {
  TANDEM_ASSIGN_OR_RETURN(offload::PolicyContext c,
                          offload::PolicyContextFromConfig(config, num_stages));
  if (profile != nullptr) {
    c.profile = *profile;
  } else if (offload::PolicyNeedsProfile(config.offload)) {
    TANDEM_ASSIGN_OR_RETURN(c.profile, ml::ProfileOnOneCore(config, input));
  }
  TANDEM_ASSIGN_OR_RETURN(auto policy,
                          offload::CreateSplitPolicy(config.offload, c));
  return std::unique_ptr<OffloadPlanner>(
      new OffloadPlanner(config, std::move(c), std::move(policy)));
}

OffloadPlanner::OffloadPlanner(const Config& config,
                               offload::PolicyContext context,
                               std::unique_ptr<offload::SplitPolicy> policy)
    : config_(config),
      context_(std::move(context)),
      policy_(std::move(policy)) {}

bool OffloadPlanner::LinkGuardOn() const {
  return offload::LinkGuardApplies(config_.offload) &&
         static_cast<int>(context_.profile.stages.size()) ==
             context_.num_stages;
}

void OffloadPlanner::Plan(FleetRegistry& registry, const Weights& global,
                          RoundState* r) {
  const int stages = context_.num_stages;
  std::vector<offload::DeviceView> views;
  for (const std::string& id : r->sampled) {
    views.push_back(ViewOf(*registry.Find(id)));
  }
  policy_->Plan(views);
  for (const offload::DeviceView& view : views) {
    const offload::Placement p = policy_->Choose(view);
    const int split = std::clamp(p.split, 1, stages);
    r->splits[view.id] = split;
    if (split == stages) continue;
    r->modes[view.id] = p.mode;
    ++r->offloading;
    if (r->heads.count(split) == 0) {
      r->heads[split] =
          std::make_shared<const Weights>(ml::SliceStages(global, 0, split));
    }
  }
  if (LinkGuardOn()) SetLinkGuards(registry, r);
}

void OffloadPlanner::SetLinkGuards(FleetRegistry& registry,
                                   RoundState* r) const {
  for (const auto& [id, split] : r->splits) {
    const DeviceRecord* d = registry.Find(id);
    if (split >= context_.num_stages || d == nullptr) continue;
    // Needs the device's speed and its number of examples: measured in its
    // rounds, else from the stage timing it reported before its first task.
    const bool measured = d->samples > 0 && d->measured_slowdown > 0;
    const double slowdown = measured
                                ? d->measured_slowdown
                                : offload::TimedSlowdown(context_, ViewOf(*d));
    const int64_t examples = measured ? d->samples : d->timed_examples;
    if (slowdown <= 0 || examples <= 0) continue;
    offload::DeviceEstimate e;
    e.slowdown = slowdown;
    e.latency_ms = d->profile.latency_ms();
    offload::RoundShape shape =
        offload::RoundShapeOf(context_, examples, r->offloading);
    shape.mode = r->LocalLoss(id) ? SplitMode::kLocalLoss : SplitMode::kExact;
    const double mbps =
        offload::BreakEvenMbps(context_.profile, e, shape, split);
    if (mbps > 0) r->min_link_mbps[id] = mbps;
  }
}

void OffloadPlanner::Observe(int64_t round,
                             const std::vector<DeviceRoundRecord>& devices,
                             FleetRegistry& registry) {
  std::vector<offload::DeviceOutcome> outcomes;
  for (const DeviceRoundRecord& r : devices) {
    if (r.status != DeviceRoundRecord::Status::kAccepted) continue;
    const offload::DeviceOutcome o = OutcomeOf(r);
    outcomes.push_back(o);
    DeviceRecord* d = registry.Find(o.id);
    if (d == nullptr) continue;
    d->last_split = o.split;
    const double slowdown = offload::MeasuredSlowdown(context_, o);
    if (slowdown > 0) d->measured_slowdown = slowdown;
  }
  policy_->Observe(round, outcomes);
}

}  // namespace tandem::server

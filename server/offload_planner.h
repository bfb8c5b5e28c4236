// Where each sampled device trains in a round. Plan() asks the offload
// policy for every sampled device's placement (split point and mode),
// slices the head weights for the split points in use and, under
// offload.link_guard, sets each offloading device's break-even link
// throughput. Observe() tells the policy what the round's devices did.
//
// Not thread-safe: the Coordinator guards it with its mutex.
#ifndef TANDEM_SERVER_OFFLOAD_PLANNER_H_
#define TANDEM_SERVER_OFFLOAD_PLANNER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/weights.h"
#include "ml/model.h"
#include "ml/profile.h"
#include "offload/split_policy.h"
#include "server/fleet_registry.h"
#include "server/round_records.h"
#include "server/round_state.h"

namespace tandem::server {

class OffloadPlanner {
 public:
  // `profile`: the pinned or simulated stage costs (null: measured here
  // when the policy or the link guard needs them).
  static absl::StatusOr<std::unique_ptr<OffloadPlanner>> Create(
      const Config& config, const ml::InputShape& input, int num_stages,
      std::shared_ptr<const ml::ModelProfile> profile);

  // Fills `round`'s splits, modes, heads, offloading count and link guards
  // for its sampled devices.
  void Plan(FleetRegistry& registry, const Weights& global, RoundState* round);
  // The round's accepted devices: updates each one's last split and
  // measured slowdown, and tells the policy.
  void Observe(int64_t round, const std::vector<DeviceRoundRecord>& devices,
               FleetRegistry& registry);
  // A tail's slowdown when `tails` tails share the coordinator.
  double TailShare(int tails) const {
    return offload::TailShare(context_, tails);
  }
  absl::Status Finish() { return policy_->Finish(); }
  // The policy's state for a checkpoint, and back (SplitPolicy::SaveState).
  void SaveState(RunState* out) const { policy_->SaveState(out); }
  absl::Status LoadState(const RunState& in) { return policy_->LoadState(in); }

 private:
  OffloadPlanner(const Config& config, offload::PolicyContext context,
                 std::unique_ptr<offload::SplitPolicy> policy);
  bool LinkGuardOn() const;
  void SetLinkGuards(FleetRegistry& registry, RoundState* round) const;

  const Config& config_;
  const offload::PolicyContext context_;
  const std::unique_ptr<offload::SplitPolicy> policy_;
};

// What the policies know of a device.
offload::DeviceView ViewOf(const DeviceRecord& device);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_OFFLOAD_PLANNER_H_

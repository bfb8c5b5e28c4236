// Offload policies: which split point each device uses in a round.
//
// Split point s means the device runs stages [0, s) and the coordinator the
// rest; s = num_stages means no offload. The coordinator asks the policy for
// every sampled device when it opens a round, and tells it what happened
// when the round closes, so learned policies can adapt.
//
//   TANDEM_ASSIGN_OR_RETURN(auto policy,
//                           CreateSplitPolicy(config.offload, context));
//   policy->Plan(devices);                  // once per round
//   Placement p = policy->Choose(device);  // per device
#ifndef TANDEM_OFFLOAD_SPLIT_POLICY_H_
#define TANDEM_OFFLOAD_SPLIT_POLICY_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/device_model.h"
#include "ml/profile.h"
#include "offload/cost_model.h"

namespace tandem::offload {

// A device that declared only its speed: bandwidth and latency unknown (0).
inline DeviceModel UndeclaredDevice() {
  DeviceModel m;
  m.bandwidth_mbps = 0;
  m.latency_ms = 0;
  return m;
}

// What the coordinator knows of a device when it picks its split point.
struct DeviceView {
  std::string id;
  std::string device_class;
  // Its hardware as it declared it; a bandwidth or latency of 0 is unknown.
  DeviceModel device = UndeclaredDevice();
  int last_split = 0;  // 0 = none yet
  // What the device measured before its first task: seconds per example of
  // every stage on it (empty = not reported), and its training examples.
  std::vector<double> stage_seconds;
  int64_t examples = 0;
};

// Where and how a device trains in a round: stages [0, split) on the device,
// the rest on the coordinator in `mode`; split = num_stages: no offload.
struct Placement {
  int split = 1;
  SplitMode mode = SplitMode::kExact;
};

// One device's outcome in a round.
struct DeviceOutcome {
  std::string id;
  int split = 0;
  double compute_s = 0;  // device compute
  double tail_s = 0;     // coordinator compute for its tail
  double link_s = 0;
  double round_time_s = 0;
  double energy_j = 0;
  int64_t samples = 0;  // local examples
  int64_t batches = 0;  // optimiser steps taken
  int64_t bytes = 0;    // moved up and down
  SplitMode mode = SplitMode::kExact;
};

// What policies know of the run.
struct PolicyContext {
  int num_stages = 1;
  ml::ModelProfile profile;  // per-stage costs (greedy)
  int batch_size = 32;
  int epochs = 1;
  int64_t max_batches = 0;
  int activation_bytes = 4;  // per element on the wire
  // The modes a policy may offload in (offload.mode; "auto": both).
  std::vector<SplitMode> modes = {SplitMode::kExact};
  int window = 4;           // local_loss: batches in flight
  double server_cores = 1;  // offload.server_cores: cores the tails share
  // The run's seed: seeds what the ppo policy samples when it learns.
  uint64_t seed = 1;
};

// How much slower each of `tails` tails trains when they share the
// coordinator's offload.server_cores: max(1, tails / server_cores).
double TailShare(const PolicyContext& context, int tails);

// The cost model's round for a device with `examples` local examples whose
// tail is one of `tails` sharing the coordinator (tail time x TailShare).
RoundShape RoundShapeOf(const PolicyContext& context, int64_t examples,
                        int tails);

// The device's compute slowdown against one core of this machine, measured
// from a round's outcome and the model profile; 0 when it cannot be told.
double MeasuredSlowdown(const PolicyContext& context,
                        const DeviceOutcome& outcome);

// The same from the stage timing a device reported before its first task
// (DeviceView::stage_seconds); 0 when it did not report one.
double TimedSlowdown(const PolicyContext& context, const DeviceView& device);

// Rounds over which, under the link guard, greedy (and ppo's cost-model
// score) plans with a device's best measured link: the guard measures the
// real link on the task download and trains locally when it is below the
// split point's break-even, so planning on a link that has just recovered
// costs at most the tail's weights in one download, while planning on one
// that has just dropped costs a whole round at local speed. A link low for
// longer than this is taken as it is.
inline constexpr size_t kGuardedLinkMemory = 3;

// The link throughput (Mbit/s) a round's outcome shows: its bytes over its
// link time less one `latency_ms` per transfer (the weights down and up,
// and per batch activations up and gradients down in exact offload;
// local-loss uploads are pipelined, bytes only). 1e6 when the transfers
// took no measurable time.
double OutcomeMbps(const PolicyContext& context, const DeviceOutcome& outcome,
                   double latency_ms);

// offload.memory_budget_mb in bytes per device class; errors name the key.
absl::StatusOr<std::map<std::string, int64_t>> MemoryBudgets(
    const OffloadConfig& config);

// Not thread-safe: the coordinator serialises calls.
class SplitPolicy {
 public:
  virtual ~SplitPolicy() = default;
  virtual absl::string_view name() const = 0;
  // Called once per round before the round's Choose calls, with every
  // sampled device.
  virtual void Plan(const std::vector<DeviceView>& devices) {}
  // A split point in [1, num_stages] and its mode.
  virtual Placement Choose(const DeviceView& device) = 0;
  virtual void Observe(int64_t round,
                       const std::vector<DeviceOutcome>& outcomes) {}
  // The run is over (a learning policy saves itself here).
  virtual absl::Status Finish() { return absl::OkStatus(); }
  // What it learnt, for a checkpoint: values["policy"] (with the policy's
  // name under "kind") and arrays "policy.*"; nothing for a policy that
  // learns nothing. LoadState takes it back into a fresh policy of the same
  // config; state of another kind of policy is ignored. Errors name what
  // is wrong; nothing changes on error.
  virtual void SaveState(RunState* out) const {}
  virtual absl::Status LoadState(const RunState& in) {
    return absl::OkStatus();
  }
};

// The run-wide part of a policy context: everything but the profile.
absl::StatusOr<PolicyContext> PolicyContextFromConfig(const Config& config,
                                                      int num_stages);

// The names CreateSplitPolicy knows (offload.policy).
std::vector<std::string> PolicyNames();
// Whether offload.link_guard applies: it weighs time alone, so ppo, and
// greedy with alpha >= 1.
bool LinkGuardApplies(const OffloadConfig& config);
// Whether the coordinator needs the model's stage costs for this policy.
bool PolicyNeedsProfile(const OffloadConfig& config);

// Errors name the config path.
absl::StatusOr<std::unique_ptr<SplitPolicy>> CreateSplitPolicy(
    const OffloadConfig& config, const PolicyContext& context);

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_SPLIT_POLICY_H_

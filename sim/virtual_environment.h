// A simulated device's environment: its class's speed, link and power
// (core/device_model.h) turn what the agent measured into virtual time and
// energy; it may drop rounds (fleet dropout) and attack its updates.
//
//   VirtualEnvironmentOptions o;
//   o.model = device_class.device;
//   agent_options.environment = std::make_unique<VirtualEnvironment>(o);
//
// Virtual time: compute is measured per-thread CPU seconds (or, with a
// compute profile, examples x the profile's stage seconds) times the
// slowdown; every transfer is bytes over the round's bandwidth plus one
// latency, or on a traced link (DeviceModel::uplink/downlink) integrated
// over its trace from the moment it starts, the round laid out from the
// task's virtual start; a local-loss round follows core/pipeline_schedule.h.
#ifndef TANDEM_SIM_VIRTUAL_ENVIRONMENT_H_
#define TANDEM_SIM_VIRTUAL_ENVIRONMENT_H_

#include <functional>
#include <memory>

#include "client/device_environment.h"
#include "core/device_model.h"
#include "ml/profile.h"
#include "sim/availability.h"
#include "strategies/attacks.h"

namespace tandem::sim {

struct VirtualEnvironmentOptions {
  DeviceModel model;
  // The device model in a given round (bandwidth traces); `model` if unset.
  std::function<DeviceModel(int64_t round)> model_for_round;
  // fleet.compute_time "profiled": compute is charged from this profile
  // instead of measured CPU time, and the stages are not timed.
  std::shared_ptr<const ml::ModelProfile> compute_profile;
  double dropout = 0;         // probability of abandoning a round
  Availability availability;  // on the virtual clock
  uint64_t seed = 1;          // the device's seed (dropout, attack noise)
  Attack attack = Attack::kNone;
  double attack_scale = 1;
  // Report measured wall time like a deployed device (benchmarks); the
  // hardware, dropout and attack stay simulated.
  bool wall_time = false;
  // The run resumes from a checkpoint (server.resume_from): only the
  // coordinator stopped, the device kept running and timed its stages long
  // ago, so the timing costs no virtual time.
  bool resumed = false;
};

// Not thread-safe: one agent's Run() thread.
class VirtualEnvironment : public client::DeviceEnvironment {
 public:
  explicit VirtualEnvironment(VirtualEnvironmentOptions options)
      : options_(std::move(options)) {}

  void DescribeHardware(v1::HardwareProfile* profile) const override;
  // Virtual time also charges the timing's examples to the first round the
  // device reports (Measurements.timing_s).
  absl::StatusOr<v1::StageTiming> TimeStages(int64_t examples,
                                             const ProfileFn& measure) override;
  bool AbandonsRound(int64_t round) override;
  bool OnlineThrough(double start_s, double seconds) const override {
    return options_.availability.OnlineThrough(start_s, seconds);
  }
  std::unique_ptr<client::RoundAccounting> BeginRound(int64_t round,
                                                      double start_s) override;
  double MinRoundSeconds(int64_t round, int64_t bytes_down, int64_t bytes_up,
                         int64_t examples, int stages) const override;
  void AlterUpdate(int64_t round, const Weights& global,
                   Weights* update) override;

 private:
  DeviceModel ModelFor(int64_t round) const;

  const VirtualEnvironmentOptions options_;
  double timing_cost_s_ = 0;  // the stage timing's seconds, not yet charged
};

}  // namespace tandem::sim

#endif  // TANDEM_SIM_VIRTUAL_ENVIRONMENT_H_

// A deployed device's environment: it reports what it measured on the wall
// clock, times its stages on its own hardware and never drops a round on
// purpose. The default of DeviceAgentOptions::environment.
#ifndef TANDEM_CLIENT_MEASURED_ENVIRONMENT_H_
#define TANDEM_CLIENT_MEASURED_ENVIRONMENT_H_

#include <memory>

#include "client/device_environment.h"
#include "core/device_model.h"

namespace tandem::client {

// Measured times of one round: compute is the training's wall time without
// its waits for the coordinator, link time is the measured download, the
// previous round's upload (this one's is not known before it is sent) and
// those waits. Not thread-safe (one round of one agent).
class MeasuredRoundAccounting : public RoundAccounting {
 public:
  double GuardSeconds(int64_t bytes, double wall_s) const override;
  BatchTiming* LocalLossTiming(int split, int window,
                               int64_t bytes_down) override {
    return nullptr;
  }
  void Account(const RoundUsage& record, v1::Measurements* m) override;
};

// Not thread-safe (one agent's Run() thread).
class MeasuredEnvironment : public DeviceEnvironment {
 public:
  // Reports the DeviceModel defaults as its hardware: a deployed device's
  // speed and link are learnt from its measurements, not declared.
  void DescribeHardware(v1::HardwareProfile* profile) const override;
  absl::StatusOr<v1::StageTiming> TimeStages(int64_t examples,
                                             const ProfileFn& measure) override;
  bool AbandonsRound(int64_t round) override { return false; }
  std::unique_ptr<RoundAccounting> BeginRound(int64_t round,
                                              double start_s) override {
    return std::make_unique<MeasuredRoundAccounting>();
  }
};

// The stage timing of `profile` with every stage's seconds times `scale`,
// for `examples` training examples; `*per_example` gets the scaled sum.
v1::StageTiming StageTimingOf(const ml::ModelProfile& profile, double scale,
                              int64_t examples, double* per_example);

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_MEASURED_ENVIRONMENT_H_

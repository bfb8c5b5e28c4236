// The FedAvg family: sample-weighted averaging of client deltas,
// optionally followed by a server optimiser step. Covers fedavg, fedprox
// (FedAvg aggregation + a proximal term on devices), fedavgm, fedadam,
// fedyogi and fedadagrad.
//
// Accepted updates are added as they arrive to an exact fixed-point sum
// (DeltaAccumulator), so the result does not depend on arrival order and no
// update is kept: memory is three models whatever the number of updates.
// Each update is read once when it arrives: added, and validated from the
// same pass (and taken back out if invalid). Buffers
// (batch-norm statistics) are always the sample-weighted mean; the server
// optimiser steps parameters only.
#ifndef TANDEM_STRATEGIES_FEDAVG_H_
#define TANDEM_STRATEGIES_FEDAVG_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "strategies/delta_accumulator.h"
#include "strategies/server_optimizer.h"
#include "strategies/strategy.h"

namespace tandem {

struct FedAvgSettings {
  std::string name = "fedavg";
  double max_update_norm = 0;
  double proximal_mu = 0;           // reported to devices (fedprox)
  double client_learning_rate = 0;  // reported to devices (FedOpt eta_l)
  std::unique_ptr<ServerOptimizer> optimizer;  // null: plain weighted mean
};

// Not thread-safe (see Strategy).
class FedAvg final : public Strategy {
 public:
  explicit FedAvg(FedAvgSettings settings);

  absl::string_view name() const override { return settings_.name; }
  double proximal_mu() const override { return settings_.proximal_mu; }
  double client_learning_rate() const override {
    return settings_.client_learning_rate;
  }

 private:
  absl::Status DoBeginRound() override;
  absl::Status DoAddUpdate(const ClientUpdate& update, Weights* owned,
                           RejectReason* reason) override;
  absl::StatusOr<Weights> DoFinishRound() override;
  void DoWithdraw(const std::string& device_id, int64_t num_samples) override {
    sum_.Release(global(), device_id);
    total_samples_ -= static_cast<double>(num_samples);
  }
  void DoClip(const std::string& device_id, double scale) override {
    sum_.Rescale(global(), device_id, static_cast<float>(scale));
  }
  void DoSaveState(RunState* out) const override;
  absl::Status DoLoadState(const RunState& in,
                           const WeightsLayout& layout) override;

  FedAvgSettings settings_;
  DeltaAccumulator sum_;
  double total_samples_ = 0;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_FEDAVG_H_

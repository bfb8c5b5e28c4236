// q-FedAvg (Li et al., "Fair Resource Allocation in Federated Learning",
// ICLR 2020): devices whose loss under the global model is high get more
// weight, with fairness controlled by q (q = 0 is the unweighted mean).
//
// With L = 1 / qffl_learning_rate, F_k = loss_before of device k (+ 1e-10)
// and d_k = update_k - global over parameters:
//   Delta_k = F_k^q * L * (global - update_k)
//   h_k     = q * F_k^(q-1) * L^2 * ||d_k||^2 + L * F_k^q
//   new     = global - sum_k Delta_k / sum_k h_k
// Each device uses its own loss (as in the paper; Flower substitutes one
// server-side loss). The Delta_k are summed exactly in fixed point (see
// DeltaAccumulator) and the h_k in ascending id order, so the result does
// not depend on arrival order.
// Buffers are the sample-weighted mean.
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "strategies/delta_accumulator.h"
#include "strategies/delta_kernels.h"
#include "strategies/strategy_factories.h"
#include "strategies/strategy_params.h"

namespace tandem {
namespace {

constexpr double kLossEpsilon = 1e-10;

// Not thread-safe (see Strategy).
class QFedAvg final : public Strategy {
 public:
  QFedAvg(double max_update_norm, double q, double learning_rate)
      : Strategy(max_update_norm), q_(q), lipschitz_(1.0 / learning_rate) {}

  absl::string_view name() const override { return "qfedavg"; }
  bool needs_loss_before() const override { return true; }

 private:
  absl::Status DoBeginRound() override {
    sum_.KeepForWithdraw(keeps_updates());
    sum_.Clear(global());
    h_.clear();
    samples_ = 0;
    return absl::OkStatus();
  }

  absl::Status DoAddUpdate(const ClientUpdate& update, Weights* owned,
                           RejectReason* reason) override {
    if (!std::isfinite(update.loss_before) || update.loss_before < 0) {
      return RejectUpdate(
          RejectReason::kInvalidLoss,
          absl::StrFormat("device '%s': loss_before = %g (qfedavg needs a "
                          "finite loss >= 0)",
                          update.device_id, update.loss_before),
          reason);
    }
    const ValueScan scan = ScanUpdate(global(), update.weights);
    TANDEM_RETURN_IF_ERROR(validator().CheckValues(update, scan, reason));
    // Admission's clip shrinks the delta, and its square in h_k.
    const double scale = validator().ClipScale(scan);
    const double loss = update.loss_before + kLossEpsilon;
    const double fq = std::pow(loss, q_);
    h_[update.device_id] = {q_ * std::pow(loss, q_ - 1) * lipschitz_ *
                                lipschitz_ * scale * scale * scan.param_sq,
                            lipschitz_ * fq};
    sum_.Add(global(), update, owned, static_cast<float>(fq * scale),
             static_cast<float>(update.num_samples));
    // Whole numbers below 2^53: exact in any order.
    samples_ += static_cast<double>(update.num_samples);
    return absl::OkStatus();
  }

  absl::StatusOr<Weights> DoFinishRound() override {
    absl::Span<float> sum = sum_.Sum(global());
    double h_total = 0;
    for (const auto& [device, h] : h_) h_total += h.change + h.loss;
    Weights next = global();
    const float param_scale = static_cast<float>(lipschitz_ / h_total);
    const float buffer_scale = static_cast<float>(1.0 / samples_);
    for (const TensorSpec& t : next.layout().tensors()) {
      AddScaled(next.data() + t.offset, sum.data() + t.offset,
                t.kind == TensorKind::kParameter ? param_scale : buffer_scale,
                next.data() + t.offset, t.numel);
    }
    return next;
  }

  void DoWithdraw(const std::string& device_id, int64_t num_samples) override {
    sum_.Release(global(), device_id);
    h_.erase(device_id);
    samples_ -= static_cast<double>(num_samples);
  }

  // Admission's clipping at the round's close: the change, and its square
  // in h_k.
  void DoClip(const std::string& device_id, double scale) override {
    sum_.Rescale(global(), device_id, static_cast<float>(scale));
    auto it = h_.find(device_id);
    if (it != h_.end()) it->second.change *= scale * scale;
  }

  // h_k = q L^2 F_k^(q-1) ||delta_k||^2 + L F_k^q, in its two parts.
  struct HTerm {
    double change;
    double loss;
  };

  double q_;
  double lipschitz_;
  DeltaAccumulator sum_;
  std::map<std::string, HTerm> h_;  // by device id, summed in that order
  double samples_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Strategy>> CreateQFedAvg(
    const StrategyOptions& options) {
  ParamReader r(options.params, "strategy.params", options.name);
  double q = 0.2;
  double learning_rate = 0.1;
  r.Number("q", &q, Range::NonNegative());
  r.Number("qffl_learning_rate", &learning_rate, Range::Positive());
  TANDEM_RETURN_IF_ERROR(r.Finish());
  return std::make_unique<QFedAvg>(options.max_update_norm, q, learning_rate);
}

}  // namespace tandem

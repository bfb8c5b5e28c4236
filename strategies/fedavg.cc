#include "strategies/fedavg.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "strategies/delta_kernels.h"
#include "strategies/strategy_factories.h"
#include "strategies/strategy_params.h"

namespace tandem {

FedAvg::FedAvg(FedAvgSettings settings)
    : Strategy(settings.max_update_norm), settings_(std::move(settings)) {}

absl::Status FedAvg::DoBeginRound() {
  sum_.KeepForWithdraw(keeps_updates());
  sum_.Clear(global());
  total_samples_ = 0;
  return absl::OkStatus();
}

absl::Status FedAvg::DoAddUpdate(const ClientUpdate& update, Weights* owned,
                                 RejectReason* reason) {
  // Added first and validated from the same pass, then taken back if
  // invalid: one read of the update instead of two.
  const float w = static_cast<float>(update.num_samples);
  ValueScan scan;
  const bool added = sum_.Add(global(), update, owned, w, w, &scan);
  absl::Status valid = validator().CheckValues(update, scan, reason);
  if (!valid.ok()) {
    if (added) sum_.TakeBack(global(), update, w, w);
    return valid;
  }
  // Admission's clip: only an outlier pays the two passes more.
  const double scale = validator().ClipScale(scan);
  if (scale < 1) {
    sum_.Reweigh(global(), update, w, w, static_cast<float>(scale * w));
  }
  // Whole numbers below 2^53: exact in any order.
  total_samples_ += static_cast<double>(update.num_samples);
  return absl::OkStatus();
}

absl::StatusOr<Weights> FedAvg::DoFinishRound() {
  absl::Span<float> mean = sum_.Sum(global());
  const float inv = static_cast<float>(1.0 / total_samples_);
  for (float& x : mean) x *= inv;
  if (!AllFinite(mean.data(), static_cast<int64_t>(mean.size()))) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), ": the mean update overflows float"));
  }
  Weights next = global();
  const WeightsLayout& layout = next.layout();
  for (const TensorSpec& t : layout.tensors()) {
    if (settings_.optimizer != nullptr && t.kind == TensorKind::kParameter) {
      continue;  // stepped by the optimiser below
    }
    AddScaled(next.data() + t.offset, mean.data() + t.offset, 1.0f,
              next.data() + t.offset, t.numel);
  }
  if (settings_.optimizer != nullptr) {
    settings_.optimizer->Step(layout, round(), mean, next.values());
  }
  return next;
}

void FedAvg::DoSaveState(RunState* out) const {
  if (settings_.optimizer != nullptr) settings_.optimizer->Save(out);
}

absl::Status FedAvg::DoLoadState(const RunState& in,
                                 const WeightsLayout& layout) {
  if (settings_.optimizer == nullptr) return absl::OkStatus();
  return settings_.optimizer->Load(in,
                                   static_cast<size_t>(layout.total_floats()));
}

namespace {

ParamReader Reader(const StrategyOptions& options) {
  return ParamReader(options.params, "strategy.params", options.name);
}

std::unique_ptr<Strategy> Make(const StrategyOptions& options,
                               FedAvgSettings settings) {
  settings.name = options.name;
  settings.max_update_norm = options.max_update_norm;
  return std::make_unique<FedAvg>(std::move(settings));
}

// FedOpt's hyper-parameters; eta_l is only reported to devices.
absl::StatusOr<std::unique_ptr<Strategy>> CreateFedOptStrategy(
    const StrategyOptions& options, FedOptKind kind, FedOptHyper hyper) {
  ParamReader r = Reader(options);
  double eta_l = 0;
  r.Number("eta", &hyper.eta, Range::Positive());
  r.Number("eta_l", &eta_l, Range::Positive());
  r.Number("beta_1", &hyper.beta_1, Range::HalfOpen(0, 1));
  if (kind != FedOptKind::kAdagrad) {
    r.Number("beta_2", &hyper.beta_2, Range::HalfOpen(0, 1));
  }
  r.Number("tau", &hyper.tau, Range::Positive());
  if (kind == FedOptKind::kAdam) {
    // Yogi and Adagrad have no bias correction (nor do Flower's).
    std::string step = "steps";
    r.String("bias_correction_step", &step, {"steps", "round_plus_one"});
    if (step == "round_plus_one") {
      hyper.bias_step = BiasCorrectionStep::kRoundPlusOne;
    }
  }
  TANDEM_RETURN_IF_ERROR(r.Finish());
  FedAvgSettings settings;
  settings.client_learning_rate = eta_l;
  settings.optimizer = NewFedOpt(kind, hyper);
  return Make(options, std::move(settings));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedAvg(
    const StrategyOptions& options) {
  TANDEM_RETURN_IF_ERROR(Reader(options).Finish());
  return Make(options, FedAvgSettings());
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedProx(
    const StrategyOptions& options) {
  ParamReader r = Reader(options);
  FedAvgSettings settings;
  r.Require("mu", "a number >= 0");
  r.Number("mu", &settings.proximal_mu, Range::NonNegative());
  TANDEM_RETURN_IF_ERROR(r.Finish());
  return Make(options, std::move(settings));
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedAvgM(
    const StrategyOptions& options) {
  ParamReader r = Reader(options);
  double lr = 1.0;
  double momentum = 0.0;
  r.Number("server_learning_rate", &lr, Range::Positive());
  r.Number("server_momentum", &momentum, Range::HalfOpen(0, 1));
  TANDEM_RETURN_IF_ERROR(r.Finish());
  FedAvgSettings settings;
  settings.optimizer = NewServerMomentum(lr, momentum);
  return Make(options, std::move(settings));
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedAdam(
    const StrategyOptions& options) {
  return CreateFedOptStrategy(options, FedOptKind::kAdam,
                              {/*eta=*/0.1, /*beta_1=*/0.9, /*beta_2=*/0.99,
                               /*tau=*/1e-9});
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedYogi(
    const StrategyOptions& options) {
  return CreateFedOptStrategy(options, FedOptKind::kYogi,
                              {/*eta=*/0.01, /*beta_1=*/0.9, /*beta_2=*/0.99,
                               /*tau=*/1e-3});
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedAdagrad(
    const StrategyOptions& options) {
  return CreateFedOptStrategy(options, FedOptKind::kAdagrad,
                              {/*eta=*/0.1, /*beta_1=*/0.0, /*beta_2=*/0.0,
                               /*tau=*/1e-9});
}

}  // namespace tandem

#include "strategies/dp_fixed_clipping.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "strategies/delta_accumulator.h"
#include "strategies/delta_kernels.h"
#include "strategies/deterministic_rng.h"
#include "strategies/strategy_factories.h"
#include "strategies/strategy_params.h"

namespace tandem {
namespace {

// Client-side clipping happens in float on the device; the server allows
// this much relative slack when it re-measures the norm.
constexpr double kClientNormSlack = 1e-3;

const std::vector<std::string>& InnerNames() {
  static const auto* names = new std::vector<std::string>{
      "fedavg", "fedprox", "fedavgm", "fedadam", "fedyogi", "fedadagrad"};
  return *names;
}

struct DpSettings {
  std::string name;
  bool server_clips = true;
  double max_update_norm = 0;
  double noise_multiplier = 0;
  double clipping_norm = 0;
  // False: unweighted mean of the clipped deltas. True: weighted by
  // num_samples, as Flower's inner FedAvg (param "weighting": "examples").
  bool weight_by_examples = false;
  uint64_t seed = 1;
};

// Not thread-safe (see Strategy).
class DpFixedClipping final : public Strategy {
 public:
  DpFixedClipping(const DpSettings& settings, std::unique_ptr<Strategy> inner)
      : Strategy(settings.max_update_norm),
        name_(settings.name),
        server_clips_(settings.server_clips),
        inner_(std::move(inner)),
        noise_multiplier_(settings.noise_multiplier),
        clipping_norm_(settings.clipping_norm),
        weight_by_examples_(settings.weight_by_examples),
        seed_(settings.seed) {}

  absl::string_view name() const override { return name_; }
  double proximal_mu() const override { return inner_->proximal_mu(); }
  double client_learning_rate() const override {
    return inner_->client_learning_rate();
  }
  double client_clipping_norm() const override {
    return server_clips_ ? 0 : clipping_norm_;
  }

 private:
  absl::Status DoBeginRound() override {
    sum_.KeepForWithdraw(keeps_updates());
    sum_.Clear(global());
    scales_.clear();
    count_ = 0;
    samples_ = 0;
    return inner_->BeginRound(round(), global(), 1);
  }

  absl::Status DoAddUpdate(const ClientUpdate& update, Weights* owned,
                           RejectReason* reason) override {
    const ValueScan scan = ScanUpdate(global(), update.weights);
    TANDEM_RETURN_IF_ERROR(validator().CheckValues(update, scan, reason));
    const double norm = scan.param_norm();
    // Admission's bound first (it may be tighter than the clipping norm).
    double scale = validator().ClipScale(scan);
    if (server_clips_) {
      if (norm * scale > clipping_norm_) scale = clipping_norm_ / norm;
    } else if (norm > clipping_norm_ * (1 + kClientNormSlack)) {
      return RejectUpdate(
          RejectReason::kNormTooLarge,
          absl::StrFormat("device '%s': ||update - global|| = %g exceeds "
                          "clipping_norm %g; devices must clip",
                          update.device_id, norm, clipping_norm_),
          reason);
    }
    const double weight =
        weight_by_examples_ ? static_cast<double>(update.num_samples) : 1.0;
    sum_.Add(global(), update, owned, static_cast<float>(scale * weight),
             static_cast<float>(update.num_samples));
    scales_[update.device_id] = scale;
    ++count_;
    samples_ += update.num_samples;
    return absl::OkStatus();
  }

  absl::StatusOr<Weights> DoFinishRound() override {
    ClientUpdate mean;
    mean.device_id = "dp_mean";
    mean.round = round();
    mean.num_samples = samples_;
    mean.weights = global();
    AddNoisyMean(mean.weights);
    RejectReason reason;
    absl::Status added = inner_->AddUpdate(std::move(mean), &reason);
    if (!added.ok()) {
      inner_->FinishRound().IgnoreError();  // closes the inner round
      return absl::InternalError(absl::StrCat(
          name_, ": inner strategy refused the mean: ", added.message()));
    }
    ++finished_;
    return inner_->FinishRound();
  }

  void DoWithdraw(const std::string& device_id, int64_t num_samples) override {
    sum_.Release(global(), device_id);
    scales_.erase(device_id);
    --count_;
    samples_ -= num_samples;
  }

  // The clipping norm may have shrunk the change already: the update ends
  // scaled by the smaller of the two scales, not their product.
  void DoClip(const std::string& device_id, double scale) override {
    auto it = scales_.find(device_id);
    if (it == scales_.end() || scale >= it->second) return;
    sum_.Rescale(global(), device_id, static_cast<float>(scale / it->second));
    it->second = scale;
  }

  // The inner strategy's state under "inner", and the rounds finished
  // (they seed the noise).
  void DoSaveState(RunState* out) const override {
    RunState inner;
    inner_->SaveState(&inner);
    nlohmann::json& mine = out->values["strategy"];
    mine["inner"] = inner.values["strategy"];
    mine["finished"] = finished_;
    out->arrays.merge(inner.arrays);
  }

  absl::Status DoLoadState(const RunState& in,
                           const WeightsLayout& layout) override {
    const nlohmann::json& mine = in.values.at("strategy");
    const nlohmann::json finished = mine.value("finished", nlohmann::json());
    if (!finished.is_number_unsigned() || !mine.contains("inner")) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": state has no inner state or round count"));
    }
    RunState inner;
    inner.values["strategy"] = mine["inner"];
    inner.arrays = in.arrays;
    TANDEM_RETURN_IF_ERROR(inner_->LoadState(inner, layout));
    finished_ = finished.get<uint64_t>();
    return absl::OkStatus();
  }

  // weights (= global) += noisy mean delta.
  void AddNoisyMean(Weights& weights) {
    absl::Span<float> sum = sum_.Sum(global());
    const double stddev = noise_multiplier_ * clipping_norm_ / count_;
    const double divisor =
        weight_by_examples_ ? static_cast<double>(samples_) : count_;
    DeterministicRng rng(seed_ ^ (finished_ * 0x9E3779B97F4A7C15ull),
                         static_cast<uint64_t>(round()));
    for (const TensorSpec& t : weights.layout().tensors()) {
      float* w = weights.data() + t.offset;
      const float* s = sum.data() + t.offset;
      if (t.kind == TensorKind::kBuffer) {
        AddScaled(w, s, static_cast<float>(1.0 / samples_), w, t.numel);
        continue;
      }
      for (int64_t i = 0; i < t.numel; ++i) {
        w[i] += static_cast<float>(s[i] / divisor + stddev * rng.Gaussian());
      }
    }
  }

  std::string name_;
  bool server_clips_;
  std::unique_ptr<Strategy> inner_;
  double noise_multiplier_;
  double clipping_norm_;
  bool weight_by_examples_;
  uint64_t seed_;
  DeltaAccumulator sum_;
  // What each accepted update's change was scaled by (clipping norm and
  // admission), by device id.
  std::map<std::string, double> scales_;
  int count_ = 0;
  int64_t samples_ = 0;
  uint64_t finished_ = 0;
};

absl::StatusOr<std::unique_ptr<Strategy>> CreateDp(
    const StrategyOptions& options, bool server_clips) {
  ParamReader r(options.params, "strategy.params", options.name);
  StrategyOptions inner = options;
  inner.name = "fedavg";
  inner.params = nlohmann::json::object();
  // Checked by the wrapper, before clipping; the inner strategy sees only
  // the noisy mean.
  inner.max_update_norm = 0;
  inner.admission_multiplier = 0;
  DpSettings settings;
  settings.name = options.name;
  settings.server_clips = server_clips;
  settings.max_update_norm = options.max_update_norm;
  settings.seed = options.seed;
  std::string weighting = "unweighted";
  r.String("inner", &inner.name, InnerNames());
  r.Object("inner_params", &inner.params);
  r.Require("noise_multiplier", "a number >= 0");
  r.Number("noise_multiplier", &settings.noise_multiplier,
           Range::NonNegative());
  r.Require("clipping_norm", "a number > 0");
  r.Number("clipping_norm", &settings.clipping_norm, Range::Positive());
  r.String("weighting", &weighting, {"unweighted", "examples"});
  TANDEM_RETURN_IF_ERROR(r.Finish());
  settings.weight_by_examples = weighting == "examples";
  // Errors about inner params name strategy.params.inner_params.<key>.
  absl::StatusOr<std::unique_ptr<Strategy>> inner_strategy =
      CreateStrategy(inner);
  if (!inner_strategy.ok()) {
    std::string message(inner_strategy.status().message());
    const std::string prefix = "strategy.params";
    if (message.rfind(prefix, 0) == 0) {
      message = "strategy.params.inner_params" + message.substr(prefix.size());
    }
    return absl::InvalidArgumentError(message);
  }
  return std::make_unique<DpFixedClipping>(settings,
                                           *std::move(inner_strategy));
}

}  // namespace

absl::Status ClipUpdate(const Weights& global, Weights& local,
                        double clipping_norm) {
  if (!std::isfinite(clipping_norm) || clipping_norm <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ClipUpdate: clipping_norm must be > 0, got ", clipping_norm));
  }
  const std::string difference =
      global.layout().DescribeDifference(local.layout());
  if (!difference.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ClipUpdate: layout differs from the global model: ", difference));
  }
  TANDEM_RETURN_IF_ERROR(local.CheckFinite());
  const double norm = ScanUpdate(global, local).param_norm();
  if (norm <= clipping_norm) return absl::OkStatus();
  ScaleParameterDelta(global, static_cast<float>(clipping_norm / norm), local);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateDpFixedServer(
    const StrategyOptions& options) {
  return CreateDp(options, /*server_clips=*/true);
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateDpFixedClient(
    const StrategyOptions& options) {
  return CreateDp(options, /*server_clips=*/false);
}

}  // namespace tandem

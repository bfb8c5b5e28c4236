// fedmedian (Yin et al., 2018: coordinate-wise median) and fedtrimmedavg
// (coordinate-wise mean after cutting floor(beta * n) values from each end,
// as scipy.stats.trim_mean and Flower do). Both are unweighted and apply
// their rule to buffers too, so one device cannot skew batch-norm
// statistics either.
#include <memory>
#include <vector>

#include "core/status_macros.h"
#include "strategies/coordinatewise.h"
#include "strategies/storing_strategy.h"
#include "strategies/strategy_factories.h"
#include "strategies/strategy_params.h"

namespace tandem {
namespace {

// Not thread-safe (see Strategy).
class CoordinatewiseStrategy final : public StoringStrategy {
 public:
  // trim_fraction < 0 selects the median.
  CoordinatewiseStrategy(std::string name, double max_update_norm,
                         double trim_fraction)
      : StoringStrategy(max_update_norm),
        name_(std::move(name)),
        trim_fraction_(trim_fraction) {}

  absl::string_view name() const override { return name_; }

 private:
  absl::StatusOr<Weights> Aggregate(
      const std::vector<StoredUpdate>& updates) override {
    std::vector<const float*> models;
    for (const StoredUpdate& u : updates) models.push_back(u.weights.data());
    Weights next(global().layout());
    const int64_t size = next.size();
    if (trim_fraction_ < 0) {
      ReduceCoordinates(models, 0, size, MedianOf, next.data());
    } else {
      const int cut = static_cast<int>(trim_fraction_ * models.size());
      ReduceCoordinates(
          models, 0, size,
          [cut](float* v, int n) { return TrimmedMeanOf(v, n, cut); },
          next.data());
    }
    return next;
  }

  std::string name_;
  double trim_fraction_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedMedian(
    const StrategyOptions& options) {
  TANDEM_RETURN_IF_ERROR(
      ParamReader(options.params, "strategy.params", options.name).Finish());
  return std::make_unique<CoordinatewiseStrategy>(
      options.name, options.max_update_norm, -1.0);
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedTrimmedAvg(
    const StrategyOptions& options) {
  ParamReader r(options.params, "strategy.params", options.name);
  double beta = 0.2;
  r.Number("beta", &beta, Range::HalfOpen(0, 0.5));
  TANDEM_RETURN_IF_ERROR(r.Finish());
  return std::make_unique<CoordinatewiseStrategy>(
      options.name, options.max_update_norm, beta);
}

}  // namespace tandem

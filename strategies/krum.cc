// krum: the update with the lowest Krum score, as is. multikrum: the
// sample-weighted mean of the num_to_keep lowest-scoring updates (El Mhamdi
// et al., 2018). Both need n > 2f + 2 updates for f = num_malicious. Buffers
// come from the selected updates (their sample-weighted mean).
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "strategies/krum_selection.h"
#include "strategies/storing_strategy.h"
#include "strategies/strategy_factories.h"
#include "strategies/strategy_params.h"

namespace tandem {
namespace {

// Not thread-safe (see Strategy).
class Krum final : public StoringStrategy {
 public:
  // keep == 1: Krum; keep == 0: n - f (multikrum's default).
  Krum(std::string name, double max_update_norm, int f, int keep)
      : StoringStrategy(max_update_norm),
        name_(std::move(name)),
        f_(f),
        keep_(keep) {}

  absl::string_view name() const override { return name_; }

 private:
  absl::StatusOr<Weights> Aggregate(
      const std::vector<StoredUpdate>& updates) override {
    const int n = static_cast<int>(updates.size());
    if (n <= 2 * f_ + 2) {
      return absl::FailedPreconditionError(
          absl::StrCat(name_, ": needs more than 2f + 2 = ", 2 * f_ + 2,
                       " updates for num_malicious f = ", f_, ", got ", n));
    }
    const int keep = keep_ == 0 ? n - f_ : keep_;
    if (keep > n) {
      return absl::FailedPreconditionError(absl::StrCat(
          name_, ": num_to_keep = ", keep, " but only ", n, " updates"));
    }
    std::vector<const float*> models;
    std::vector<int> all;
    for (int i = 0; i < n; ++i) {
      models.push_back(updates[i].weights.data());
      all.push_back(i);
    }
    const std::vector<double> distances =
        PairwiseSquaredDistances(global().layout(), models);
    std::vector<int> order = RankByScore(KrumScores(distances, n, all, f_));
    order.resize(keep);
    Weights next(global().layout());
    WeightedMean(updates, order, TensorKind::kParameter, next);
    WeightedMean(updates, order, TensorKind::kBuffer, next);
    return next;
  }

  std::string name_;
  int f_;
  int keep_;
};

constexpr int kMaxDevices = 1000000;

}  // namespace

absl::StatusOr<std::unique_ptr<Strategy>> CreateKrum(
    const StrategyOptions& options) {
  ParamReader r(options.params, "strategy.params", options.name);
  int f = 0;
  r.Int("num_malicious", &f, 0, kMaxDevices);
  TANDEM_RETURN_IF_ERROR(r.Finish());
  return std::make_unique<Krum>(options.name, options.max_update_norm, f, 1);
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateMultiKrum(
    const StrategyOptions& options) {
  ParamReader r(options.params, "strategy.params", options.name);
  int f = 0;
  int keep = 0;
  r.Int("num_malicious", &f, 0, kMaxDevices);
  r.Int("num_to_keep", &keep, 0, kMaxDevices);
  TANDEM_RETURN_IF_ERROR(r.Finish());
  return std::make_unique<Krum>(options.name, options.max_update_norm, f, keep);
}

}  // namespace tandem

// Bulyan (El Mhamdi et al., ICML 2018) over Krum, as Flower's
// aggregate_bulyan: with f = num_malicious and n >= 4f + 3 updates, pick
// theta = n - 2f updates by repeatedly taking the Krum winner among those
// left; then per coordinate, average the beta = theta - 2f selected values
// closest to their median. The coordinate rule is unweighted and covers
// buffers too; distances for the selection use parameters only.
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "strategies/coordinatewise.h"
#include "strategies/krum_selection.h"
#include "strategies/storing_strategy.h"
#include "strategies/strategy_factories.h"
#include "strategies/strategy_params.h"

namespace tandem {
namespace {

// Not thread-safe (see Strategy).
class Bulyan final : public StoringStrategy {
 public:
  Bulyan(double max_update_norm, int f)
      : StoringStrategy(max_update_norm), f_(f) {}

  absl::string_view name() const override { return "bulyan"; }

 private:
  absl::StatusOr<Weights> Aggregate(
      const std::vector<StoredUpdate>& updates) override {
    const int n = static_cast<int>(updates.size());
    if (n < 4 * f_ + 3) {
      return absl::FailedPreconditionError(
          absl::StrCat("bulyan: needs at least 4f + 3 = ", 4 * f_ + 3,
                       " updates for num_malicious f = ", f_, ", got ", n));
    }
    std::vector<const float*> models;
    for (const StoredUpdate& u : updates) models.push_back(u.weights.data());
    const std::vector<double> distances =
        PairwiseSquaredDistances(global().layout(), models);
    const std::vector<const float*> selected =
        Select(distances, models, n - 2 * f_);
    const int beta = n - 4 * f_;
    Weights next(global().layout());
    ReduceCoordinates(
        selected, 0, next.size(),
        [beta](float* v, int m) { return MeanAroundMedianOf(v, m, beta); },
        next.data());
    return next;
  }

  // The `theta` successive Krum winners.
  std::vector<const float*> Select(const std::vector<double>& distances,
                                   const std::vector<const float*>& models,
                                   int theta) const {
    const int n = static_cast<int>(models.size());
    std::vector<int> left;
    for (int i = 0; i < n; ++i) left.push_back(i);
    std::vector<const float*> selected;
    while (static_cast<int>(selected.size()) < theta) {
      const int best = RankByScore(KrumScores(distances, n, left, f_))[0];
      selected.push_back(models[left[best]]);
      left.erase(left.begin() + best);
    }
    return selected;
  }

  int f_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Strategy>> CreateBulyan(
    const StrategyOptions& options) {
  ParamReader r(options.params, "strategy.params", options.name);
  int f = 0;
  r.Int("num_malicious", &f, 0, 1000000);
  TANDEM_RETURN_IF_ERROR(r.Finish());
  return std::make_unique<Bulyan>(options.max_update_norm, f);
}

}  // namespace tandem

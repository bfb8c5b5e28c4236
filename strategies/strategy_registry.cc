// The table behind CreateStrategy and StrategyNames.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "strategies/strategy.h"
#include "strategies/strategy_factories.h"

namespace tandem {
namespace {

struct Entry {
  absl::string_view name;
  StrategyFactory create;
};

constexpr Entry kStrategies[] = {
    {"fedavg", CreateFedAvg},
    {"fedprox", CreateFedProx},
    {"fedavgm", CreateFedAvgM},
    {"fedadam", CreateFedAdam},
    {"fedyogi", CreateFedYogi},
    {"fedadagrad", CreateFedAdagrad},
    {"qfedavg", CreateQFedAvg},
    {"fedmedian", CreateFedMedian},
    {"fedtrimmedavg", CreateFedTrimmedAvg},
    {"krum", CreateKrum},
    {"multikrum", CreateMultiKrum},
    {"bulyan", CreateBulyan},
    {"dp_fixed_server", CreateDpFixedServer},
    {"dp_fixed_client", CreateDpFixedClient},
};

}  // namespace

std::vector<std::string> StrategyNames() {
  std::vector<std::string> names;
  for (const Entry& e : kStrategies) names.emplace_back(e.name);
  return names;
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateStrategy(
    const StrategyOptions& options) {
  if (!std::isfinite(options.max_update_norm) || options.max_update_norm < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("strategy.max_update_norm: expected a number >= 0, got ",
                     options.max_update_norm));
  }
  if (!std::isfinite(options.admission_multiplier) ||
      (options.admission_multiplier != 0 && options.admission_multiplier < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("strategy.admission_multiplier: expected 0 (off) or a "
                     "number >= 1, got ",
                     options.admission_multiplier));
  }
  for (const Entry& e : kStrategies) {
    if (e.name != options.name) continue;
    absl::StatusOr<std::unique_ptr<Strategy>> s = e.create(options);
    if (s.ok()) (*s)->set_admission_multiplier(options.admission_multiplier);
    return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "strategy.name: unknown strategy \"", options.name,
      "\" (expected one of: ", absl::StrJoin(StrategyNames(), ", "), ")"));
}

}  // namespace tandem

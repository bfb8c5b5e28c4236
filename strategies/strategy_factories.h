// Factories of the built-in strategies, one per name accepted by
// CreateStrategy. Each validates options.params (unknown keys are errors).
// Internal to strategies/: callers use CreateStrategy.
#ifndef TANDEM_STRATEGIES_STRATEGY_FACTORIES_H_
#define TANDEM_STRATEGIES_STRATEGY_FACTORIES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "strategies/strategy.h"

namespace tandem {

using StrategyFactory =
    absl::StatusOr<std::unique_ptr<Strategy>> (*)(const StrategyOptions&);

absl::StatusOr<std::unique_ptr<Strategy>> CreateFedAvg(const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateFedProx(const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateFedAvgM(const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateFedAdam(const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateFedYogi(const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateFedAdagrad(
    const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateQFedAvg(const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateFedMedian(
    const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateFedTrimmedAvg(
    const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateKrum(const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateMultiKrum(
    const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateBulyan(const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateDpFixedServer(
    const StrategyOptions&);
absl::StatusOr<std::unique_ptr<Strategy>> CreateDpFixedClient(
    const StrategyOptions&);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_STRATEGY_FACTORIES_H_

// Small models and updates with hand-checkable values for the strategy tests.
#ifndef TANDEM_TESTS_STRATEGIES_STRATEGY_TEST_UTIL_H_
#define TANDEM_TESTS_STRATEGIES_STRATEGY_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/weights.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "strategies/strategy.h"

namespace tandem {
namespace testing_util {

// Tensors "w" (param, 3 floats) and "bn.running_mean" (buffer, 1 float).
inline WeightsLayout SmallLayout() {
  return WeightsLayout::Create(
             {{"w", {3}}, {"bn.running_mean", {1}, TensorKind::kBuffer}})
      .value();
}

inline Weights MakeWeights(const WeightsLayout& layout,
                           const std::vector<float>& values) {
  Weights w(layout);
  EXPECT_EQ(static_cast<int64_t>(values.size()), w.size());
  for (size_t i = 0; i < values.size() && i < w.values().size(); ++i) {
    w.values()[i] = values[i];
  }
  return w;
}

inline ClientUpdate MakeUpdate(std::string id, int64_t round,
                               int64_t num_samples, Weights weights,
                               double loss_before = 1.0) {
  ClientUpdate u;
  u.device_id = std::move(id);
  u.round = round;
  u.num_samples = num_samples;
  u.weights = std::move(weights);
  u.loss_before = loss_before;
  return u;
}

inline StrategyOptions Options(const std::string& name,
                               nlohmann::json params = nlohmann::json::object(),
                               double max_update_norm = 0) {
  StrategyOptions o;
  o.name = name;
  o.params = std::move(params);
  o.max_update_norm = max_update_norm;
  return o;
}

inline std::unique_ptr<Strategy> MustCreate(const StrategyOptions& options) {
  absl::StatusOr<std::unique_ptr<Strategy>> s = CreateStrategy(options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

// Runs one round over `updates` (added by const reference) and returns the
// aggregate.
inline absl::StatusOr<Weights> RunRound(
    Strategy& s, int64_t round, const Weights& global,
    const std::vector<ClientUpdate>& updates) {
  absl::Status begin =
      s.BeginRound(round, global, static_cast<int>(updates.size()));
  if (!begin.ok()) return begin;
  for (const ClientUpdate& u : updates) {
    absl::Status st = s.AddUpdate(u, nullptr);
    if (!st.ok()) return st;
  }
  return s.FinishRound();
}

inline std::vector<float> Values(const Weights& w) {
  return std::vector<float>(w.values().begin(), w.values().end());
}

}  // namespace testing_util
}  // namespace tandem

#endif  // TANDEM_TESTS_STRATEGIES_STRATEGY_TEST_UTIL_H_

// Every registered strategy gives bit-identical weights whatever order the
// same updates arrive in (issue #10): the coordinator feeds updates in gRPC
// arrival order, which two otherwise identical runs do not share.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "strategies/deterministic_rng.h"
#include "strategies/strategy.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using testing_util::MakeUpdate;
using testing_util::MustCreate;
using testing_util::Options;
using testing_util::Values;

constexpr int kDevices = 5;
constexpr int kRounds = 3;
// Not a multiple of the kernels' 16 lanes, so their tails run too.
constexpr int kParams = 61;
// Ids whose lexicographic order ("dev-10" < "dev-2") is not their index
// order; unequal sample counts and losses.
const char* const kOrderIds[kDevices] = {"dev-2", "dev-10", "dev-7", "dev-1",
                                         "dev-30"};
constexpr int64_t kSamples[kDevices] = {1, 7, 3, 100, 13};
constexpr double kLosses[kDevices] = {0.5, 2.0, 1.25, 0.1, 3.0};
// Deltas of very different sizes, so a float sum depends on its order.
constexpr float kScales[kDevices] = {1.0f, 3e-2f, 7e-4f, 0.3f, 1e-3f};

WeightsLayout Layout() {
  return WeightsLayout::Create(
             {{"w", {kParams}}, {"bn.running_var", {3}, TensorKind::kBuffer}})
      .value();
}

// Values in [-1, 1) from (seed, stream).
Weights RandomWeights(uint64_t stream) {
  Weights w(Layout());
  DeterministicRng rng(12345, stream);
  for (float& x : w.values()) x = static_cast<float>(2 * rng.Uniform() - 1);
  return w;
}

// Device k's update in `round`: a fixed base plus kScales[k] times noise.
// The same for every arrival order (it does not depend on the global model).
ClientUpdate Update(int64_t round, int k) {
  Weights w = RandomWeights(0);
  const Weights noise = RandomWeights(100 * round + k + 1);
  for (int64_t i = 0; i < w.size(); ++i) {
    w.values()[i] += kScales[k] * noise.values()[i];
  }
  return MakeUpdate(kOrderIds[k], round, kSamples[k], std::move(w), kLosses[k]);
}

// Params that make each strategy valid for 5 updates and exercise its state:
// server momentum, Adam moments, Krum's f, clipping that bites, noise.
nlohmann::json OrderParamsFor(const std::string& name) {
  if (name == "fedprox") return {{"mu", 0.1}};
  if (name == "fedavgm") {
    return {{"server_learning_rate", 0.7}, {"server_momentum", 0.9}};
  }
  if (name == "qfedavg") return {{"q", 0.5}};
  if (name == "krum" || name == "multikrum") return {{"num_malicious", 1}};
  // The wrappers also cover the Flower options.
  if (name == "dp_fixed_server") {
    return {{"inner", "fedadam"},
            {"inner_params", {{"bias_correction_step", "round_plus_one"}}},
            {"noise_multiplier", 0.5},
            {"clipping_norm", 0.05}};
  }
  if (name == "dp_fixed_client") {
    return {{"inner", "fedavgm"},
            {"inner_params", {{"server_momentum", 0.5}}},
            {"noise_multiplier", 0.5},
            {"clipping_norm", 10.0},
            {"weighting", "examples"}};
  }
  return nlohmann::json::object();
}

// The aggregates of kRounds rounds with the updates arriving in `order`,
// moved in when `move` and passed by const reference otherwise. Counts the
// updates admission clipped into *clipped, if not null.
std::vector<std::vector<float>> RunInOrder(const std::string& name,
                                           const std::vector<int>& order,
                                           bool move, int* clipped = nullptr) {
  StrategyOptions options = Options(name, OrderParamsFor(name));
  options.seed = 9;
  // Clipping at the median bites in the second round.
  options.admission_multiplier = 1;
  auto strategy = MustCreate(options);
  std::vector<std::vector<float>> out;
  if (strategy == nullptr) return out;
  Weights global = RandomWeights(1000);
  for (int64_t round = 1; round <= kRounds; ++round) {
    EXPECT_TRUE(strategy->BeginRound(round, global, kDevices).ok());
    for (int k : order) {
      ClientUpdate u = Update(round, k);
      absl::Status added = move ? strategy->AddUpdate(std::move(u), nullptr)
                                : strategy->AddUpdate(u, nullptr);
      EXPECT_TRUE(added.ok()) << added;
      if (clipped != nullptr && strategy->clip_scale_of(kOrderIds[k]) < 1) {
        ++*clipped;
      }
    }
    absl::StatusOr<Weights> next = strategy->FinishRound();
    if (!next.ok()) {
      ADD_FAILURE() << next.status();
      return out;
    }
    out.push_back(Values(*next));
    global = *std::move(next);
  }
  return out;
}

bool SameBytes(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::string OrderString(const std::vector<int>& order) {
  std::string s;
  for (int k : order) s += std::string(kOrderIds[k]) + " ";
  return s;
}

TEST(ArrivalOrderTest, TestDataMakesFloatSumsOrderDependent) {
  // Guards the test below against data that could not tell: the sample-
  // weighted sum of the deltas, added in two orders, differs in some bit.
  auto weighted_sum = [](const std::vector<int>& order) {
    const Weights base = RandomWeights(0);
    std::vector<float> sum(kParams, 0.0f);
    for (int k : order) {
      const Weights x = Update(1, k).weights;
      for (int i = 0; i < kParams; ++i) {
        sum[i] += kSamples[k] * (x.values()[i] - base.values()[i]);
      }
    }
    return sum;
  };
  EXPECT_FALSE(
      SameBytes(weighted_sum({0, 1, 2, 3, 4}), weighted_sum({4, 3, 2, 1, 0})));
}

class EveryStrategyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryStrategyTest, AggregateIsBitIdenticalInEveryArrivalOrder) {
  // All 120 orders of the 5 updates, over three rounds (so optimiser state
  // carried between rounds, and admission's clipping in the third, are
  // covered); every other order moves the updates in, the others pass them
  // by const reference.
  const std::string name = GetParam();
  std::vector<int> order(kDevices);
  std::iota(order.begin(), order.end(), 0);
  int clipped = 0;
  const std::vector<std::vector<float>> reference =
      RunInOrder(name, order, /*move=*/false, &clipped);
  ASSERT_EQ(static_cast<int>(reference.size()), kRounds);
  EXPECT_GT(clipped, 0) << "admission's clipping is not covered";
  int permutation = 0;
  while (std::next_permutation(order.begin(), order.end())) {
    ++permutation;
    const std::vector<std::vector<float>> got =
        RunInOrder(name, order, /*move=*/permutation % 2 == 1);
    ASSERT_EQ(static_cast<int>(got.size()), kRounds);
    for (int r = 0; r < kRounds; ++r) {
      ASSERT_TRUE(SameBytes(got[r], reference[r]))
          << name << ": round " << r + 1 << " differs with arrival order "
          << OrderString(order);
    }
  }
  EXPECT_EQ(permutation, 119);
}

INSTANTIATE_TEST_SUITE_P(AllStrategies, EveryStrategyTest,
                         ::testing::ValuesIn(StrategyNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace tandem

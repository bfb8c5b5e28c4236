// Central DP wrappers: clipping bounds the norm, the noise has the documented
// standard deviation, client-side clipping is enforced.
#include "strategies/dp_fixed_clipping.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "strategies/strategy.h"
#include "strategies/update_validator.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using testing_util::MakeUpdate;
using testing_util::MakeWeights;
using testing_util::MustCreate;
using testing_util::Options;
using testing_util::RunRound;
using testing_util::SmallLayout;
using testing_util::Values;

TEST(ClipUpdateTest, ScalesParameterDeltaToTheNormAndKeepsBuffers) {
  const Weights global = MakeWeights(SmallLayout(), {1, 1, 1, 7});
  // Delta (6, 8, 0) has norm 10; clipped to 2 it is (1.2, 1.6, 0).
  Weights local = MakeWeights(SmallLayout(), {7, 9, 1, 100});
  ASSERT_TRUE(ClipUpdate(global, local, 2.0).ok());
  EXPECT_THAT(Values(local), ElementsAre(FloatNear(2.2f, 1e-6),
                                         FloatNear(2.6f, 1e-6), 1, 100));
  EXPECT_LE(ScanUpdate(global, local).param_norm(), 2.0 * (1 + 1e-6));
  // Already within the bound: untouched.
  Weights small = MakeWeights(SmallLayout(), {1.5f, 1, 1, 3});
  ASSERT_TRUE(ClipUpdate(global, small, 2.0).ok());
  EXPECT_THAT(Values(small), ElementsAre(1.5f, 1, 1, 3));
}

TEST(ClipUpdateTest, BoundsLargeRandomUpdates) {
  const WeightsLayout layout = WeightsLayout::Create({{"w", {10000}}}).value();
  Weights global(layout);
  Weights local(layout);
  for (int i = 0; i < 10000; ++i) {
    global.values()[i] = 0.001f * (i % 97);
    local.values()[i] = global.values()[i] + 0.37f * std::sin(0.1f * i);
  }
  ASSERT_GT(ScanUpdate(global, local).param_norm(), 20);
  ASSERT_TRUE(ClipUpdate(global, local, 0.5).ok());
  EXPECT_NEAR(ScanUpdate(global, local).param_norm(), 0.5, 0.5 * 1e-5);
}

TEST(ClipUpdateTest, Errors) {
  const Weights global = MakeWeights(SmallLayout(), {0, 0, 0, 0});
  Weights local = MakeWeights(SmallLayout(), {1, 0, 0, 0});
  EXPECT_FALSE(ClipUpdate(global, local, 0).ok());
  EXPECT_FALSE(ClipUpdate(global, local, -1).ok());
  Weights other(WeightsLayout::Create({{"w", {4}}}).value());
  EXPECT_FALSE(ClipUpdate(global, other, 1).ok());
  local.values()[0] = std::nanf("");
  EXPECT_FALSE(ClipUpdate(global, local, 1).ok());
}

TEST(DpFixedServerTest, ClipsEachUpdateAndAveragesUnweighted) {
  // noise_multiplier 0: clipping only. Deltas (10, 0, 0) -> (1, 0, 0) and
  // (0, 0.5, 0) (inside the bound); unweighted mean (0.5, 0.25, 0). Buffers:
  // sample-weighted mean of (4, 8): (1 * 4 + 3 * 8) / 4 = 7.
  auto dp = MustCreate(Options(
      "dp_fixed_server", {{"noise_multiplier", 0.0}, {"clipping_norm", 1.0}}));
  EXPECT_DOUBLE_EQ(dp->client_clipping_norm(), 0);
  const Weights global = MakeWeights(SmallLayout(), {0, 0, 0, 0});
  absl::StatusOr<Weights> next = RunRound(
      *dp, 1, global,
      {MakeUpdate("a", 1, 1, MakeWeights(SmallLayout(), {10, 0, 0, 4})),
       MakeUpdate("b", 1, 3, MakeWeights(SmallLayout(), {0, 0.5f, 0, 8}))});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next),
              ElementsAre(FloatNear(0.5f, 1e-6), FloatNear(0.25f, 1e-6), 0,
                          FloatNear(7, 1e-6)));
}

TEST(DpFixedServerTest, ExamplesWeightingWeighsClippedDeltasBySamples) {
  // As above with "weighting": "examples" (Flower's inner FedAvg): clipped
  // deltas (1, 0, 0) with 1 sample and (0, 0.5, 0) with 3:
  // (1 * 1 + 3 * 0, 1 * 0 + 3 * 0.5, 0) / 4 = (0.25, 0.375, 0). Buffers 7.
  auto dp = MustCreate(Options("dp_fixed_server", {{"noise_multiplier", 0.0},
                                                   {"clipping_norm", 1.0},
                                                   {"weighting", "examples"}}));
  const Weights global = MakeWeights(SmallLayout(), {0, 0, 0, 0});
  absl::StatusOr<Weights> next = RunRound(
      *dp, 1, global,
      {MakeUpdate("a", 1, 1, MakeWeights(SmallLayout(), {10, 0, 0, 4})),
       MakeUpdate("b", 1, 3, MakeWeights(SmallLayout(), {0, 0.5f, 0, 8}))});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next),
              ElementsAre(FloatNear(0.25f, 1e-6), FloatNear(0.375f, 1e-6), 0,
                          FloatNear(7, 1e-6)));
}

TEST(DpFixedClientTest, ExamplesWeightingWeighsDeltasBySamples) {
  // Clipped on the devices to C = 1: (0.6, 0.8, 0) with 1 sample and
  // (0, 0.5, 0) with 3: (0.6, 0.8 + 1.5, 0) / 4 = (0.15, 0.575, 0).
  // Unweighted (the default) it would be (0.3, 0.65, 0).
  auto dp = MustCreate(Options("dp_fixed_client", {{"noise_multiplier", 0.0},
                                                   {"clipping_norm", 1.0},
                                                   {"weighting", "examples"}}));
  const Weights global = MakeWeights(SmallLayout(), {0, 0, 0, 0});
  absl::StatusOr<Weights> next = RunRound(
      *dp, 1, global,
      {MakeUpdate("a", 1, 1, MakeWeights(SmallLayout(), {0.6f, 0.8f, 0, 4})),
       MakeUpdate("b", 1, 3, MakeWeights(SmallLayout(), {0, 0.5f, 0, 8}))});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next),
              ElementsAre(FloatNear(0.15f, 1e-6), FloatNear(0.575f, 1e-6), 0,
                          FloatNear(7, 1e-6)));
}

// Mean and standard deviation of the parameters of `w`.
std::pair<double, double> MeanStd(const Weights& w, int count) {
  double sum = 0;
  double sq = 0;
  for (int i = 0; i < count; ++i) sum += w.values()[i];
  const double mean = sum / count;
  for (int i = 0; i < count; ++i) {
    sq += (w.values()[i] - mean) * (w.values()[i] - mean);
  }
  return {mean, std::sqrt(sq / (count - 1))};
}

TEST(DpFixedServerTest, NoiseStdIsNoiseMultiplierTimesClipOverReceived) {
  // 4 updates equal to the global model (zero deltas) out of 5 sampled: the
  // result is pure noise with std 2 * 0.5 / 4 = 0.25 (dividing by the 5
  // sampled would give 0.2). With 200000 values the sample std is within
  // 0.25 * (1 +- 0.5%) at 3 sigma; the tolerance is 2%.
  constexpr int kParams = 200000;
  const WeightsLayout layout =
      WeightsLayout::Create(
          {{"w", {kParams}}, {"bn.running_var", {2}, TensorKind::kBuffer}})
          .value();
  Weights global(layout);
  global.values()[kParams] = 1;
  global.values()[kParams + 1] = 2;
  for (const char* name : {"dp_fixed_server", "dp_fixed_client"}) {
    StrategyOptions options =
        Options(name, {{"noise_multiplier", 2.0}, {"clipping_norm", 0.5}});
    options.seed = 42;
    auto dp = MustCreate(options);
    ASSERT_TRUE(dp->BeginRound(3, global, 5).ok());
    for (const char* id : {"a", "b", "c", "d"}) {
      ASSERT_TRUE(dp->AddUpdate(MakeUpdate(id, 3, 10, global), nullptr).ok());
    }
    absl::StatusOr<Weights> next = dp->FinishRound();
    ASSERT_TRUE(next.ok()) << next.status();
    const auto [mean, stddev] = MeanStd(*next, kParams);
    EXPECT_NEAR(stddev, 0.25, 0.25 * 0.02) << name;
    EXPECT_NEAR(mean, 0.0, 5 * 0.25 / std::sqrt(kParams)) << name;
    // Buffers are not noised.
    EXPECT_EQ(next->values()[kParams], 1) << name;
    EXPECT_EQ(next->values()[kParams + 1], 2) << name;
  }
}

TEST(DpFixedServerTest, NoiseIsSeeded) {
  const Weights global = MakeWeights(SmallLayout(), {0, 0, 0, 0});
  auto run = [&](uint64_t seed) {
    StrategyOptions options = Options(
        "dp_fixed_server", {{"noise_multiplier", 1.0}, {"clipping_norm", 1.0}});
    options.seed = seed;
    auto dp = MustCreate(options);
    return Values(
        RunRound(*dp, 1, global, {MakeUpdate("a", 1, 1, global)}).value());
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(DpFixedClientTest, RequiresClippedUpdates) {
  auto dp = MustCreate(Options(
      "dp_fixed_client", {{"noise_multiplier", 0.0}, {"clipping_norm", 1.0}}));
  EXPECT_DOUBLE_EQ(dp->client_clipping_norm(), 1.0);
  const Weights global = MakeWeights(SmallLayout(), {0, 0, 0, 0});
  ASSERT_TRUE(dp->BeginRound(1, global, 2).ok());
  ClientUpdate big =
      MakeUpdate("a", 1, 1, MakeWeights(SmallLayout(), {3, 4, 0, 9}));
  RejectReason reason;
  absl::Status status = dp->AddUpdate(big, &reason);
  EXPECT_EQ(reason, RejectReason::kNormTooLarge);
  EXPECT_THAT(status.message(), HasSubstr("clipping_norm"));
  // After ClipUpdate on the device: (0.6, 0.8, 0), buffer untouched.
  ASSERT_TRUE(ClipUpdate(global, big.weights, dp->client_clipping_norm()).ok());
  ASSERT_TRUE(dp->AddUpdate(big, nullptr).ok());
  absl::StatusOr<Weights> next = dp->FinishRound();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next),
              ElementsAre(FloatNear(0.6f, 1e-6), FloatNear(0.8f, 1e-6), 0, 9));
}

TEST(DpFixedServerTest, InnerServerOptimiserStepsTheNoisyMean) {
  // Inner fedavgm with lr 0.5: the clipped mean (1, 0, 0) becomes a step of
  // (0.5, 0, 0). Knobs of the inner strategy are passed through.
  auto dp = MustCreate(Options(
      "dp_fixed_server", {{"inner", "fedavgm"},
                          {"inner_params", {{"server_learning_rate", 0.5}}},
                          {"noise_multiplier", 0.0},
                          {"clipping_norm", 1.0}}));
  const Weights global = MakeWeights(SmallLayout(), {0, 0, 0, 0});
  absl::StatusOr<Weights> next = RunRound(
      *dp, 1, global,
      {MakeUpdate("a", 1, 1, MakeWeights(SmallLayout(), {2, 0, 0, 2}))});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(FloatNear(0.5f, 1e-6), 0, 0, 2));
  auto prox =
      MustCreate(Options("dp_fixed_client", {{"inner", "fedprox"},
                                             {"inner_params", {{"mu", 0.3}}},
                                             {"noise_multiplier", 1.0},
                                             {"clipping_norm", 1.0}}));
  EXPECT_DOUBLE_EQ(prox->proximal_mu(), 0.3);
}

}  // namespace
}  // namespace tandem

// FedAdam, FedYogi and FedAdagrad over two rounds, against values worked out
// from Reddi et al.'s update rules with Flower's default hyper-parameters.
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "strategies/strategy.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using testing_util::MakeUpdate;
using testing_util::MakeWeights;
using testing_util::MustCreate;
using testing_util::Options;
using testing_util::RunRound;
using testing_util::SmallLayout;
using testing_util::Values;

constexpr float kTol = 2e-6f;

// Two rounds whose sample-weighted mean deltas are
//   D1 = (0.2, -0.4, 0) and D2 = (-0.1, 0.3, 0.05)
// (one device with 1 sample, one with 3), starting from (1, 2, 3); the
// buffer moves by +1 then -1 (plain weighted mean). Returns the two globals.
std::vector<std::vector<float>> TwoRounds(Strategy& s) {
  const WeightsLayout layout = SmallLayout();
  const Weights g = MakeWeights(layout, {1, 2, 3, 0});
  // (0.8 + 3 * 0) / 4 = 0.2, (-0.4 + 3 * -0.4) / 4 = -0.4.
  absl::StatusOr<Weights> x1 =
      RunRound(s, 1, g,
               {MakeUpdate("a", 1, 1, MakeWeights(layout, {1.8f, 1.6f, 3, 1})),
                MakeUpdate("b", 1, 3, MakeWeights(layout, {1, 1.6f, 3, 1}))});
  EXPECT_TRUE(x1.ok()) << x1.status();
  if (!x1.ok()) return {};
  const std::vector<float> v = Values(*x1);
  // (-0.4 + 0) / 4 = -0.1, 0.3, (0.2 + 0) / 4 = 0.05.
  absl::StatusOr<Weights> x2 = RunRound(
      s, 2, *x1,
      {MakeUpdate("a", 2, 1,
                  MakeWeights(layout, {v[0] - 0.4f, v[1] + 0.3f, v[2] + 0.2f,
                                       v[3] - 1})),
       MakeUpdate("b", 2, 3,
                  MakeWeights(layout, {v[0], v[1] + 0.3f, v[2], v[3] - 1}))});
  EXPECT_TRUE(x2.ok()) << x2.status();
  if (!x2.ok()) return {};
  return {v, Values(*x2)};
}

TEST(FedAdamTest, TwoRoundsWithBiasCorrection) {
  // eta = 0.1, beta_1 = 0.9, beta_2 = 0.99, tau = 1e-9.
  // Round 1, first coordinate: m = 0.1 * 0.2 = 0.02, v = 0.01 * 0.04 =
  //   4e-4, eta_1 = 0.1 * sqrt(0.01) / 0.1 = 0.1, step = 0.1 * 0.02 / 0.02.
  // Round 2: m = 0.018 - 0.01 = 0.008, v = 3.96e-4 + 1e-4 = 4.96e-4,
  //   eta_2 = 0.1 * sqrt(0.0199) / 0.19 = 0.0742460,
  //   step = 0.0742460 * 0.008 / 0.0222711 = 0.0266699.
  // Third coordinate, round 2: m = 0.005, sqrt(v) = 0.005: step = eta_2.
  auto adam = MustCreate(Options("fedadam"));
  const auto x = TwoRounds(*adam);
  ASSERT_EQ(x.size(), 2u);
  EXPECT_THAT(x[0], ElementsAre(FloatNear(1.1f, kTol), FloatNear(1.9f, kTol),
                                FloatNear(3.0f, kTol), FloatNear(1, kTol)));
  EXPECT_THAT(
      x[1],
      ElementsAre(FloatNear(1.126669937f, kTol), FloatNear(1.891061837f, kTol),
                  FloatNear(3.074245964f, kTol), FloatNear(0, kTol)));
}

TEST(FedAdamTest, FlowerBiasCorrectionStepIsRoundPlusOne) {
  // bias_correction_step "round_plus_one": rounds 1 and 2 are corrected as
  // t = 2 and 3 (Flower's server_round + 1), with the same m and v as above.
  // eta_2 = 0.1 * sqrt(1 - 0.99^2) / (1 - 0.9^2) = 0.0742460,
  // eta_3 = 0.1 * sqrt(1 - 0.99^3) / (1 - 0.9^3) = 0.0635940.
  // Round 1: step = eta_2 * sign(D1) on the first two coordinates.
  // Round 2, first coordinate: 0.0635940 * 0.008 / 0.0222711 = 0.0228436;
  //   second: m = -0.036 + 0.03 = -0.006, v = 0.001584 + 0.0009 = 0.002484,
  //   step = 0.0635940 * -0.006 / 0.0498397 = -0.0076558; third: eta_3.
  auto adam = MustCreate(
      Options("fedadam", {{"bias_correction_step", "round_plus_one"}}));
  const auto x = TwoRounds(*adam);
  ASSERT_EQ(x.size(), 2u);
  EXPECT_THAT(x[0], ElementsAre(FloatNear(1.074245975f, kTol),
                                FloatNear(1.925754023f, kTol),
                                FloatNear(3.0f, kTol), FloatNear(1, kTol)));
  EXPECT_THAT(
      x[1],
      ElementsAre(FloatNear(1.097089619f, kTol), FloatNear(1.918098203f, kTol),
                  FloatNear(3.063594002f, kTol), FloatNear(0, kTol)));
  // The default counts server steps: t = 1 on round 1 (see above).
  auto steps =
      MustCreate(Options("fedadam", {{"bias_correction_step", "steps"}}));
  EXPECT_THAT(TwoRounds(*steps)[0][0], FloatNear(1.1f, kTol));
}

TEST(FedYogiTest, TwoRounds) {
  // eta = 0.01, beta_1 = 0.9, beta_2 = 0.99, tau = 1e-3 (Flower's defaults).
  // Round 1: m = 0.02, v = 0 - 0.01 * 0.04 * sign(0 - 0.04) = 4e-4,
  //   step = 0.01 * 0.02 / (0.02 + 0.001) = 0.00952381.
  // Round 2: m = 0.008, v = 4e-4 - 0.01 * 0.01 * sign(4e-4 - 0.01) = 5e-4,
  //   step = 0.01 * 0.008 / (0.0223607 + 0.001) = 0.00342456.
  auto yogi = MustCreate(Options("fedyogi"));
  const auto x = TwoRounds(*yogi);
  ASSERT_EQ(x.size(), 2u);
  EXPECT_THAT(x[0], ElementsAre(FloatNear(1.00952381f, kTol),
                                FloatNear(1.990243902f, kTol),
                                FloatNear(3.0f, kTol), FloatNear(1, kTol)));
  EXPECT_THAT(
      x[1],
      ElementsAre(FloatNear(1.012948367f, kTol), FloatNear(1.989067432f, kTol),
                  FloatNear(3.008333333f, kTol), FloatNear(0, kTol)));
}

TEST(FedAdagradTest, TwoRounds) {
  // eta = 0.1, beta_1 = 0 (m = delta), tau = 1e-9; v accumulates delta^2.
  // Round 1: step = 0.1 * 0.2 / 0.2 = 0.1.
  // Round 2: v = 0.04 + 0.01, step = 0.1 * -0.1 / sqrt(0.05) = -0.0447214.
  auto adagrad = MustCreate(Options("fedadagrad"));
  const auto x = TwoRounds(*adagrad);
  ASSERT_EQ(x.size(), 2u);
  EXPECT_THAT(x[0], ElementsAre(FloatNear(1.1f, kTol), FloatNear(1.9f, kTol),
                                FloatNear(3.0f, kTol), FloatNear(1, kTol)));
  EXPECT_THAT(x[1],
              ElementsAre(FloatNear(1.05527864f, kTol), FloatNear(1.96f, kTol),
                          FloatNear(3.099999998f, kTol), FloatNear(0, kTol)));
}

TEST(FedAdamTest, FailedRoundLeavesMomentsUnchanged) {
  // A round that fails (no updates) between the two rounds must not count
  // as a server step.
  const WeightsLayout layout = SmallLayout();
  auto adam = MustCreate(Options("fedadam"));
  auto reference = MustCreate(Options("fedadam"));
  const auto expected = TwoRounds(*reference);

  const Weights g = MakeWeights(layout, {1, 2, 3, 0});
  absl::StatusOr<Weights> x1 =
      RunRound(*adam, 1, g,
               {MakeUpdate("a", 1, 1, MakeWeights(layout, {1.8f, 1.6f, 3, 1})),
                MakeUpdate("b", 1, 3, MakeWeights(layout, {1, 1.6f, 3, 1}))});
  ASSERT_TRUE(x1.ok());
  ASSERT_TRUE(adam->BeginRound(2, *x1, 2).ok());
  EXPECT_FALSE(adam->FinishRound().ok());
  const std::vector<float> v = Values(*x1);
  absl::StatusOr<Weights> x2 = RunRound(
      *adam, 2, *x1,
      {MakeUpdate("a", 2, 1,
                  MakeWeights(layout, {v[0] - 0.4f, v[1] + 0.3f, v[2] + 0.2f,
                                       v[3] - 1})),
       MakeUpdate("b", 2, 3,
                  MakeWeights(layout, {v[0], v[1] + 0.3f, v[2], v[3] - 1}))});
  ASSERT_TRUE(x2.ok());
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_EQ(Values(*x2), expected[1]);
}

TEST(FedOptTest, ReportsClientLearningRateOnlyWhenGiven) {
  EXPECT_DOUBLE_EQ(MustCreate(Options("fedadam"))->client_learning_rate(), 0);
  EXPECT_DOUBLE_EQ(
      MustCreate(Options("fedyogi", {{"eta_l", 0.03}}))->client_learning_rate(),
      0.03);
}

}  // namespace
}  // namespace tandem

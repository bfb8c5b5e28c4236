// q-FedAvg against the update rule of Li et al. worked out by hand.
#include <cmath>
#include <limits>

#include "absl/strings/match.h"
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

TEST(QFedAvgTest, WeightsDevicesByTheirLoss) {
  // q = 1, qffl_learning_rate = 0.5 (L = 2), global w = (1, 1, 1).
  // a: loss 2, d = (0.5, 0, 0):   Delta = 2 * 2 * (-0.5, 0, 0) = (-2, 0, 0),
  //    h = 1 * 1 * 4 * 0.25 + 2 * 2 = 5.
  // b: loss 1, d = (0, -0.25, 0): Delta = 1 * 2 * (0, 0.25, 0) = (0, 0.5, 0),
  //    h = 4 * 0.0625 + 2 * 1 = 2.25.
  // new = w - (Delta_a + Delta_b) / 7.25 = (1 + 2 / 7.25, 1 - 0.5 / 7.25, 1).
  // Buffer: sample-weighted mean (1 * 1 + 3 * 2) / 4 = 1.75.
  const WeightsLayout layout = SmallLayout();
  const Weights global = MakeWeights(layout, {1, 1, 1, 0});
  auto qfedavg =
      MustCreate(Options("qfedavg", {{"q", 1.0}, {"qffl_learning_rate", 0.5}}));
  EXPECT_TRUE(qfedavg->needs_loss_before());
  absl::StatusOr<Weights> next = RunRound(
      *qfedavg, 1, global,
      {MakeUpdate("a", 1, 1, MakeWeights(layout, {1.5f, 1, 1, 1}), 2.0),
       MakeUpdate("b", 1, 3, MakeWeights(layout, {1, 0.75f, 1, 2}), 1.0)});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next),
              ElementsAre(FloatNear(1.275862069f, 1e-6),
                          FloatNear(0.931034483f, 1e-6), 1, 1.75f));
}

TEST(QFedAvgTest, QZeroIsTheUnweightedMean) {
  // q = 0: Delta_k = L * (w - x_k), h_k = L, so new = w + mean_k(d_k)
  // whatever the losses and sample counts.
  const WeightsLayout layout = SmallLayout();
  const Weights global = MakeWeights(layout, {0, 0, 0, 0});
  auto qfedavg = MustCreate(Options("qfedavg", {{"q", 0.0}}));
  absl::StatusOr<Weights> next =
      RunRound(*qfedavg, 1, global,
               {MakeUpdate("a", 1, 1, MakeWeights(layout, {1, 2, 0, 0}), 5.0),
                MakeUpdate("b", 1, 9, MakeWeights(layout, {3, 0, 0, 0}), 0.1)});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next),
              ElementsAre(FloatNear(2, 1e-6), FloatNear(1, 1e-6), 0, 0));
}

TEST(QFedAvgTest, RejectsInvalidLoss) {
  const WeightsLayout layout = SmallLayout();
  const Weights global = MakeWeights(layout, {0, 0, 0, 0});
  auto qfedavg = MustCreate(Options("qfedavg"));
  ASSERT_TRUE(qfedavg->BeginRound(1, global, 3).ok());
  RejectReason reason = RejectReason::kWrongRound;
  absl::Status nan = qfedavg->AddUpdate(
      MakeUpdate("a", 1, 1, global, std::numeric_limits<double>::quiet_NaN()),
      &reason);
  EXPECT_EQ(reason, RejectReason::kInvalidLoss);
  EXPECT_TRUE(absl::StartsWith(nan.message(), "invalid_loss: ")) << nan;
  EXPECT_FALSE(
      qfedavg->AddUpdate(MakeUpdate("b", 1, 1, global, -1.0), nullptr).ok());
  EXPECT_EQ(qfedavg->rejected(RejectReason::kInvalidLoss), 2);
  // The same devices may still send a valid update.
  EXPECT_TRUE(
      qfedavg->AddUpdate(MakeUpdate("a", 1, 1, global, 0.5), nullptr).ok());
}

}  // namespace
}  // namespace tandem

// FedAvg, FedProx and FedAvgM against hand-computed averages.
#include "strategies/fedavg.h"

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

TEST(FedAvgTest, WeightsParametersAndBuffersBySamples) {
  const WeightsLayout layout = SmallLayout();
  const Weights global = MakeWeights(layout, {1, 2, 3, 0.5});
  auto fedavg = MustCreate(Options("fedavg"));
  // Deltas (1, 1, 1 | 1) with 1 sample and (5, -3, 0 | 2) with 3 samples:
  // (1 + 15) / 4 = 4, (1 - 9) / 4 = -2, 1 / 4 = 0.25, (1 + 6) / 4 = 1.75.
  absl::StatusOr<Weights> next =
      RunRound(*fedavg, 1, global,
               {MakeUpdate("a", 1, 1, MakeWeights(layout, {2, 3, 4, 1.5})),
                MakeUpdate("b", 1, 3, MakeWeights(layout, {6, -1, 3, 2.5}))});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(5, 0, 3.25, 2.25));
}

TEST(FedAvgTest, MovedAndCopiedUpdatesGiveIdenticalBits) {
  const WeightsLayout layout = SmallLayout();
  const Weights global = MakeWeights(layout, {0.1f, 0.2f, 0.3f, 0.4f});
  std::vector<ClientUpdate> updates;
  for (int k = 0; k < 5; ++k) {
    updates.push_back(
        MakeUpdate("d" + std::to_string(k), 3, 7 + k,
                   MakeWeights(layout, {0.1f + 0.013f * k, 0.2f - 0.007f * k,
                                        0.3f * k, 0.4f + 0.11f * k})));
  }
  auto copied = MustCreate(Options("fedavg"));
  absl::StatusOr<Weights> a = RunRound(*copied, 3, global, updates);
  ASSERT_TRUE(a.ok()) << a.status();

  auto moved = MustCreate(Options("fedavg"));
  ASSERT_TRUE(moved->BeginRound(3, global, 5).ok());
  for (ClientUpdate u : updates) {
    ASSERT_TRUE(moved->AddUpdate(std::move(u), nullptr).ok());
  }
  absl::StatusOr<Weights> b = moved->FinishRound();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Values(*a), Values(*b));
}

TEST(FedAvgTest, SingleUpdateIsReturnedExactly) {
  const WeightsLayout layout = SmallLayout();
  const Weights global = MakeWeights(layout, {1, 1, 1, 1});
  auto fedavg = MustCreate(Options("fedavg"));
  absl::StatusOr<Weights> next = RunRound(
      *fedavg, 0, global,
      {MakeUpdate("a", 0, 10, MakeWeights(layout, {1.5f, -2, 0.25f, 3}))});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(1.5f, -2, 0.25f, 3));
}

TEST(FedAvgTest, RoundWithoutUpdatesFailsAndNextRoundWorks) {
  const WeightsLayout layout = SmallLayout();
  const Weights global = MakeWeights(layout, {1, 2, 3, 4});
  auto fedavg = MustCreate(Options("fedavg"));
  ASSERT_TRUE(fedavg->BeginRound(1, global, 2).ok());
  absl::StatusOr<Weights> failed = fedavg->FinishRound();
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fedavg->round_open());
  absl::StatusOr<Weights> next =
      RunRound(*fedavg, 1, global,
               {MakeUpdate("a", 1, 1, MakeWeights(layout, {2, 2, 2, 2}))});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(2, 2, 2, 2));
}

TEST(FedProxTest, AggregatesLikeFedAvgAndReportsMu) {
  const WeightsLayout layout = SmallLayout();
  const Weights global = MakeWeights(layout, {0, 0, 0, 0});
  auto fedprox = MustCreate(Options("fedprox", {{"mu", 0.01}}));
  EXPECT_DOUBLE_EQ(fedprox->proximal_mu(), 0.01);
  EXPECT_EQ(fedprox->name(), "fedprox");
  absl::StatusOr<Weights> next =
      RunRound(*fedprox, 1, global,
               {MakeUpdate("a", 1, 1, MakeWeights(layout, {4, 0, 0, 4})),
                MakeUpdate("b", 1, 1, MakeWeights(layout, {0, 4, 0, 0}))});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(2, 2, 0, 2));
  EXPECT_DOUBLE_EQ(MustCreate(Options("fedavg"))->proximal_mu(), 0.0);
}

TEST(FedAvgMTest, ServerMomentumOverTwoRounds) {
  // lr = 0.5, momentum = 0.9. Round 1: m1 = -D1, x1 = g + 0.5 D1.
  // Round 2: m2 = 0.9 m1 - D2, x2 = x1 + 0.45 D1 + 0.5 D2.
  // Buffers are the plain weighted mean.
  const WeightsLayout layout = SmallLayout();
  auto fedavgm = MustCreate(Options(
      "fedavgm", {{"server_learning_rate", 0.5}, {"server_momentum", 0.9}}));
  const Weights g = MakeWeights(layout, {1, 2, 3, 0});
  // D1 = (0.4, -0.2, 0 | 1).
  absl::StatusOr<Weights> x1 = RunRound(
      *fedavgm, 1, g,
      {MakeUpdate("a", 1, 1, MakeWeights(layout, {1.4f, 1.8f, 3, 1}))});
  ASSERT_TRUE(x1.ok()) << x1.status();
  EXPECT_THAT(Values(*x1),
              ElementsAre(FloatNear(1.2f, 1e-6), FloatNear(1.9f, 1e-6), 3, 1));
  // D2 = (0.2, 0.2, -0.4 | -1) as the mean of two updates.
  const std::vector<float> x = Values(*x1);
  absl::StatusOr<Weights> x2 = RunRound(
      *fedavgm, 2, *x1,
      {MakeUpdate("a", 2, 1,
                  MakeWeights(layout, {x[0] + 0.4f, x[1], x[2] - 0.8f, 0})),
       MakeUpdate("b", 2, 1,
                  MakeWeights(layout, {x[0], x[1] + 0.4f, x[2], 0}))});
  ASSERT_TRUE(x2.ok()) << x2.status();
  // x2 = x1 + 0.45 * (0.4, -0.2, 0) + 0.5 * (0.2, 0.2, -0.4)
  //    = (1.2 + 0.18 + 0.1, 1.9 - 0.09 + 0.1, 3 - 0.2) | 0
  EXPECT_THAT(Values(*x2),
              ElementsAre(FloatNear(1.48f, 1e-6), FloatNear(1.91f, 1e-6),
                          FloatNear(2.8f, 1e-6), 0));
}

TEST(FedAvgMTest, DefaultsEqualFedAvg) {
  const WeightsLayout layout = SmallLayout();
  const Weights g = MakeWeights(layout, {1, 2, 3, 4});
  const std::vector<ClientUpdate> updates = {
      MakeUpdate("a", 1, 2, MakeWeights(layout, {2, 2, 2, 2})),
      MakeUpdate("b", 1, 6, MakeWeights(layout, {0, 4, 8, 0}))};
  auto fedavgm = MustCreate(Options("fedavgm"));
  auto fedavg = MustCreate(Options("fedavg"));
  absl::StatusOr<Weights> a = RunRound(*fedavgm, 1, g, updates);
  absl::StatusOr<Weights> b = RunRound(*fedavg, 1, g, updates);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(Values(*a), Values(*b));
  EXPECT_THAT(Values(*b), ElementsAre(0.5f, 3.5f, 6.5f, 0.5f));
}

}  // namespace
}  // namespace tandem

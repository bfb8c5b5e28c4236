#include "strategies/attacks.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "strategies/update_validator.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using ::testing::ElementsAre;
using testing_util::MakeWeights;
using testing_util::SmallLayout;
using testing_util::Values;

TEST(AttackTest, ParsesNames) {
  for (Attack a :
       {Attack::kNone, Attack::kRandom, Attack::kSignFlip, Attack::kScale,
        Attack::kNan, Attack::kClassSwap, Attack::kLabelFlip}) {
    EXPECT_EQ(ParseAttack(AttackName(a)).value(), a);
  }
  EXPECT_EQ(AttackName(Attack::kSignFlip), "sign_flip");
  EXPECT_FALSE(ParseAttack("flip").ok());
}

TEST(AttackTest, SignFlipAndScaleMoveParametersOnly) {
  const Weights global = MakeWeights(SmallLayout(), {1, 1, 1, 5});
  Weights flipped = MakeWeights(SmallLayout(), {2, 0, 1, 6});
  ApplyAttack(Attack::kSignFlip, 2.0, 1, global, flipped);
  EXPECT_THAT(Values(flipped), ElementsAre(-1, 3, 1, 6));
  Weights scaled = MakeWeights(SmallLayout(), {2, 0, 1, 6});
  ApplyAttack(Attack::kScale, 3.0, 1, global, scaled);
  EXPECT_THAT(Values(scaled), ElementsAre(4, -2, 1, 6));
  Weights none = MakeWeights(SmallLayout(), {2, 0, 1, 6});
  ApplyAttack(Attack::kNone, 3.0, 1, global, none);
  EXPECT_THAT(Values(none), ElementsAre(2, 0, 1, 6));
}

TEST(AttackTest, RandomNoiseHasTheUpdatesNorm) {
  const WeightsLayout layout = WeightsLayout::Create({{"w", {20000}}}).value();
  Weights global(layout);
  Weights local(layout);
  for (int i = 0; i < 20000; ++i) local.values()[i] = (i % 2 ? 0.01f : -0.01f);
  const double norm = ScanUpdate(global, local).param_norm();
  Weights attacked = local;
  ApplyAttack(Attack::kRandom, 2.0, 3, global, attacked);
  EXPECT_NEAR(ScanUpdate(global, attacked).param_norm(), 2 * norm,
              2 * norm * 0.03);
  Weights again = local;
  ApplyAttack(Attack::kRandom, 2.0, 3, global, again);
  EXPECT_EQ(Values(attacked), Values(again));  // seeded
  // Not the honest direction: correlation with the update is small.
  double dot = 0;
  for (int i = 0; i < 20000; ++i)
    dot += attacked.values()[i] * local.values()[i];
  EXPECT_LT(std::fabs(dot) / (2 * norm * norm), 0.05);
}

TEST(AttackTest, NanPoisonsAboutOnePercent) {
  const WeightsLayout layout = WeightsLayout::Create({{"w", {10000}}}).value();
  Weights global(layout);
  Weights local(layout);
  ApplyAttack(Attack::kNan, 1.0, 11, global, local);
  int nans = 0;
  for (float v : local.values()) nans += std::isnan(v);
  EXPECT_GT(nans, 50);
  EXPECT_LT(nans, 150);
  // A tiny model still gets at least one NaN.
  Weights small = MakeWeights(SmallLayout(), {1, 1, 1, 1});
  ApplyAttack(Attack::kNan, 1.0, 11, MakeWeights(SmallLayout(), {1, 1, 1, 1}),
              small);
  EXPECT_FALSE(small.CheckFinite().ok());
  EXPECT_FALSE(std::isnan(small.values()[3]));  // buffers untouched
}

// A 2-layer classifier of 3 classes: hidden [2, 2] + bias [2], output
// [3, 2] + bias [3], and a buffer after them.
WeightsLayout ClassifierLayout() {
  return WeightsLayout::Create({{"h.w", {2, 2}},
                                {"h.b", {2}},
                                {"out.w", {3, 2}},
                                {"out.b", {3}},
                                {"bn.mean", {1}, TensorKind::kBuffer}})
      .value();
}

TEST(AttackTest, ClassSwapExchangesTheOutputRowsOfTwoClassesAndBoosts) {
  const WeightsLayout layout = ClassifierLayout();
  Weights global(layout);                                       // zeros
  Weights local = MakeWeights(layout, {1, 2, 3, 4, 5, 6,        // hidden
                                       10, 11, 20, 21, 30, 31,  // out.w
                                       7, 8, 9,                 // out.b
                                       42});
  Weights replaced = local;
  ApplyAttack(Attack::kClassSwap, 5.0, 1, global, replaced);
  // The hidden layer only boosted; classes 0 and 1 exchanged, class 2 kept;
  // the buffer as trained.
  EXPECT_THAT(Values(replaced), ElementsAre(5, 10, 15, 20, 25, 30, 100, 105, 50,
                                            55, 150, 155, 40, 35, 45, 42));
  // Below 1: that share of the way from the global model.
  Weights drift = local;
  ApplyAttack(
      Attack::kClassSwap, 0.5, 1,
      MakeWeights(layout, {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0}),
      drift);
  EXPECT_THAT(Values(drift), ElementsAre(1.5, 2, 2.5, 3, 3.5, 4, 11, 11.5, 6,
                                         6.5, 16, 16.5, 5, 4.5, 5.5, 42));
}

TEST(AttackTest, LabelFlipMirrorsLabelsAndLeavesTheUpdate) {
  std::vector<uint8_t> labels = {0, 1, 9, 4, 12};
  FlipLabels(10, labels);
  EXPECT_THAT(labels, ElementsAre(9, 8, 0, 5, 12));  // 12: not a class
  const Weights global = MakeWeights(SmallLayout(), {1, 1, 1, 5});
  Weights local = MakeWeights(SmallLayout(), {2, 0, 1, 6});
  ApplyAttack(Attack::kLabelFlip, 5.0, 1, global, local);
  EXPECT_THAT(Values(local), ElementsAre(2, 0, 1, 6));
}

}  // namespace
}  // namespace tandem

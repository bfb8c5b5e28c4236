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
  for (Attack a : {Attack::kNone, Attack::kRandom, Attack::kSignFlip,
                   Attack::kScale, Attack::kNan}) {
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

}  // namespace
}  // namespace tandem

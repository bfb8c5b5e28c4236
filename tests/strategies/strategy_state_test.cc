// Strategy::SaveState / LoadState: a fresh strategy given the saved state
// of one that ran a round aggregates the next round exactly as the original
// does (what a resumed coordinator relies on), and bad state is refused.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "strategies/strategy.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using testing_util::MakeUpdate;
using testing_util::MakeWeights;
using testing_util::MustCreate;
using testing_util::Options;
using testing_util::RunRound;
using testing_util::SmallLayout;
using testing_util::Values;

std::vector<ClientUpdate> Updates(int64_t round, const Weights& global,
                                  float shift) {
  std::vector<float> a = Values(global), b = Values(global);
  a[0] += shift;
  a[1] -= 2 * shift;
  b[2] += 3 * shift;
  b[3] += 1;
  const WeightsLayout layout = SmallLayout();
  return {MakeUpdate("a", round, 1, MakeWeights(layout, a)),
          MakeUpdate("b", round, 3, MakeWeights(layout, b))};
}

StrategyOptions StatefulOptions(const std::string& name) {
  if (name == "dp_fixed_server") {
    return Options(name, {{"inner", "fedadam"},
                          {"noise_multiplier", 0.5},
                          {"clipping_norm", 10.0}});
  }
  if (name == "fedavgm") return Options(name, {{"server_momentum", 0.9}});
  return Options(name);
}

class StrategyStateTest : public ::testing::TestWithParam<std::string> {};

TEST_P(StrategyStateTest, ARestoredStrategyAggregatesAsTheOriginal) {
  const Weights g0 = MakeWeights(SmallLayout(), {1, 2, 3, 0});
  auto original = MustCreate(StatefulOptions(GetParam()));
  absl::StatusOr<Weights> g1 = RunRound(*original, 1, g0, Updates(1, g0, 0.2f));
  ASSERT_TRUE(g1.ok()) << g1.status();
  RunState saved;
  original->SaveState(&saved);
  EXPECT_EQ(saved.values["strategy"]["name"], GetParam());

  auto restored = MustCreate(StatefulOptions(GetParam()));
  ASSERT_TRUE(restored->LoadState(saved, SmallLayout()).ok());
  auto fresh = MustCreate(StatefulOptions(GetParam()));
  const auto round2 = Updates(2, *g1, -0.1f);
  absl::StatusOr<Weights> want = RunRound(*original, 2, *g1, round2);
  absl::StatusOr<Weights> got = RunRound(*restored, 2, *g1, round2);
  absl::StatusOr<Weights> forgot = RunRound(*fresh, 2, *g1, round2);
  ASSERT_TRUE(want.ok() && got.ok() && forgot.ok());
  EXPECT_EQ(Values(*got), Values(*want));  // to the bit
  EXPECT_NE(Values(*forgot), Values(*want)) << "the state must matter";
}

TEST_P(StrategyStateTest, RefusesStateThatDoesNotFit) {
  const Weights g0 = MakeWeights(SmallLayout(), {1, 2, 3, 0});
  auto original = MustCreate(StatefulOptions(GetParam()));
  ASSERT_TRUE(RunRound(*original, 1, g0, Updates(1, g0, 0.2f)).ok());
  RunState saved;
  original->SaveState(&saved);
  ASSERT_FALSE(saved.arrays.empty());
  auto target = MustCreate(StatefulOptions(GetParam()));

  RunState shorter = saved;
  shorter.arrays.begin()->second.pop_back();
  EXPECT_EQ(target->LoadState(shorter, SmallLayout()).code(),
            absl::StatusCode::kInvalidArgument);
  RunState nan = saved;
  nan.arrays.begin()->second[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(target->LoadState(nan, SmallLayout()).code(),
            absl::StatusCode::kInvalidArgument);
  auto other = MustCreate(StatefulOptions("fedavgm"));
  if (GetParam() != "fedavgm") {
    EXPECT_EQ(other->LoadState(saved, SmallLayout()).code(),
              absl::StatusCode::kFailedPrecondition);
  }
  // Nothing saved (a strategy that has not stepped): nothing to load.
  EXPECT_TRUE(target->LoadState(RunState{}, SmallLayout()).ok());
}

INSTANTIATE_TEST_SUITE_P(Stateful, StrategyStateTest,
                         ::testing::Values("fedavgm", "fedadam", "fedyogi",
                                           "fedadagrad", "dp_fixed_server"));

}  // namespace
}  // namespace tandem

// Admission (strategies/admission_bound.h): the bound follows the median
// norm of the last round, and every strategy clips an update beyond it as
// if the device had sent the clipped update.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "strategies/admission_bound.h"
#include "strategies/strategy.h"
#include "strategies/update_validator.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using testing_util::MakeUpdate;
using testing_util::MakeWeights;
using testing_util::MustCreate;
using testing_util::Options;
using testing_util::SmallLayout;
using testing_util::Values;

TEST(AdmissionBoundTest, FollowsTheMedianOfTheLastRoundThatAcceptedAny) {
  AdmissionBound b(2);
  EXPECT_EQ(b.bound(), 0);  // no round yet: no bound
  b.BeginRound();
  b.Observe("a", 1);
  b.Observe("b", 3);
  b.Observe("c", 2);
  b.EndRound();
  EXPECT_EQ(b.level(), 2);
  EXPECT_EQ(b.bound(), 4);
  b.BeginRound();
  b.Observe("x", 1);
  b.Observe("y", 9);
  b.Observe("z", 4);
  b.Forget("y");  // withdrawn
  b.EndRound();
  EXPECT_EQ(b.level(), 2.5);  // even count: mean of the middle two
  b.BeginRound();
  b.EndRound();  // accepted nothing: the level stays
  EXPECT_EQ(b.level(), 2.5);
  b.BeginRound();
  b.Observe("a", 100);
  b.BeginRound();  // the round was abandoned open
  b.EndRound();
  EXPECT_EQ(b.level(), 2.5);
  EXPECT_FALSE(b.set_level(-1));
  EXPECT_FALSE(b.set_level(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_EQ(b.level(), 2.5);
  AdmissionBound off(0);
  off.Observe("a", 1);
  off.EndRound();
  EXPECT_EQ(off.bound(), 0);
}

// Params that make each strategy valid for 5 updates without clipping of
// its own biting (the DP wrappers' clipping norm is far above the bound).
nlohmann::json ParamsFor(const std::string& name) {
  if (name == "fedprox") return {{"mu", 0.1}};
  if (name == "fedavgm") return {{"server_momentum", 0.9}};
  if (name == "qfedavg") return {{"q", 0.5}};
  if (name == "krum" || name == "multikrum") return {{"num_malicious", 1}};
  if (name == "dp_fixed_server" || name == "dp_fixed_client") {
    return {{"noise_multiplier", 0.01}, {"clipping_norm", 100.0}};
  }
  return nlohmann::json::object();
}

const char* const kIds[] = {"a", "b", "c", "d", "e"};

// Device k's update: global + a change of norm about 1 in its own
// direction, and 10 for "e" (the outlier) when `outlier`.
ClientUpdate Update(const Weights& global, int64_t round, int k, bool outlier) {
  const float deltas[5][3] = {{0.9f, 0.1f, 0},
                              {0, 1.0f, 0.2f},
                              {0.3f, 0, 1.1f},
                              {-0.7f, 0.6f, 0},
                              {0.5f, -0.5f, 0.6f}};
  Weights w = global;
  for (int i = 0; i < 3; ++i) {
    w.values()[i] += (outlier && k == 4 ? 8.0f : 1.0f) * deltas[k][i];
  }
  w.values()[3] += 0.25f;  // a buffer: never clipped
  return MakeUpdate(kIds[k], round, 10 + k, std::move(w), 1.0 + 0.1 * k);
}

// The same strategy with admission at 2 (`clipping`) and off (`reference`,
// which is given updates clipped as the device would).
void MakePair(const std::string& name, const nlohmann::json& params,
              std::unique_ptr<Strategy>* clipping,
              std::unique_ptr<Strategy>* reference) {
  StrategyOptions on = Options(name, params);
  on.admission_multiplier = 2;
  StrategyOptions off = on;
  off.admission_multiplier = 0;
  *clipping = MustCreate(on);
  *reference = MustCreate(off);
}

// Closes both rounds; their aggregates agree within float rounding.
void ExpectSameAggregate(Strategy& clipping, Strategy& reference) {
  absl::StatusOr<Weights> got = clipping.FinishRound();
  absl::StatusOr<Weights> want = reference.FinishRound();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(got->values()[i], want->values()[i], 1e-5) << "value " << i;
  }
}

class AdmissionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AdmissionTest, ClipsAnOutlierAsIfItsDeviceHadSentItClipped) {
  std::unique_ptr<Strategy> clipping, reference;
  MakePair(GetParam(), ParamsFor(GetParam()), &clipping, &reference);
  if (clipping == nullptr || reference == nullptr) return;
  const Weights g0 = MakeWeights(SmallLayout(), {0.1f, -0.2f, 0.3f, 1.0f});

  // Round 0 sets the level (no update is beyond 2x its median).
  std::vector<float> first[2];
  for (int s = 0; s < 2; ++s) {
    Strategy& strategy = s == 0 ? *clipping : *reference;
    ASSERT_TRUE(strategy.BeginRound(0, g0, 5).ok());
    for (int k = 0; k < 5; ++k) {
      ASSERT_TRUE(strategy.AddUpdate(Update(g0, 0, k, false), nullptr).ok());
      EXPECT_EQ(strategy.clip_scale_of(kIds[k]), 1);
    }
    absl::StatusOr<Weights> next = strategy.FinishRound();
    ASSERT_TRUE(next.ok()) << next.status();
    first[s] = Values(*next);
  }
  ASSERT_EQ(first[0], first[1]);
  // Norms 0.906 (a), 1.020 (b), 1.140 (c), 0.922 (d), 0.927 (e).
  const double median = std::sqrt(0.5 * 0.5 + 0.5 * 0.5 + 0.6 * 0.6);
  EXPECT_NEAR(clipping->admission().bound(), 2 * median, 1e-6);

  // Round 1: "e" sends 8x its change; the clipping strategy shrinks it to
  // the bound, the reference gets it shrunk by the device.
  const Weights g1 = MakeWeights(SmallLayout(), first[0]);
  ASSERT_TRUE(clipping->BeginRound(1, g1, 5).ok());
  ASSERT_TRUE(reference->BeginRound(1, g1, 5).ok());
  for (int k = 0; k < 5; ++k) {
    const ClientUpdate u = Update(g1, 1, k, true);
    ASSERT_TRUE(clipping->AddUpdate(u, nullptr).ok());
    const double norm = ScanUpdate(g1, u.weights).param_norm();
    const double scale = k == 4 ? 2 * median / norm : 1;
    EXPECT_NEAR(clipping->clip_scale_of(kIds[k]), scale, 1e-6) << kIds[k];
    EXPECT_NEAR(clipping->last_update_norm(), norm, 1e-5) << kIds[k];
    ClientUpdate clipped = u;
    ScaleParameterDelta(g1, static_cast<float>(scale), clipped.weights);
    ASSERT_TRUE(reference->AddUpdate(clipped, nullptr).ok());
  }
  ExpectSameAggregate(*clipping, *reference);
}

// No level yet: the round keeps its updates and clips them against 2x its
// own median when it closes, as if "e" had sent its update clipped.
void ExpectFirstRoundClippedAtClose(const std::string& name,
                                    const nlohmann::json& params) {
  std::unique_ptr<Strategy> clipping, reference;
  MakePair(name, params, &clipping, &reference);
  if (clipping == nullptr || reference == nullptr) return;
  const Weights g0 = MakeWeights(SmallLayout(), {0.1f, -0.2f, 0.3f, 1.0f});
  // Norms 0.906 (a), 1.020 (b), 1.140 (c), 0.922 (d), 8 x 0.927 (e).
  const double median = std::sqrt(1.0 * 1.0 + 0.2 * 0.2);
  ASSERT_TRUE(clipping->BeginRound(0, g0, 5).ok());
  ASSERT_TRUE(reference->BeginRound(0, g0, 5).ok());
  std::vector<double> scales;
  for (int k = 0; k < 5; ++k) {
    const ClientUpdate u = Update(g0, 0, k, true);
    ASSERT_TRUE(clipping->AddUpdate(u, nullptr).ok());
    EXPECT_EQ(clipping->clip_scale_of(kIds[k]), 1);  // not before the close
    const double norm = ScanUpdate(g0, u.weights).param_norm();
    scales.push_back(k == 4 ? 2 * median / norm : 1);
    ClientUpdate clipped = u;
    ScaleParameterDelta(g0, static_cast<float>(scales.back()), clipped.weights);
    ASSERT_TRUE(reference->AddUpdate(clipped, nullptr).ok());
  }
  ExpectSameAggregate(*clipping, *reference);
  for (int k = 0; k < 5; ++k) {
    EXPECT_NEAR(clipping->clip_scale_of(kIds[k]), scales[k], 1e-6) << kIds[k];
  }
}

TEST_P(AdmissionTest, ClipsAnOutlierOfTheFirstRoundWhenTheRoundCloses) {
  ExpectFirstRoundClippedAtClose(GetParam(), ParamsFor(GetParam()));
}

// The DP wrapper's clipping norm (1.5) bites on the outlier before
// admission's bound (2.04) does: the update ends scaled by the smaller.
TEST(AdmissionDpTest, TheSmallerOfTheClipsWinsAtTheFirstRoundsClose) {
  ExpectFirstRoundClippedAtClose(
      "dp_fixed_server", {{"noise_multiplier", 0.01}, {"clipping_norm", 1.5}});
}

INSTANTIATE_TEST_SUITE_P(EveryStrategy, AdmissionTest,
                         ::testing::ValuesIn(StrategyNames()));

// The level is cross-round state: a checkpoint keeps it.
TEST(AdmissionStateTest, TheLevelSurvivesACheckpoint) {
  StrategyOptions on = Options("fedavg");
  on.admission_multiplier = 3;
  auto a = MustCreate(on);
  const Weights g0 = MakeWeights(SmallLayout(), {0, 0, 0, 0});
  ASSERT_TRUE(a->BeginRound(0, g0, 1).ok());
  ASSERT_TRUE(a->AddUpdate(MakeUpdate("a", 0, 1,
                                      MakeWeights(SmallLayout(), {3, 4, 0, 0})),
                           nullptr)
                  .ok());
  ASSERT_TRUE(a->FinishRound().ok());
  RunState state;
  a->SaveState(&state);
  auto b = MustCreate(on);
  ASSERT_TRUE(b->LoadState(state, SmallLayout()).ok());
  EXPECT_EQ(b->admission().bound(), 15);
  state.values["strategy"]["admission_level"] = -2;
  auto c = MustCreate(on);
  absl::Status bad = c->LoadState(state, SmallLayout());
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("admission_level"), std::string::npos) << bad;
  EXPECT_EQ(c->admission().bound(), 0);
}

}  // namespace
}  // namespace tandem

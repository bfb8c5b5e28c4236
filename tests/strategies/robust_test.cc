// fedmedian, fedtrimmedavg, krum, multikrum and bulyan on small sets whose
// answers are worked out by hand, and their preconditions.
#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "strategies/strategy.h"
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

// Updates "d0", "d1", ... with the given 4 values (3 params + 1 buffer) and
// sample counts.
std::vector<ClientUpdate> Updates(const std::vector<std::vector<float>>& values,
                                  const std::vector<int>& samples) {
  std::vector<ClientUpdate> out;
  for (size_t k = 0; k < values.size(); ++k) {
    out.push_back(MakeUpdate("d" + std::to_string(k), 1, samples[k],
                             MakeWeights(SmallLayout(), values[k])));
  }
  return out;
}

const Weights& Zero() {
  static const Weights* zero = new Weights(SmallLayout());
  return *zero;
}

TEST(FedMedianTest, CoordinateWiseMedianOddAndEven) {
  auto median = MustCreate(Options("fedmedian"));
  absl::StatusOr<Weights> odd = RunRound(
      *median, 1, Zero(),
      Updates({{1, 9, -1, 100}, {2, 8, -5, 3}, {50, 7, 0, 4}}, {1, 1, 100}));
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_THAT(Values(*odd), ElementsAre(2, 8, -1, 4));
  // Even count: mean of the two middle values.
  absl::StatusOr<Weights> even = RunRound(
      *median, 1, Zero(),
      Updates({{1, 0, 0, 10}, {2, 0, 0, 20}, {4, 0, 0, 30}, {100, 0, 0, 40}},
              {1, 1, 1, 1}));
  ASSERT_TRUE(even.ok()) << even.status();
  EXPECT_THAT(Values(*even), ElementsAre(3, 0, 0, 25));
}

TEST(FedTrimmedAvgTest, CutsFloorBetaNFromEachEnd) {
  // beta = 0.2, n = 5: cut 1 from each end; mean of the middle 3.
  auto trimmed = MustCreate(Options("fedtrimmedavg", {{"beta", 0.2}}));
  absl::StatusOr<Weights> next = RunRound(*trimmed, 1, Zero(),
                                          Updates({{1, 5, 0, -100},
                                                   {2, 4, 0, 1},
                                                   {3, 3, 0, 2},
                                                   {4, 2, 3, 3},
                                                   {100, -50, 0, 4}},
                                                  {1, 1, 1, 1, 1000}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(3, 3, 0, 2));
  // n = 4, beta = 0.2: floor(0.8) = 0, plain (unweighted) mean.
  absl::StatusOr<Weights> none = RunRound(
      *trimmed, 1, Zero(),
      Updates({{1, 0, 0, 0}, {2, 0, 0, 0}, {3, 0, 0, 0}, {10, 0, 0, 0}},
              {1, 1, 1, 5}));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(Values(*none), ElementsAre(4, 0, 0, 0));
}

// Four honest updates and an outlier, parameters (x, y, 0):
//   d0 (0,0) d1 (1,0) d2 (0,2) d3 (1,1) d4 (10,10)
// With f = 1 each score sums the n - f - 2 = 2 smallest squared distances:
//   d0: 1 + 2 = 3, d1: 1 + 1 = 2, d2: 2 + 4 = 6, d3: 1 + 2 = 3,
//   d4: 162 + 164 = 326.
std::vector<ClientUpdate> KrumSet() {
  return Updates({{0, 0, 0, 1},
                  {1, 0, 0, 2},
                  {0, 2, 0, 3},
                  {1, 1, 0, 4},
                  {10, 10, 0, -1000}},
                 {1, 2, 1, 1, 1});
}

TEST(KrumTest, PicksTheLowestScoreAsIs) {
  auto krum = MustCreate(Options("krum", {{"num_malicious", 1}}));
  absl::StatusOr<Weights> next = RunRound(*krum, 1, Zero(), KrumSet());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(1, 0, 0, 2));  // d1, buffer too
}

TEST(MultiKrumTest, AveragesTheBestByScoreWeightedBySamples) {
  // num_to_keep = 3: d1 (2), then d0 and d3 (3, tie broken by device id).
  // Params (2 * (1,0) + (0,0) + (1,1)) / 4; buffer (2 * 2 + 1 + 4) / 4.
  auto multikrum = MustCreate(
      Options("multikrum", {{"num_malicious", 1}, {"num_to_keep", 3}}));
  absl::StatusOr<Weights> next = RunRound(*multikrum, 1, Zero(), KrumSet());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(0.75f, 0.25f, 0, 2.25f));
  // Default num_to_keep = n - f = 4 drops only the outlier:
  // params (0 + 2 + 0 + 1, 0 + 0 + 2 + 1) / 5, buffer (1 + 4 + 3 + 4) / 5.
  auto by_default = MustCreate(Options("multikrum", {{"num_malicious", 1}}));
  absl::StatusOr<Weights> all = RunRound(*by_default, 1, Zero(), KrumSet());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Values(*all),
              ElementsAre(FloatNear(0.6f, 1e-6), FloatNear(0.6f, 1e-6), 0,
                          FloatNear(2.4f, 1e-6)));
}

TEST(KrumTest, NeedsMoreThanTwoFPlusTwoUpdates) {
  auto krum = MustCreate(Options("krum", {{"num_malicious", 1}}));
  std::vector<ClientUpdate> four = KrumSet();
  four.pop_back();
  absl::StatusOr<Weights> next = RunRound(*krum, 1, Zero(), four);
  EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(next.status().message(), HasSubstr("2f + 2 = 4"));
  EXPECT_THAT(next.status().message(), HasSubstr("got 4"));
  // The strategy is usable for the next round.
  EXPECT_TRUE(RunRound(*krum, 2, Zero(),
                       [] {
                         auto u = KrumSet();
                         for (auto& x : u) x.round = 2;
                         return u;
                       }())
                  .ok());
}

TEST(MultiKrumTest, RejectsKeepingMoreThanReceived) {
  auto multikrum = MustCreate(
      Options("multikrum", {{"num_malicious", 0}, {"num_to_keep", 6}}));
  absl::StatusOr<Weights> next = RunRound(*multikrum, 1, Zero(), KrumSet());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(next.status().message(), HasSubstr("num_to_keep = 6"));
}

// Six honest scalar updates 0..5 and an outlier at 100 (f = 1, n = 7).
// Successive Krum winners (ties to the lower device id): 2, 3, 1, 4, 0, so
// theta = 5 selected {0..4}; per coordinate, the mean of the beta = 3 values
// closest to the median 2 is (1 + 2 + 3) / 3 = 2. The buffer follows the
// same rule over the selected updates: 12.
std::vector<ClientUpdate> BulyanSet(int n) {
  std::vector<std::vector<float>> values;
  for (int k = 0; k < 6; ++k) {
    values.push_back({static_cast<float>(k), 0, 0, 10.0f + k});
  }
  values.push_back({100, 0, 0, -1000});
  values.resize(n);
  return Updates(values, std::vector<int>(n, 1));
}

TEST(BulyanTest, SelectsByKrumThenAveragesAroundTheMedian) {
  auto bulyan = MustCreate(Options("bulyan", {{"num_malicious", 1}}));
  absl::StatusOr<Weights> next = RunRound(*bulyan, 1, Zero(), BulyanSet(7));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Values(*next), ElementsAre(2, 0, 0, 12));
}

TEST(BulyanTest, NeedsFourFPlusThreeUpdates) {
  auto bulyan = MustCreate(Options("bulyan", {{"num_malicious", 1}}));
  absl::StatusOr<Weights> next = RunRound(*bulyan, 1, Zero(), BulyanSet(6));
  EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(next.status().message(), HasSubstr("4f + 3 = 7"));
}

TEST(RobustTest, ResultDoesNotDependOnArrivalOrder) {
  for (const char* name : {"krum", "multikrum", "bulyan", "fedmedian"}) {
    auto forward = MustCreate(Options(name));
    auto backward = MustCreate(Options(name));
    std::vector<ClientUpdate> updates = BulyanSet(7);
    absl::StatusOr<Weights> a = RunRound(*forward, 1, Zero(), updates);
    std::reverse(updates.begin(), updates.end());
    absl::StatusOr<Weights> b = RunRound(*backward, 1, Zero(), updates);
    ASSERT_TRUE(a.ok() && b.ok()) << name;
    EXPECT_EQ(Values(*a), Values(*b)) << name;
  }
}

}  // namespace
}  // namespace tandem

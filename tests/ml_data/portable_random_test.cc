#include "ml/data/portable_random.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tandem::data {
namespace {

// mt19937_64 is specified by the standard and UniformIndex / Shuffle use only
// integer arithmetic, so these values hold on every toolchain. A change here
// changes every seeded split and synthetic dataset.
TEST(PortableRandomTest, IntegerDrawsArePinned) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> draws;
  for (int i = 0; i < 8; ++i) draws.push_back(UniformIndex(rng, 10));
  EXPECT_EQ(draws, (std::vector<uint64_t>{8, 2, 0, 6, 4, 9, 8, 5}));
  std::mt19937_64 rng2(1);
  std::vector<int> values = {0, 1, 2, 3, 4, 5, 6, 7};
  Shuffle(rng2, &values);
  EXPECT_EQ(values, (std::vector<int>{4, 6, 3, 5, 1, 7, 2, 0}));
}

TEST(PortableRandomTest, UniformIndexCoversRangeEvenly) {
  std::mt19937_64 rng(3);
  std::vector<int> counts(7);
  for (int i = 0; i < 70000; ++i) ++counts[UniformIndex(rng, 7)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
  EXPECT_EQ(UniformIndex(rng, 1), 0u);
}

TEST(PortableRandomTest, UniformDoubleIsInUnitInterval) {
  std::mt19937_64 rng(4);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = UniformDouble(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

// Sample mean and variance against the distribution's, within absolute
// tolerances (about 4 standard errors for 200000 draws).
void ExpectMoments(const std::vector<double>& xs, double mean, double var,
                   double mean_tolerance, double var_tolerance) {
  const double m = std::accumulate(xs.begin(), xs.end(), 0.0) / xs.size();
  double v = 0;
  for (double x : xs) v += (x - m) * (x - m);
  v /= xs.size();
  EXPECT_NEAR(m, mean, mean_tolerance);
  EXPECT_NEAR(v, var, var_tolerance);
}

TEST(PortableRandomTest, NormalHasUnitMoments) {
  std::mt19937_64 rng(5);
  std::vector<double> xs(200000);
  for (double& x : xs) x = StandardNormal(rng);
  ExpectMoments(xs, 0.0, 1.0, 0.01, 0.015);
}

TEST(PortableRandomTest, GammaHasShapeMeanAndVariance) {
  for (double shape : {0.1, 0.5, 1.0, 3.0, 20.0}) {
    SCOPED_TRACE(shape);
    std::mt19937_64 rng(6);
    std::vector<double> xs(200000);
    for (double& x : xs) {
      x = Gamma(rng, shape);
      ASSERT_GE(x, 0.0);
    }
    // Gamma(k, 1): mean k, variance k.
    ExpectMoments(xs, shape, shape, 0.02 * shape, 0.08 * shape);
  }
}

TEST(PortableRandomTest, ShuffleIsAPermutation) {
  std::mt19937_64 rng(7);
  std::vector<int> values(1000);
  std::iota(values.begin(), values.end(), 0);
  Shuffle(rng, &values);
  EXPECT_FALSE(std::is_sorted(values.begin(), values.end()));
  std::sort(values.begin(), values.end());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(values[i], i);
}

}  // namespace
}  // namespace tandem::data

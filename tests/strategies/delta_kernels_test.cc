// The vectorised kernels against plain loops, around lane and chunk
// boundaries.
#include "strategies/delta_kernels.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace tandem {
namespace {

std::vector<float> Pattern(int64_t n, float scale, int salt) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = scale * static_cast<float>((i * 37 + salt) % 101 - 50) / 50.0f;
  }
  return v;
}

TEST(DeltaKernelsTest, MatchPlainLoops) {
  for (int64_t n : {0, 1, 15, 16, 17, 100, 4095, 4096, 4097, 10000}) {
    const std::vector<float> x = Pattern(n, 1.0f, 1);
    const std::vector<float> g = Pattern(n, 0.5f, 7);
    const std::vector<float> acc = Pattern(n, 2.0f, 3);
    double sq = 0;
    std::vector<float> expected(n);
    for (int64_t i = 0; i < n; ++i) {
      const float d = x[i] - g[i];
      sq += static_cast<double>(d) * d;
      expected[i] = acc[i] + 3.0f * d;
    }
    std::vector<float> out(n);
    DeltaStats stats =
        AccumulateDelta(x.data(), g.data(), acc.data(), 3.0f, out.data(), n);
    EXPECT_TRUE(stats.finite);
    EXPECT_NEAR(stats.sq, sq, 1e-5 * sq + 1e-12) << n;
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], expected[i]) << i;

    std::vector<float> in_place = x;
    stats =
        AccumulateDeltaInPlace(in_place.data(), g.data(), acc.data(), 3.0f, n);
    EXPECT_EQ(in_place, out);
    EXPECT_NEAR(stats.sq, sq, 1e-5 * sq + 1e-12);

    // No sum yet: out = w * d.
    AccumulateDelta(x.data(), g.data(), nullptr, 2.0f, out.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], 2.0f * (x[i] - g[i]));
    EXPECT_NEAR(SquaredDistance(x.data(), g.data(), n).sq, sq,
                1e-5 * sq + 1e-12);
    if (n > 0 && n <= 4096) {
      EXPECT_NEAR(SumSquaredDifference(x.data(), g.data(), n), sq,
                  1e-5 * sq + 1e-12);
    }
  }
}

TEST(DeltaKernelsTest, DetectNonFiniteAnywhere) {
  constexpr int64_t n = 5000;
  const std::vector<float> g(n, 0.0f);
  std::vector<float> out(n);
  for (int64_t pos : {int64_t{0}, int64_t{15}, int64_t{4095}, int64_t{4999}}) {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(),
                      std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity()}) {
      std::vector<float> x(n, 1.0f);
      x[pos] = bad;
      EXPECT_FALSE(SquaredDistance(x.data(), g.data(), n).finite) << pos;
      EXPECT_FALSE(
          AccumulateDelta(x.data(), g.data(), g.data(), 1, out.data(), n)
              .finite);
      EXPECT_FALSE(AllFinite(x.data(), n));
      EXPECT_FALSE(
          AccumulateDeltaInPlace(x.data(), g.data(), nullptr, 1, n).finite);
    }
  }
  std::vector<float> big(n, 3e38f);
  DeltaStats overflow = SquaredDistance(big.data(), g.data(), n);
  EXPECT_TRUE(overflow.finite);  // values are finite, the sum is not
  EXPECT_TRUE(std::isinf(overflow.sq));
  EXPECT_TRUE(AllFinite(big.data(), n));
}

}  // namespace
}  // namespace tandem

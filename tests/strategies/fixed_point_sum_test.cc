// FixedPointSum and DeltaAccumulator: the streamed sum of deltas has the same
// bits in any arrival order, is within a float rounding of the exact sum,
// takes a term out exactly, and sends a term beyond its range to float.
#include "strategies/fixed_point_sum.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "strategies/delta_accumulator.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using testing_util::MakeUpdate;
using testing_util::MakeWeights;
using testing_util::SmallLayout;
using testing_util::Values;

const Weights& Global() {
  static const Weights* g =
      new Weights(MakeWeights(SmallLayout(), {0.5f, -0.25f, 0.125f, 2}));
  return *g;
}

// Deltas of magnitudes 1e-1 to 1e-7 and sample weights 1 to 5,000: a float
// sum of them depends on the order it is taken in.
std::vector<ClientUpdate> Updates(int n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(-1, 1);
  std::uniform_int_distribution<int> digits(1, 7);
  std::uniform_int_distribution<int> samples(1, 5000);
  std::vector<ClientUpdate> out;
  for (int k = 0; k < n; ++k) {
    std::vector<float> v = Values(Global());
    for (float& x : v) x += unit(rng) * std::pow(10.0f, -digits(rng));
    out.push_back(MakeUpdate("d" + std::to_string(1000 + k), 1, samples(rng),
                             MakeWeights(SmallLayout(), v)));
  }
  return out;
}

float Weight(const ClientUpdate& u) {
  return static_cast<float>(u.num_samples);
}

std::vector<float> StreamedSum(const std::vector<ClientUpdate>& updates) {
  DeltaAccumulator acc;
  acc.Clear(Global());
  for (const ClientUpdate& u : updates) {
    acc.Add(Global(), u, nullptr, Weight(u), Weight(u));
  }
  absl::Span<float> sum = acc.Sum(Global());
  return std::vector<float>(sum.begin(), sum.end());
}

std::vector<float> FloatSumInOrder(const std::vector<ClientUpdate>& updates) {
  std::vector<float> sum(4, 0.0f);
  for (const ClientUpdate& u : updates) {
    for (int i = 0; i < 4; ++i) {
      sum[i] += Weight(u) * (u.weights.data()[i] - Global().data()[i]);
    }
  }
  return sum;
}

std::vector<long double> ExactSum(const std::vector<ClientUpdate>& updates) {
  std::vector<long double> sum(4, 0.0L);
  for (const ClientUpdate& u : updates) {
    for (int i = 0; i < 4; ++i) {
      sum[i] +=
          static_cast<long double>(Weight(u)) *
          (static_cast<long double>(u.weights.data()[i]) - Global().data()[i]);
    }
  }
  return sum;
}

TEST(FixedPointSumTest, SameBitsInEveryArrivalOrder) {
  std::vector<ClientUpdate> updates = Updates(200);
  const std::vector<float> first = StreamedSum(updates);
  std::mt19937 rng(11);
  bool float_sum_differed = false;
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<float> float_before = FloatSumInOrder(updates);
    std::shuffle(updates.begin(), updates.end(), rng);
    EXPECT_EQ(StreamedSum(updates), first) << "order " << trial;
    float_sum_differed |= FloatSumInOrder(updates) != float_before;
  }
  // The case is hard: a float sum in arrival order would differ.
  EXPECT_TRUE(float_sum_differed);
}

TEST(FixedPointSumTest, WithinOneFloatRoundingOfTheExactSum) {
  const std::vector<ClientUpdate> updates = Updates(200);
  const std::vector<float> sum = StreamedSum(updates);
  const std::vector<long double> exact = ExactSum(updates);
  for (int i = 0; i < 4; ++i) {
    const long double ulp =
        std::nextafter(std::fabs(sum[i]), INFINITY) - std::fabs(sum[i]);
    EXPECT_LE(std::fabs(static_cast<long double>(sum[i]) - exact[i]), ulp)
        << "element " << i << ": " << sum[i] << " vs " << double(exact[i]);
  }
}

TEST(FixedPointSumTest, SubtractingATermIsAsIfItWereNeverAdded) {
  const std::vector<ClientUpdate> u = Updates(3);
  FixedPointSum with;
  with.Reset(Global());
  for (const ClientUpdate& x : u) {
    ASSERT_TRUE(with.TryAdd(Global(), x.weights, Weight(x), Weight(x)));
  }
  with.Subtract(Global(), u[1].weights, Weight(u[1]), Weight(u[1]));
  FixedPointSum without;
  without.Reset(Global());
  ASSERT_TRUE(without.TryAdd(Global(), u[0].weights, Weight(u[0]), 1));
  ASSERT_TRUE(without.TryAdd(Global(), u[2].weights, Weight(u[2]), 1));
  EXPECT_EQ(with.terms(), 2);
  std::vector<float> a(4), b(4);
  with.Read(nullptr, a.data());
  without.Read(nullptr, b.data());
  // The buffer element was added with another weight in `without`.
  a.resize(3);
  b.resize(3);
  EXPECT_EQ(a, b);
}

TEST(FixedPointSumTest, ATermBeyondTheRangeIsRefusedAndChangesNothing) {
  FixedPointSum s;
  s.Reset(Global());
  const std::vector<ClientUpdate> u = Updates(1);
  ASSERT_TRUE(s.TryAdd(Global(), u[0].weights, 3, 3));
  std::vector<float> before(4);
  s.Read(nullptr, before.data());
  // The first tensor's max |g| is 0.5 = 2^e: its terms may reach
  // 2^(e + 18) = 2^17 = 65536 * 2, and 65536 * 8 does not fit.
  const Weights far = MakeWeights(SmallLayout(), {8.5f, -0.25f, 0.125f, 2});
  EXPECT_FALSE(s.TryAdd(Global(), far, 65536, 1));
  const Weights edge = MakeWeights(SmallLayout(), {2.5f, -0.25f, 0.125f, 2});
  std::vector<float> after(4);
  s.Read(nullptr, after.data());
  EXPECT_EQ(after, before);
  EXPECT_EQ(s.terms(), 1);
  EXPECT_TRUE(s.TryAdd(Global(), edge, 65536, 1));
}

TEST(FixedPointSumTest, RefusesTermsBeyondTheCount) {
  FixedPointSum s;
  s.Reset(Global());
  const std::vector<ClientUpdate> u = Updates(1);
  for (int k = 0; k < FixedPointSum::kMaxTerms; ++k) {
    ASSERT_TRUE(s.TryAdd(Global(), u[0].weights, 1, 1)) << k;
  }
  EXPECT_FALSE(s.TryAdd(Global(), u[0].weights, 1, 1));
}

TEST(DeltaAccumulatorTest, AnUpdateBeyondTheRangeIsSummedInFloatInIdOrder) {
  std::vector<ClientUpdate> updates = Updates(50);
  // Two attackers' deltas, 1e6 times the global values.
  for (const char* id : {"z1", "a1"}) {
    updates.push_back(MakeUpdate(
        id, 1, 10, MakeWeights(SmallLayout(), {5e5f, -2.5e5f, 1.25e5f, 2})));
  }
  DeltaAccumulator acc;
  acc.Clear(Global());
  for (const ClientUpdate& u : updates) {
    acc.Add(Global(), u, nullptr, Weight(u), Weight(u));
  }
  EXPECT_EQ(acc.held(), 2);
  absl::Span<float> s = acc.Sum(Global());
  const std::vector<float> sum(s.begin(), s.end());
  const std::vector<long double> exact = ExactSum(updates);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(sum[i], static_cast<double>(exact[i]),
                1e-6 * std::fabs(static_cast<double>(exact[i])))
        << i;
  }
  std::reverse(updates.begin(), updates.end());
  EXPECT_EQ(StreamedSum(updates), sum);
}

TEST(DeltaAccumulatorTest, StreamingHoldsNoUpdate) {
  DeltaAccumulator acc;
  acc.Clear(Global());
  for (const ClientUpdate& u : Updates(20)) {
    acc.Add(Global(), u, nullptr, Weight(u), Weight(u));
  }
  EXPECT_EQ(acc.held(), 0);
  EXPECT_FALSE(acc.Release(Global(), "d1003"));  // not kept: cannot withdraw
}

}  // namespace
}  // namespace tandem

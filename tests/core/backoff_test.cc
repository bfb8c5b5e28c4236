#include "client/backoff.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace tandem::client {
namespace {

// Delay `d` must be step x a factor in [0.5, 1.5).
void ExpectJittered(absl::Duration d, absl::Duration step) {
  EXPECT_GE(d, step * 0.5) << "step " << step;
  EXPECT_LT(d, step * 1.5) << "step " << step;
}

TEST(BackoffTest, DoublesWithJitterUpToMax) {
  Backoff b(absl::Milliseconds(200), absl::Seconds(5), /*seed=*/7);
  const int64_t steps_ms[] = {200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (int64_t step : steps_ms) {
    ExpectJittered(b.Next(), absl::Milliseconds(step));
  }
}

TEST(BackoffTest, JitterSpansTheRange) {
  Backoff b(absl::Seconds(1), absl::Seconds(100), /*seed=*/3);
  double lo = 2, hi = 0;
  for (int i = 0; i < 1000; ++i) {
    b.Reset();  // the step stays 1 s
    const double f = absl::ToDoubleSeconds(b.Next());
    ASSERT_GE(f, 0.5);
    ASSERT_LT(f, 1.5);
    lo = std::min(lo, f);
    hi = std::max(hi, f);
  }
  // 1000 uniform draws: the chance of missing [0.5, 0.6) is 0.9^1000.
  EXPECT_LT(lo, 0.6);
  EXPECT_GT(hi, 1.4);
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff b(absl::Milliseconds(100), absl::Seconds(10), /*seed=*/11);
  for (int i = 0; i < 6; ++i) b.Next();  // step is now 6.4 s
  ExpectJittered(b.Next(), absl::Milliseconds(6400));
  b.Reset();
  ExpectJittered(b.Next(), absl::Milliseconds(100));
  ExpectJittered(b.Next(), absl::Milliseconds(200));
}

TEST(BackoffTest, SameSeedSameSequence) {
  Backoff a(absl::Milliseconds(50), absl::Seconds(2), /*seed=*/42);
  Backoff b(absl::Milliseconds(50), absl::Seconds(2), /*seed=*/42);
  Backoff c(absl::Milliseconds(50), absl::Seconds(2), /*seed=*/43);
  std::vector<absl::Duration> seq_a, seq_b, seq_c;
  for (int i = 0; i < 10; ++i) {
    seq_a.push_back(a.Next());
    seq_b.push_back(b.Next());
    seq_c.push_back(c.Next());
  }
  EXPECT_EQ(seq_a, seq_b);
  EXPECT_NE(seq_a, seq_c);
  // Reset does not reseed: the jitter continues the random sequence.
  a.Reset();
  b.Reset();
  EXPECT_EQ(a.Next(), b.Next());
}

}  // namespace
}  // namespace tandem::client

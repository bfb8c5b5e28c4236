// Exponential backoff with jitter for reconnecting to the coordinator.
//
//   Backoff b(absl::Milliseconds(200), absl::Seconds(5), seed);
//   absl::SleepFor(b.Next());   // 200 ms +-50%, then 400 ms, ... <= 5 s
//   b.Reset();                  // after a success
//
// Not thread-safe.
#ifndef TANDEM_CLIENT_BACKOFF_H_
#define TANDEM_CLIENT_BACKOFF_H_

#include <algorithm>
#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace tandem::client {

class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max, uint64_t seed)
      : initial_(initial), max_(max), current_(initial), rng_(seed) {}

  // The next delay: the current step times a uniform factor in [0.5, 1.5),
  // at most `max`; then the step doubles up to `max`.
  absl::Duration Next() {
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    const absl::Duration d = std::min(max_, current_ * jitter(rng_));
    current_ = std::min(max_, current_ * 2);
    return d;
  }
  void Reset() { current_ = initial_; }

 private:
  const absl::Duration initial_, max_;
  absl::Duration current_;
  std::mt19937_64 rng_;
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_BACKOFF_H_

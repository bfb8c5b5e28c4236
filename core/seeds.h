// How the run's seeds are derived: one seed and a stream number (a round, a
// task serial) give each draw its own seed, the same in every run.
#ifndef TANDEM_CORE_SEEDS_H_
#define TANDEM_CORE_SEEDS_H_

#include <cstdint>

namespace tandem {

// A prime above any round or task count a run reaches: (seed, stream) pairs
// with stream < kSeedStride map to distinct values for one seed.
inline constexpr uint64_t kSeedStride = 1000003;

// The seed of stream `stream` (a round, a task serial) of `seed`.
inline uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  return seed * kSeedStride + stream;
}

}  // namespace tandem

#endif  // TANDEM_CORE_SEEDS_H_

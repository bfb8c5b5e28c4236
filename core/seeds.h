// How the run's seeds are derived: one seed and a stream number (a round, a
// task serial) give each draw its own seed, the same in every run.
#ifndef TANDEM_CORE_SEEDS_H_
#define TANDEM_CORE_SEEDS_H_

#include <cstdint>

namespace tandem {

// A prime above any round or task count a run reaches: (seed, stream) pairs
// with stream < kSeedStride map to distinct values for one seed.
inline constexpr uint64_t kSeedStride = 1000003;

// A second prime stride, for draws that must not reuse StreamSeed's values
// on the same seed and stream: a simulated device's dropout draw per round
// (its seed x this + round), an auxiliary classifier's initialisation per
// split point (seed + this x split). Changing it changes runs' results.
inline constexpr uint64_t kSideSeedStride = 7919;

// The seed of stream `stream` (a round, a task serial) of `seed`.
inline uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  return seed * kSeedStride + stream;
}

}  // namespace tandem

#endif  // TANDEM_CORE_SEEDS_H_

// A deterministic, easily learnable image dataset for tests and quick runs.
//
// Each class has a random prototype image made of `cell` x `cell` blocks of
// one grey level per channel (so the signal survives pooling); an example is
// its class's prototype plus Gaussian pixel noise, rounded and clamped to
// 0..255. Classes are balanced (example i has label i % num_classes, then
// the order is shuffled). Train and test share the prototypes. A small model
// separates the classes after a few batches.
//
// Everything is drawn from std::mt19937_64 through ml/data/portable_random.h,
// so the same options give the same bytes with any standard library (up to
// last-bit differences of std::log / std::cos between math libraries).
//
//   SyntheticOptions options;
//   options.seed = 7;
//   TANDEM_ASSIGN_OR_RETURN(TrainTest tt, MakeSyntheticDataset(options));
//
// Functions here hold no state and are thread-safe.
#ifndef TANDEM_ML_DATA_SYNTHETIC_H_
#define TANDEM_ML_DATA_SYNTHETIC_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "ml/data/dataset.h"

namespace tandem::data {

struct SyntheticOptions {
  int64_t train_size = 1000;    // >= 1
  int64_t test_size = 200;      // >= 0
  int channels = 1;             // 1..4
  int height = 28, width = 28;  // 1..1024 each
  int num_classes = 10;         // 1..256
  uint64_t seed = 1;
  // Standard deviation of the per-pixel noise, in 0..255 pixel units, >= 0.
  double noise_stddev = 40.0;
  // Side of the prototype's constant blocks in pixels, >= 1.
  int cell = 4;
};

// Builds the train and test sets named "synthetic"; mean/std are computed
// from the train set. InvalidArgument names the first bad option.
absl::StatusOr<TrainTest> MakeSyntheticDataset(const SyntheticOptions& options);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_SYNTHETIC_H_

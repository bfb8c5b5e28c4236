// Streaming weighted sum of client deltas (update - global), the core of the
// FedAvg family: memory O(model) whatever the number of updates, one read of
// each update.
//
// The sum is double-buffered: Stage writes sum + w * delta into a second
// buffer while it computes the update's ValueScan in the same pass, so the
// caller can validate the scan and Commit, or drop the update by not
// committing. The staged write costs the same memory traffic as an in-place
// update, and a rejected update leaves the sum bit-for-bit unchanged.
//
//   acc.Reset(global.layout());
//   ValueScan scan = acc.Stage(global, update.weights, n, n);
//   if (validator.CheckValues(update, scan, &why).ok()) acc.Commit();
#ifndef TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_
#define TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/weights.h"
#include "strategies/update_validator.h"

namespace tandem {

// Not thread-safe.
class DeltaAccumulator {
 public:
  // Empties the sum for a model of `layout`. Keeps allocations when the size
  // is unchanged.
  void Reset(const WeightsLayout& layout);

  // Stages sum + w_param * (x - g) on parameter tensors and
  // sum + w_buffer * (x - g) on buffer tensors, and returns the scan of
  // x - g. `global` and `update` must have the layout given to Reset.
  ValueScan Stage(const Weights& global, const Weights& update, float w_param,
                  float w_buffer);
  // Makes the last staged sum the current one.
  void Commit();

  // True until the first Commit after Reset.
  bool empty() const { return empty_; }
  // The committed sum (all zeros when empty()).
  absl::Span<float> sum();

 private:
  WeightsLayout layout_;
  std::vector<float> sum_;
  std::vector<float> staged_;
  bool empty_ = true;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_

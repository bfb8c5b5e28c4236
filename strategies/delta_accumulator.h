// Streaming weighted sum of client deltas (update - global), the core of the
// FedAvg family: memory O(model) whatever the number of updates, one read of
// each update.
//
// A staged update does not touch the committed sum, so the caller can check
// the ValueScan computed in the same pass and then Commit, or drop the update
// by not committing: a rejected update leaves the sum bit-for-bit unchanged.
// Staging writes sum + w * delta either into a second internal buffer
// (Stage) or, when the caller gives up the update, over the update's own
// values (StageInto), which then become the sum on Commit: no extra buffer
// and no extra memory traffic.
//
//   acc.Reset(global.layout());
//   ValueScan scan = acc.StageInto(global, update.weights, n, n);
//   if (validator.CheckValues(update, scan, &why).ok()) acc.Commit();
#ifndef TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_
#define TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_

#include "absl/types/span.h"
#include "core/weights.h"
#include "strategies/update_validator.h"

namespace tandem {

// Not thread-safe.
class DeltaAccumulator {
 public:
  // Empties the sum for a model of `layout`. Keeps allocations when the
  // layout is unchanged.
  void Reset(const WeightsLayout& layout);

  // Stages sum + w_param * (x - g) on parameter tensors and
  // sum + w_buffer * (x - g) on buffer tensors, where x = update and
  // g = global (both with the layout given to Reset), and returns the scan
  // of x - g.
  ValueScan Stage(const Weights& global, const Weights& update, float w_param,
                  float w_buffer);
  // Same, but writes the staged sum over `update`'s values. Until the next
  // Stage call, `update` must stay alive; Commit swaps it with the sum (it
  // then holds the old sum's buffer, unspecified values).
  ValueScan StageInto(const Weights& global, Weights& update, float w_param,
                      float w_buffer);
  // Makes the last staged sum the current one.
  void Commit();

  // True until the first Commit after Reset.
  bool empty() const { return empty_; }
  // The committed sum (zeros when empty()).
  absl::Span<float> sum();

 private:
  Weights sum_;
  Weights staged_;               // allocated by the first Stage call
  Weights* external_ = nullptr;  // the update StageInto wrote over
  bool empty_ = true;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_

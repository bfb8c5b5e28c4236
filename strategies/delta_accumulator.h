// Weighted sum of client deltas (update - global), the core of the FedAvg
// family, computed in ascending device-id order so the result does not
// depend on the order updates arrived in (float addition is not
// associative; the coordinator receives updates in gRPC arrival order).
//
// Accepted updates are held until the round ends: one model per accepted
// update, taken over from the caller when it gives the update up (no copy)
// and copied once otherwise. Sum then reads each held update once and
// writes the running sum over it, releasing the previous one, so it needs no
// buffer of its own.
//
//   acc.Clear();
//   // for each accepted update, after validation:
//   acc.Hold(update, owned, w, w);
//   absl::Span<float> sum = acc.Sum(global);  // sorted by device id
#ifndef TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_
#define TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/weights.h"
#include "strategies/client_update.h"

namespace tandem {

// Not thread-safe.
class DeltaAccumulator {
 public:
  // Drops the held updates.
  void Clear() { held_.clear(); }

  // Holds `update` (validated, with the global model's layout; device ids
  // unique among the held ones) until Sum, weighted by w_param on parameter
  // tensors and w_buffer on buffer tensors. Takes over *owned's buffer when
  // owned is non-null (it aliases update.weights), copies update.weights
  // otherwise.
  void Hold(const ClientUpdate& update, Weights* owned, float w_param,
            float w_buffer);

  int held() const { return static_cast<int>(held_.size()); }
  // Drops `device_id`'s held update, if any.
  void Release(const std::string& device_id);

  // sum_k w_k * (x_k - g) over the held updates x_k, g = global, added in
  // ascending device-id order (zeros when none is held). Releases the held
  // updates. The span is valid until the next Sum.
  absl::Span<float> Sum(const Weights& global);

 private:
  struct Held {
    std::string device_id;
    float w_param;
    float w_buffer;
    Weights weights;
  };

  std::vector<Held> held_;
  Weights sum_;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_

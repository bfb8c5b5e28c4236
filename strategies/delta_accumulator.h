// Weighted sum of client deltas (update - global), the core of the FedAvg
// family, computed so that the result does not depend on the order updates
// arrived in (float addition is not associative; the coordinator receives
// updates in gRPC arrival order) and without keeping the updates.
//
// Each update is added as it arrives to an exact fixed-point sum
// (FixedPointSum): two floats' worth of memory per model float whatever the
// number of updates. An update with a term beyond the fixed-point range (a
// delta far larger than the global model's values, or a huge weight) is held
// instead and added in float at Sum, in ascending device-id order. When the
// round may withdraw updates (KeepForWithdraw), every update is also kept, so
// that Release can subtract it exactly.
//
//   acc.Clear(global);
//   // for each accepted update, after validation:
//   acc.Add(global, update, owned, w, w);
//   absl::Span<float> sum = acc.Sum(global);
#ifndef TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_
#define TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/weights.h"
#include "strategies/client_update.h"
#include "strategies/fixed_point_sum.h"

namespace tandem {

// Not thread-safe.
class DeltaAccumulator {
 public:
  // Keeps every update until Sum, so that Release works (over-selection).
  void KeepForWithdraw(bool keep) { keep_ = keep; }

  // Starts an empty sum over `global` (finite); every later call passes the
  // same global model.
  void Clear(const Weights& global);

  // Adds `update` (with the global model's layout; device ids unique in the
  // round) weighted by w_param on parameter tensors and w_buffer on buffer
  // tensors. When it must keep the update, takes over *owned's buffer if
  // owned is non-null (it aliases update.weights), and copies
  // update.weights otherwise. `scan` (if not null) gets the update's
  // ValueScan, from the same pass over it where it fits the fixed-point
  // sum, so that the caller can validate after adding (and TakeBack).
  // False, adding nothing, when the update is not finite.
  bool Add(const Weights& global, const ClientUpdate& update, Weights* owned,
           float w_param, float w_buffer, ValueScan* scan = nullptr);
  // Takes out the update that the last Add added (it returned true), with
  // the same arguments: the caller found it invalid.
  void TakeBack(const Weights& global, const ClientUpdate& update,
                float w_param, float w_buffer);

  // Changes the parameter weight of the update that the last Add added (it
  // returned true) from w_param to new_w_param (smaller), exactly: the sum is
  // then the same as if it had been added with it (admission's clipping).
  void Reweigh(const Weights& global, const ClientUpdate& update, float w_param,
               float w_buffer, float new_w_param);

  // Scales the parameter weight of `device_id`'s kept update by `scale`
  // (< 1), exactly (admission's clipping at a round's close). Needs
  // KeepForWithdraw; false when the update is not kept.
  bool Rescale(const Weights& global, const std::string& device_id,
               float scale);

  // Updates kept in float (beyond the fixed-point range, or all of them
  // with KeepForWithdraw).
  int held() const { return static_cast<int>(held_.size()); }
  // Takes `device_id`'s update out of the sum, exactly: the sum is then the
  // same as if it had never been added. Needs KeepForWithdraw; false when
  // the update is not kept.
  bool Release(const Weights& global, const std::string& device_id);

  // sum_k w_k * (x_k - g) over the added updates x_k, g = global (zeros when
  // none was added). Drops the kept updates. The span is valid until the
  // next Sum.
  absl::Span<float> Sum(const Weights& global);

 private:
  struct Held {
    std::string device_id;
    float w_param;
    float w_buffer;
    bool in_fixed_point;  // else added in float at Sum
    Weights weights;
  };

  // Changes a kept update's parameter weight, exactly.
  void ReweighHeld(const Weights& global, Held& h, float new_w_param);

  bool keep_ = false;
  FixedPointSum fixed_;
  std::vector<Held> held_;
  Weights sum_;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_DELTA_ACCUMULATOR_H_

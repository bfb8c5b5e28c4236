// Checks that decide whether a client update may enter an aggregate.
//
// The checks are split so a strategy can reuse the pass over the values for
// its own decisions (the DP wrappers clip by its norm, qfedavg weighs by it):
// CheckHeader looks at metadata only (O(tensors)); the values are summarised
// by a ValueScan (one pass, see ScanUpdate) and judged by CheckValues.
//
//   TANDEM_RETURN_IF_ERROR(v.CheckHeader(update, &reason));
//   ValueScan scan = ScanUpdate(global, update.weights);
//   TANDEM_RETURN_IF_ERROR(v.CheckValues(update, scan, &reason));
//   v.MarkAccepted(update.device_id, update.num_samples);
#ifndef TANDEM_STRATEGIES_UPDATE_VALIDATOR_H_
#define TANDEM_STRATEGIES_UPDATE_VALIDATOR_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "core/weights.h"
#include "strategies/client_update.h"
#include "strategies/delta_kernels.h"

namespace tandem {

// What one pass over an update's values found: squared L2 distances to the
// global model, split by tensor kind, and the first tensor holding a NaN or
// an infinity.
struct ValueScan {
  double param_sq = 0;         // sum over parameter tensors of (x - g)^2
  double buffer_sq = 0;        // same over buffer tensors
  int non_finite_tensor = -1;  // index in the layout, or -1

  bool finite() const { return non_finite_tensor < 0; }
  // Finite values so far from the global model that the sums overflowed.
  bool overflowed() const { return !std::isfinite(param_sq + buffer_sq); }
  double param_norm() const { return std::sqrt(param_sq); }

  // Adds the statistics of tensor `index` of `layout`.
  void Add(const WeightsLayout& layout, int index, const DeltaStats& stats);
};

// One read of `update` and `global` (same layout required).
ValueScan ScanUpdate(const Weights& global, const Weights& update);

// x = global + scale * (x - global) on parameter tensors (buffers keep
// their values): shrinks the update's change by `scale`.
void ScaleParameterDelta(const Weights& global, float scale, Weights& x);

// Round-scoped validation state: which round is open, which devices may and
// did contribute. Not thread-safe (owned by a Strategy).
class UpdateValidator {
 public:
  // max_update_norm: bound on the parameter L2 norm of update - global;
  // 0 = none.
  explicit UpdateValidator(double max_update_norm)
      : max_update_norm_(max_update_norm) {}

  // Opens `round` for updates with `layout`. An empty `allowed` accepts any
  // device id. clip_bound > 0: updates farther than that from the global
  // model are to be shrunk to it (ClipScale); 0 = no clipping.
  void Open(int64_t round, const WeightsLayout& layout,
            std::vector<std::string> allowed, double clip_bound = 0);
  void Close() { open_ = false; }

  bool round_open() const { return open_; }
  int64_t round() const { return round_; }
  int accepted() const { return static_cast<int>(accepted_.size()); }
  double max_update_norm() const { return max_update_norm_; }
  double clip_bound() const { return clip_bound_; }

  // wrong_round, unknown_device, duplicate, no_samples, layout_mismatch, in
  // that order.
  absl::Status CheckHeader(const ClientUpdate& update,
                           RejectReason* reason) const;
  // non_finite, then norm_too_large (also for sums that overflowed).
  // Remembers the scan's parameter norm for last_checked_norm().
  absl::Status CheckValues(const ClientUpdate& update, const ValueScan& scan,
                           RejectReason* reason) const;
  // ||update - global|| over parameter tensors of the update CheckValues
  // saw last (0 when it was not finite).
  double last_checked_norm() const { return last_norm_; }
  // What an update that passed CheckValues(scan) must be scaled by
  // (ScaleParameterDelta) to be admitted: min(1, clip_bound / norm), 1 when
  // there is no bound. Remembered for last_clip_scale().
  double ClipScale(const ValueScan& scan) const;
  double last_clip_scale() const { return last_scale_; }
  // CheckValues over ScanUpdate(global, update.weights).
  absl::Status ValidateValues(const Weights& global, const ClientUpdate& update,
                              RejectReason* reason) const;
  // Records that the device contributed `num_samples` to the open round.
  void MarkAccepted(const std::string& device_id, int64_t num_samples) {
    accepted_[device_id] = num_samples;
  }
  // Its accepted update was withdrawn (over-selection): false when it had
  // none; else *num_samples is what it contributed.
  bool Unmark(const std::string& device_id, int64_t* num_samples) {
    auto it = accepted_.find(device_id);
    if (it == accepted_.end()) return false;
    *num_samples = it->second;
    accepted_.erase(it);
    return true;
  }

 private:
  double max_update_norm_;
  double clip_bound_ = 0;
  // Records of the last check, not state.
  mutable double last_norm_ = 0;
  mutable double last_scale_ = 1;
  bool open_ = false;
  int64_t round_ = -1;
  WeightsLayout layout_;
  absl::flat_hash_set<std::string> allowed_;
  // Devices accepted in the open round, with their sample counts.
  absl::flat_hash_map<std::string, int64_t> accepted_;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_UPDATE_VALIDATOR_H_

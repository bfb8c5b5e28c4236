#include "strategies/update_validator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "strategies/delta_kernels.h"

namespace tandem {

void ValueScan::Add(const WeightsLayout& layout, int index,
                    const DeltaStats& stats) {
  const bool param = layout.tensors()[index].kind == TensorKind::kParameter;
  (param ? param_sq : buffer_sq) += stats.sq;
  if (!stats.finite && non_finite_tensor < 0) non_finite_tensor = index;
}

ValueScan ScanUpdate(const Weights& global, const Weights& update) {
  ValueScan scan;
  const WeightsLayout& layout = global.layout();
  for (int i = 0; i < static_cast<int>(layout.tensors().size()); ++i) {
    const TensorSpec& t = layout.tensors()[i];
    scan.Add(layout, i,
             SquaredDistance(update.data() + t.offset, global.data() + t.offset,
                             t.numel));
  }
  return scan;
}

void ScaleParameterDelta(const Weights& global, float scale, Weights& x) {
  for (const TensorSpec& t : global.layout().tensors()) {
    if (t.kind != TensorKind::kParameter) continue;
    const float* g = global.data() + t.offset;
    float* v = x.data() + t.offset;
    for (int64_t i = 0; i < t.numel; ++i) v[i] = g[i] + scale * (v[i] - g[i]);
  }
}

void UpdateValidator::Open(int64_t round, const WeightsLayout& layout,
                           std::vector<std::string> allowed,
                           double clip_bound) {
  open_ = true;
  clip_bound_ = clip_bound;
  round_ = round;
  layout_ = layout;
  allowed_.clear();
  for (std::string& id : allowed) allowed_.insert(std::move(id));
  accepted_.clear();
}

absl::Status UpdateValidator::CheckHeader(const ClientUpdate& update,
                                          RejectReason* reason) const {
  if (!open_) {
    return RejectUpdate(RejectReason::kWrongRound,
                        absl::StrCat("update for round ", update.round,
                                     " while no round is open"),
                        reason);
  }
  if (update.round != round_) {
    return RejectUpdate(RejectReason::kWrongRound,
                        absl::StrCat("update for round ", update.round,
                                     ", current round is ", round_),
                        reason);
  }
  if (!allowed_.empty() && !allowed_.contains(update.device_id)) {
    return RejectUpdate(RejectReason::kUnknownDevice,
                        absl::StrCat("device '", update.device_id,
                                     "' was not sampled for round ", round_),
                        reason);
  }
  if (accepted_.contains(update.device_id)) {
    return RejectUpdate(
        RejectReason::kDuplicate,
        absl::StrCat("device '", update.device_id,
                     "' already sent an update in round ", round_),
        reason);
  }
  if (update.num_samples <= 0) {
    return RejectUpdate(
        RejectReason::kNoSamples,
        absl::StrCat("device '", update.device_id,
                     "' reports num_samples = ", update.num_samples),
        reason);
  }
  const std::string difference =
      layout_.DescribeDifference(update.weights.layout());
  if (!difference.empty() || update.weights.size() != layout_.total_floats()) {
    return RejectUpdate(
        RejectReason::kLayoutMismatch,
        absl::StrCat(
            "device '", update.device_id,
            "': ", difference.empty() ? "wrong number of values" : difference),
        reason);
  }
  return absl::OkStatus();
}

double UpdateValidator::ClipScale(const ValueScan& scan) const {
  const double norm = scan.param_norm();
  last_scale_ = clip_bound_ > 0 && norm > clip_bound_ ? clip_bound_ / norm : 1;
  return last_scale_;
}

absl::Status UpdateValidator::CheckValues(const ClientUpdate& update,
                                          const ValueScan& scan,
                                          RejectReason* reason) const {
  last_norm_ = scan.finite() ? scan.param_norm() : 0;
  last_scale_ = 1;
  if (!scan.finite()) {
    return RejectUpdate(
        RejectReason::kNonFinite,
        absl::StrCat("device '", update.device_id,
                     "': NaN or infinity in tensor '",
                     layout_.tensors()[scan.non_finite_tensor].name, "'"),
        reason);
  }
  if (scan.overflowed()) {
    return RejectUpdate(RejectReason::kNormTooLarge,
                        absl::StrCat("device '", update.device_id,
                                     "': squared distance to the global "
                                     "model overflows"),
                        reason);
  }
  if (max_update_norm_ > 0 && scan.param_norm() > max_update_norm_) {
    return RejectUpdate(
        RejectReason::kNormTooLarge,
        absl::StrFormat("device '%s': ||update - global|| = %g exceeds "
                        "max_update_norm %g",
                        update.device_id, scan.param_norm(), max_update_norm_),
        reason);
  }
  return absl::OkStatus();
}

absl::Status UpdateValidator::ValidateValues(const Weights& global,
                                             const ClientUpdate& update,
                                             RejectReason* reason) const {
  return CheckValues(update, ScanUpdate(global, update.weights), reason);
}

}  // namespace tandem

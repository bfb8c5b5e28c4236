#include "strategies/storing_strategy.h"

#include <algorithm>
#include <utility>

#include "core/status_macros.h"

namespace tandem {

absl::Status StoringStrategy::DoBeginRound() {
  updates_.clear();
  return absl::OkStatus();
}

absl::Status StoringStrategy::DoAddUpdate(const ClientUpdate& update,
                                          Weights* owned,
                                          RejectReason* reason) {
  const ValueScan scan = ScanUpdate(global(), update.weights);
  TANDEM_RETURN_IF_ERROR(validator().CheckValues(update, scan, reason));
  // Moving an owned update avoids copying the model.
  updates_.push_back({update.device_id, update.num_samples,
                      owned != nullptr ? std::move(*owned) : update.weights});
  // Admission's clip, on the kept copy.
  const double scale = validator().ClipScale(scan);
  if (scale < 1) {
    ScaleParameterDelta(global(), static_cast<float>(scale),
                        updates_.back().weights);
  }
  return absl::OkStatus();
}

absl::StatusOr<Weights> StoringStrategy::DoFinishRound() {
  std::sort(updates_.begin(), updates_.end(),
            [](const StoredUpdate& a, const StoredUpdate& b) {
              return a.device_id < b.device_id;
            });
  absl::StatusOr<Weights> result = Aggregate(updates_);
  updates_.clear();
  return result;
}

void StoringStrategy::DoClip(const std::string& device_id, double scale) {
  for (StoredUpdate& u : updates_) {
    if (u.device_id != device_id) continue;
    ScaleParameterDelta(global(), static_cast<float>(scale), u.weights);
  }
}

void StoringStrategy::DoWithdraw(const std::string& device_id,
                                 int64_t /*num_samples*/) {
  updates_.erase(std::remove_if(updates_.begin(), updates_.end(),
                                [&device_id](const StoredUpdate& u) {
                                  return u.device_id == device_id;
                                }),
                 updates_.end());
}

void StoringStrategy::WeightedMean(const std::vector<StoredUpdate>& updates,
                                   const std::vector<int>& chosen,
                                   TensorKind kind, Weights& out) {
  double total = 0;
  for (int i : chosen) total += static_cast<double>(updates[i].num_samples);
  for (const TensorSpec& t : out.layout().tensors()) {
    if (t.kind != kind) continue;
    float* o = out.data() + t.offset;
    std::fill(o, o + t.numel, 0.0f);
    for (int i : chosen) {
      const float w = static_cast<float>(updates[i].num_samples / total);
      const float* x = updates[i].weights.data() + t.offset;
      for (int64_t j = 0; j < t.numel; ++j) o[j] += w * x[j];
    }
  }
}

}  // namespace tandem

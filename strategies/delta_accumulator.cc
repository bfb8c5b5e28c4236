#include "strategies/delta_accumulator.h"

#include <algorithm>
#include <utility>

namespace tandem {

void DeltaAccumulator::Clear(const Weights& global) {
  fixed_.Reset(global);
  held_.clear();
}

bool DeltaAccumulator::Add(const Weights& global, const ClientUpdate& update,
                           Weights* owned, float w_param, float w_buffer,
                           ValueScan* scan) {
  const bool fits =
      fixed_.TryAdd(global, update.weights, w_param, w_buffer, scan);
  if (!fits) {
    const ValueScan own =
        scan != nullptr ? *scan : ScanUpdate(global, update.weights);
    if (!own.finite()) return false;
  }
  if (fits && !keep_) return true;
  // Moving an owned update avoids copying the model.
  held_.push_back({update.device_id, w_param, w_buffer, fits,
                   owned != nullptr ? std::move(*owned) : update.weights});
  return true;
}

void DeltaAccumulator::TakeBack(const Weights& global,
                                const ClientUpdate& update, float w_param,
                                float w_buffer) {
  if (!held_.empty() && held_.back().device_id == update.device_id) {
    const Held& h = held_.back();
    if (h.in_fixed_point) {
      fixed_.Subtract(global, h.weights, h.w_param, h.w_buffer);
    }
    held_.pop_back();
    return;
  }
  // Added to the sum and not kept: update.weights was not moved.
  fixed_.Subtract(global, update.weights, w_param, w_buffer);
}

void DeltaAccumulator::Reweigh(const Weights& global,
                               const ClientUpdate& update, float w_param,
                               float w_buffer, float new_w_param) {
  if (!held_.empty() && held_.back().device_id == update.device_id) {
    ReweighHeld(global, held_.back(), new_w_param);
    return;
  }
  // Added to the sum and not kept: update.weights was not moved. Smaller
  // terms than those that fitted fit.
  fixed_.Subtract(global, update.weights, w_param, w_buffer);
  fixed_.TryAdd(global, update.weights, new_w_param, w_buffer, nullptr);
}

bool DeltaAccumulator::Rescale(const Weights& global,
                               const std::string& device_id, float scale) {
  auto it = std::find_if(
      held_.begin(), held_.end(),
      [&device_id](const Held& h) { return h.device_id == device_id; });
  if (!keep_ || it == held_.end()) return false;
  ReweighHeld(global, *it, it->w_param * scale);
  return true;
}

void DeltaAccumulator::ReweighHeld(const Weights& global, Held& h,
                                   float new_w_param) {
  if (h.in_fixed_point) {
    fixed_.Subtract(global, h.weights, h.w_param, h.w_buffer);
    h.in_fixed_point =
        fixed_.TryAdd(global, h.weights, new_w_param, h.w_buffer, nullptr);
  }
  h.w_param = new_w_param;
}

bool DeltaAccumulator::Release(const Weights& global,
                               const std::string& device_id) {
  auto it = std::find_if(
      held_.begin(), held_.end(),
      [&device_id](const Held& h) { return h.device_id == device_id; });
  if (!keep_ || it == held_.end()) return false;
  if (it->in_fixed_point) {
    fixed_.Subtract(global, it->weights, it->w_param, it->w_buffer);
  }
  held_.erase(it);
  return true;
}

absl::Span<float> DeltaAccumulator::Sum(const Weights& global) {
  // The updates beyond the fixed-point range, in ascending device-id order.
  std::vector<const Held*> in_float;
  for (const Held& h : held_) {
    if (!h.in_fixed_point) in_float.push_back(&h);
  }
  std::sort(in_float.begin(), in_float.end(), [](const Held* a, const Held* b) {
    return a->device_id < b->device_id;
  });
  std::vector<double> extra;
  if (!in_float.empty()) {
    extra.assign(static_cast<size_t>(global.layout().total_floats()), 0.0);
  }
  for (const Held* h : in_float) {
    for (const TensorSpec& t : global.layout().tensors()) {
      const double w =
          t.kind == TensorKind::kParameter ? h->w_param : h->w_buffer;
      const float* x = h->weights.data();
      const float* g = global.data();
      for (int64_t i = t.offset; i < t.offset + t.numel; ++i) {
        extra[i] += w * (static_cast<double>(x[i]) - g[i]);
      }
    }
  }
  sum_ = Weights(global.layout());
  fixed_.Read(extra.empty() ? nullptr : extra.data(), sum_.data());
  held_.clear();
  return sum_.values();
}

}  // namespace tandem

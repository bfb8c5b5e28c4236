#include "strategies/delta_accumulator.h"

#include <algorithm>
#include <utility>

#include "strategies/delta_kernels.h"

namespace tandem {
namespace {

// x = acc + w * (x - g) per tensor, w by the tensor's kind; x = w * (x - g)
// when acc is null.
void AccumulateInto(const Weights& global, const float* acc, float w_param,
                    float w_buffer, Weights& x) {
  for (const TensorSpec& t : global.layout().tensors()) {
    const float w = t.kind == TensorKind::kParameter ? w_param : w_buffer;
    AccumulateDeltaInPlace(x.data() + t.offset, global.data() + t.offset,
                           acc == nullptr ? nullptr : acc + t.offset, w,
                           t.numel);
  }
}

}  // namespace

void DeltaAccumulator::Release(const std::string& device_id) {
  held_.erase(std::remove_if(held_.begin(), held_.end(),
                             [&device_id](const Held& h) {
                               return h.device_id == device_id;
                             }),
              held_.end());
}

void DeltaAccumulator::Hold(const ClientUpdate& update, Weights* owned,
                            float w_param, float w_buffer) {
  // Moving an owned update avoids copying the model.
  held_.push_back({update.device_id, w_param, w_buffer,
                   owned != nullptr ? std::move(*owned) : update.weights});
}

absl::Span<float> DeltaAccumulator::Sum(const Weights& global) {
  if (held_.empty()) {
    sum_ = Weights(global.layout());
    return sum_.values();
  }
  std::sort(held_.begin(), held_.end(), [](const Held& a, const Held& b) {
    return a.device_id < b.device_id;
  });
  const float* acc = nullptr;  // the first update writes w * delta
  for (Held& h : held_) {
    AccumulateInto(global, acc, h.w_param, h.w_buffer, h.weights);
    std::swap(sum_, h.weights);
    h.weights = Weights();  // the previous sum
    acc = sum_.data();
  }
  held_.clear();
  return sum_.values();
}

}  // namespace tandem

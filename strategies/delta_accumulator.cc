#include "strategies/delta_accumulator.h"

#include <algorithm>
#include <utility>

#include "strategies/delta_kernels.h"

namespace tandem {
namespace {

// Runs `kernel(tensor, acc_or_null, weight)` over every tensor of `layout`
// and collects the scan.
template <typename Kernel>
ValueScan OverTensors(const WeightsLayout& layout, const float* acc,
                      float w_param, float w_buffer, Kernel kernel) {
  ValueScan scan;
  const auto& tensors = layout.tensors();
  for (int i = 0; i < static_cast<int>(tensors.size()); ++i) {
    const TensorSpec& t = tensors[i];
    const float w = t.kind == TensorKind::kParameter ? w_param : w_buffer;
    scan.Add(layout, i,
             kernel(t, acc == nullptr ? nullptr : acc + t.offset, w));
  }
  return scan;
}

}  // namespace

void DeltaAccumulator::Reset(const WeightsLayout& layout) {
  if (sum_.layout() != layout || sum_.size() != layout.total_floats()) {
    sum_ = Weights(layout);
    staged_ = Weights();
  }
  external_ = nullptr;
  empty_ = true;
}

ValueScan DeltaAccumulator::Stage(const Weights& global, const Weights& update,
                                  float w_param, float w_buffer) {
  if (staged_.size() != sum_.size()) staged_ = Weights(sum_.layout());
  external_ = nullptr;
  // The first update writes w * delta without reading a zero sum.
  const float* acc = empty_ ? nullptr : sum_.data();
  float* out = staged_.data();
  return OverTensors(sum_.layout(), acc, w_param, w_buffer,
                     [&](const TensorSpec& t, const float* a, float w) {
                       return AccumulateDelta(update.data() + t.offset,
                                              global.data() + t.offset, a, w,
                                              out + t.offset, t.numel);
                     });
}

ValueScan DeltaAccumulator::StageInto(const Weights& global, Weights& update,
                                      float w_param, float w_buffer) {
  external_ = &update;
  const float* acc = empty_ ? nullptr : sum_.data();
  return OverTensors(sum_.layout(), acc, w_param, w_buffer,
                     [&](const TensorSpec& t, const float* a, float w) {
                       return AccumulateDeltaInPlace(update.data() + t.offset,
                                                     global.data() + t.offset,
                                                     a, w, t.numel);
                     });
}

void DeltaAccumulator::Commit() {
  std::swap(sum_, external_ != nullptr ? *external_ : staged_);
  external_ = nullptr;
  empty_ = false;
}

absl::Span<float> DeltaAccumulator::sum() {
  if (empty_) std::fill(sum_.values().begin(), sum_.values().end(), 0.0f);
  return sum_.values();
}

}  // namespace tandem

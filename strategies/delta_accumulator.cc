#include "strategies/delta_accumulator.h"

#include <algorithm>
#include <utility>

#include "strategies/delta_kernels.h"

namespace tandem {

void DeltaAccumulator::Reset(const WeightsLayout& layout) {
  layout_ = layout;
  const size_t n = static_cast<size_t>(layout.total_floats());
  sum_.resize(n);
  staged_.resize(n);
  empty_ = true;
}

ValueScan DeltaAccumulator::Stage(const Weights& global, const Weights& update,
                                  float w_param, float w_buffer) {
  ValueScan scan;
  // The first update writes w * delta without reading a zero sum.
  const float* acc = empty_ ? nullptr : sum_.data();
  for (const TensorSpec& t : layout_.tensors()) {
    const bool param = t.kind == TensorKind::kParameter;
    const double sq = AccumulateDelta(
        update.data() + t.offset, global.data() + t.offset,
        acc == nullptr ? nullptr : acc + t.offset, param ? w_param : w_buffer,
        staged_.data() + t.offset, t.numel);
    (param ? scan.param_sq : scan.buffer_sq) += sq;
  }
  return scan;
}

void DeltaAccumulator::Commit() {
  std::swap(sum_, staged_);
  empty_ = false;
}

absl::Span<float> DeltaAccumulator::sum() {
  if (empty_) std::fill(sum_.begin(), sum_.end(), 0.0f);
  return absl::MakeSpan(sum_);
}

}  // namespace tandem

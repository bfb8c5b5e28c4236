// Model weights as one flat float32 buffer plus a layout of named tensors.
//
// Everything outside ml/ sees a model only through Weights: the wire codec,
// strategies, checkpoints. The layout lists tensors in a fixed order; each
// tensor occupies [offset, offset + numel) of the buffer.
//
//   TANDEM_ASSIGN_OR_RETURN(WeightsLayout layout,
//                           WeightsLayout::Create({{"fc.weight", {10, 4}}}));
//   Weights w(layout);          // zero-filled
//   w.values()[0] = 1.0f;
//
// Weights is a value type; it is not thread-safe for concurrent mutation.
#ifndef TANDEM_CORE_WEIGHTS_H_
#define TANDEM_CORE_WEIGHTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tandem {

// Trainable parameters are what optimisers and norm bounds look at; buffers
// (batch-norm running statistics) are averaged but not clipped.
enum class TensorKind { kParameter = 0, kBuffer = 1 };

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  TensorKind kind = TensorKind::kParameter;
  int64_t offset = 0;  // in floats, filled by WeightsLayout::Create
  int64_t numel = 0;   // product of shape, filled by WeightsLayout::Create
};

class WeightsLayout {
 public:
  WeightsLayout() = default;

  // Validates names (non-empty, unique) and shapes (non-negative dims) and
  // computes offsets. Offsets and numel of the input are ignored.
  static absl::StatusOr<WeightsLayout> Create(std::vector<TensorSpec> tensors);

  const std::vector<TensorSpec>& tensors() const { return tensors_; }
  int64_t total_floats() const { return total_floats_; }
  int64_t total_bytes() const { return total_floats_ * 4; }
  // Index of the tensor called `name`, or -1.
  int Find(const std::string& name) const;

  // Same names, shapes and kinds in the same order.
  bool operator==(const WeightsLayout& other) const;
  bool operator!=(const WeightsLayout& other) const {
    return !(*this == other);
  }
  // Names the first difference, or returns "" when the layouts are equal.
  std::string DescribeDifference(const WeightsLayout& other) const;

 private:
  std::vector<TensorSpec> tensors_;
  int64_t total_floats_ = 0;
};

class Weights {
 public:
  Weights() = default;
  // Zero-filled weights of the given layout.
  explicit Weights(WeightsLayout layout);

  const WeightsLayout& layout() const { return layout_; }
  int64_t size() const { return static_cast<int64_t>(values_.size()); }
  absl::Span<float> values() { return absl::MakeSpan(values_); }
  absl::Span<const float> values() const {
    return absl::MakeConstSpan(values_);
  }
  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }

  // The values of tensor i of the layout.
  absl::Span<float> tensor(int i);
  absl::Span<const float> tensor(int i) const;

  // First non-finite value's tensor name and index, or OK.
  absl::Status CheckFinite() const;

 private:
  WeightsLayout layout_;
  std::vector<float> values_;
};

}  // namespace tandem

#endif  // TANDEM_CORE_WEIGHTS_H_

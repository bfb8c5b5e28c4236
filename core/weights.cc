#include "core/weights.h"

#include <cmath>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tandem {

absl::StatusOr<WeightsLayout> WeightsLayout::Create(
    std::vector<TensorSpec> tensors) {
  WeightsLayout layout;
  std::unordered_set<std::string> seen;
  int64_t offset = 0;
  for (TensorSpec& t : tensors) {
    if (t.name.empty()) {
      return absl::InvalidArgumentError("weights layout: empty tensor name");
    }
    if (!seen.insert(t.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("weights layout: duplicate tensor name '", t.name, "'"));
    }
    int64_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0 || d > (int64_t{1} << 31)) {
        return absl::InvalidArgumentError(
            absl::StrCat("weights layout: tensor '", t.name,
                         "' has an invalid dimension ", d));
      }
      // Stop before the product can overflow (and wrap to a small size).
      if (d != 0 && numel > (int64_t{1} << 34) / d) {
        numel = (int64_t{1} << 34) + 1;
        break;
      }
      numel *= d;
    }
    if (offset + numel > (int64_t{1} << 34)) {
      return absl::InvalidArgumentError(
          "weights layout: more than 2^34 floats in total");
    }
    t.offset = offset;
    t.numel = numel;
    offset += numel;
  }
  layout.tensors_ = std::move(tensors);
  layout.total_floats_ = offset;
  return layout;
}

int WeightsLayout::Find(const std::string& name) const {
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (tensors_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool WeightsLayout::operator==(const WeightsLayout& other) const {
  return DescribeDifference(other).empty();
}

std::string WeightsLayout::DescribeDifference(
    const WeightsLayout& other) const {
  if (tensors_.size() != other.tensors_.size()) {
    return absl::StrCat("expected ", tensors_.size(), " tensors, got ",
                        other.tensors_.size());
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const TensorSpec& a = tensors_[i];
    const TensorSpec& b = other.tensors_[i];
    if (a.name != b.name) {
      return absl::StrCat("tensor ", i, ": expected '", a.name, "', got '",
                          b.name, "'");
    }
    if (a.shape != b.shape) {
      return absl::StrCat("tensor '", a.name, "': expected shape [",
                          absl::StrJoin(a.shape, ","), "], got [",
                          absl::StrJoin(b.shape, ","), "]");
    }
    if (a.kind != b.kind) {
      return absl::StrCat("tensor '", a.name, "': parameter/buffer mismatch");
    }
  }
  return "";
}

Weights::Weights(WeightsLayout layout)
    : layout_(std::move(layout)),
      values_(static_cast<size_t>(layout_.total_floats()), 0.0f) {}

absl::Span<float> Weights::tensor(int i) {
  const TensorSpec& t = layout_.tensors()[i];
  return absl::MakeSpan(values_.data() + t.offset, t.numel);
}

absl::Span<const float> Weights::tensor(int i) const {
  const TensorSpec& t = layout_.tensors()[i];
  return absl::MakeConstSpan(values_.data() + t.offset, t.numel);
}

absl::Status Weights::CheckFinite() const {
  for (size_t i = 0; i < values_.size(); ++i) {
    if (!std::isfinite(values_[i])) {
      for (const TensorSpec& t : layout_.tensors()) {
        const int64_t idx = static_cast<int64_t>(i);
        if (idx >= t.offset && idx < t.offset + t.numel) {
          return absl::InvalidArgumentError(
              absl::StrCat("non-finite value ", values_[i], " in tensor '",
                           t.name, "' at index ", idx - t.offset));
        }
      }
      return absl::InvalidArgumentError("non-finite value");
    }
  }
  return absl::OkStatus();
}

}  // namespace tandem

#include "ml/split_weights.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace tandem::ml {

int StageOf(const std::string& name) {
  if (name.size() < 3 || name[0] != 's') return -1;
  const size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 1) return -1;
  int stage = 0;
  for (size_t i = 1; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    stage = stage * 10 + (name[i] - '0');
  }
  return stage;
}

WeightsLayout SliceLayout(const WeightsLayout& full, int begin, int end) {
  std::vector<TensorSpec> specs;
  for (const TensorSpec& t : full.tensors()) {
    const int s = StageOf(t.name);
    if (s >= begin && s < end) specs.push_back(t);
  }
  return WeightsLayout::Create(std::move(specs)).value();  // subset: valid
}

Weights SliceStages(const Weights& full, int begin, int end) {
  Weights part(SliceLayout(full.layout(), begin, end));
  for (size_t i = 0; i < part.layout().tensors().size(); ++i) {
    const int src = full.layout().Find(part.layout().tensors()[i].name);
    auto from = full.tensor(src);
    std::copy(from.begin(), from.end(),
              part.tensor(static_cast<int>(i)).begin());
  }
  return part;
}

absl::Status MergeStages(const Weights& part, Weights* full) {
  std::vector<int> targets;
  for (const TensorSpec& t : part.layout().tensors()) {
    const int dst = full->layout().Find(t.name);
    if (dst < 0 || full->layout().tensors()[dst].shape != t.shape) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot merge tensor '", t.name, "' into the model"));
    }
    targets.push_back(dst);
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    auto from = part.tensor(static_cast<int>(i));
    std::copy(from.begin(), from.end(), full->tensor(targets[i]).begin());
  }
  return absl::OkStatus();
}

}  // namespace tandem::ml

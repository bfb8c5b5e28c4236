// Splitting a model's Weights between stages and joining them back, by the
// "s<i>." tensor-name prefix every zoo model uses. Torch-free.
//
//   Weights head = SliceStages(global, 0, split);   // what a device gets
//   TANDEM_RETURN_IF_ERROR(MergeStages(head, &full));  // head into full
#ifndef TANDEM_ML_SPLIT_WEIGHTS_H_
#define TANDEM_ML_SPLIT_WEIGHTS_H_

#include "absl/status/status.h"
#include "core/weights.h"

namespace tandem::ml {

// Stage index of a tensor name "s<i>.<rest>", or -1.
int StageOf(const std::string& tensor_name);

// The tensors of stages [begin, end), in layout order.
WeightsLayout SliceLayout(const WeightsLayout& full, int begin, int end);
Weights SliceStages(const Weights& full, int begin, int end);

// Copies every tensor of `part` into the same-named tensor of `full`.
// Fails, changing nothing, if a name is missing or a shape differs.
absl::Status MergeStages(const Weights& part, Weights* full);

}  // namespace tandem::ml

#endif  // TANDEM_ML_SPLIT_WEIGHTS_H_

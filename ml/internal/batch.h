// Turning dataset examples into normalised float tensors.
#ifndef TANDEM_ML_INTERNAL_BATCH_H_
#define TANDEM_ML_INTERNAL_BATCH_H_

#include <torch/torch.h>

#include <cstdint>

#include "ml/data/dataset.h"

namespace tandem::ml {

struct Batch {
  // float32, shaped by the dataset's rank: [n, C, H, W] (3), [n, C, T] (2),
  // [n, F] (1). Normalised per channel: pixels (p / 255 - mean) / std, float
  // features (x - mean) / std.
  torch::Tensor x;
  torch::Tensor y;  // [n] int64
};

// Examples idx[0..n) of `data`.
Batch MakeBatch(const data::Dataset& data, const int64_t* idx, int64_t n);

}  // namespace tandem::ml

#endif  // TANDEM_ML_INTERNAL_BATCH_H_

// Turning dataset examples into normalised float tensors.
#ifndef TANDEM_ML_INTERNAL_BATCH_H_
#define TANDEM_ML_INTERNAL_BATCH_H_

#include <torch/torch.h>

#include <cstdint>

#include "ml/data/dataset.h"

namespace tandem::ml {

struct Batch {
  torch::Tensor x;  // [n, C, H, W] float32, (p / 255 - mean) / std
  torch::Tensor y;  // [n] int64
};

// Examples idx[0..n) of `data`.
Batch MakeBatch(const data::Dataset& data, const int64_t* idx, int64_t n);

}  // namespace tandem::ml

#endif  // TANDEM_ML_INTERNAL_BATCH_H_

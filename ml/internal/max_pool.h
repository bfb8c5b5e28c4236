// 2x2 max pooling with stride 2 (floor mode) for float32 NCHW tensors, with
// the same output, the same chosen index per window (NaN wins; the last NaN,
// then the first of equal maxima, as LibTorch) and so the same gradient as
// nn::MaxPool2d(2).
//
// Why not nn::MaxPool2d: in LibTorch 1.13 on CPU its forward with indices
// (the path taken whenever gradients are needed) is about 4x slower than
// this loop; for VGG-5 on 28x28 it was 10 ms of a 35 ms head step at the
// first pooling (batch 100, one thread). The backward is LibTorch's own.
#ifndef TANDEM_ML_INTERNAL_MAX_POOL_H_
#define TANDEM_ML_INTERNAL_MAX_POOL_H_

#include <torch/torch.h>

namespace tandem::ml {

// Pooled values and, per output, the flat index (row * width + column) of
// the chosen input within its channel plane. `x`: float32 [N, C, H, W].
std::pair<torch::Tensor, torch::Tensor> MaxPool2x2WithIndices(
    const torch::Tensor& x);

class MaxPool2x2Impl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(MaxPool2x2);

}  // namespace tandem::ml

#endif  // TANDEM_ML_INTERNAL_MAX_POOL_H_

// Tandem's 2x2 max pool against LibTorch's max_pool2d_with_indices (the
// forward nn::MaxPool2d runs when gradients are needed), on the pooling
// inputs of VGG-5 for 28x28 images at batch 100, one thread, in one run.
//
//   build/bench/training/max_pool_bench
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/clock.h"
#include "ml/internal/max_pool.h"

namespace {

template <typename Fn>
double MedianMs(Fn fn, int reps) {
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const double t0 = tandem::MonotonicSeconds();
    fn();
    ms.push_back(1e3 * (tandem::MonotonicSeconds() - t0));
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main() {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  std::printf("%-18s %12s %12s %8s\n", "input", "tandem ms", "libtorch ms",
              "ratio");
  for (std::vector<int64_t> shape : {std::vector<int64_t>{100, 32, 28, 28},
                                     std::vector<int64_t>{100, 64, 14, 14}}) {
    const torch::Tensor x = torch::relu(torch::randn(shape));
    const double ours =
        MedianMs([&] { tandem::ml::MaxPool2x2WithIndices(x); }, 31);
    const double theirs = MedianMs(
        [&] {
          at::max_pool2d_with_indices(x, {2, 2}, {2, 2});
        },
        31);
    std::printf("[%ld,%ld,%ld,%ld]  %12.2f %12.2f %8.2f\n", shape[0], shape[1],
                shape[2], shape[3], ours, theirs, ours / theirs);
  }
  return 0;
}

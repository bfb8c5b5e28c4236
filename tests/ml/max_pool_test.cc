// The fast 2x2 max pool agrees with nn::MaxPool2d(2): same values, same
// gradient (so the same chosen index per window), ties and NaN included.
#include "ml/internal/max_pool.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"

namespace tandem::ml {
namespace {

// Forward and input gradient of `pool` for input `x` and output gradient
// seeded from `seed`.
std::pair<torch::Tensor, torch::Tensor> Run(
    const std::function<torch::Tensor(const torch::Tensor&)>& pool,
    const torch::Tensor& x, uint64_t seed) {
  torch::Tensor in = x.clone().requires_grad_(true);
  torch::Tensor y = pool(in);
  torch::manual_seed(seed);
  y.backward(torch::randn_like(y));
  return {y.detach(), in.grad()};
}

void ExpectSameAsLibTorch(const torch::Tensor& x) {
  MaxPool2x2 fast;
  torch::nn::MaxPool2d reference(torch::nn::MaxPool2dOptions(2));
  auto [y_fast, g_fast] =
      Run([&](const torch::Tensor& t) { return fast(t); }, x, 7);
  auto [y_ref, g_ref] =
      Run([&](const torch::Tensor& t) { return reference(t); }, x, 7);
  ASSERT_EQ(y_fast.sizes(), y_ref.sizes());
  EXPECT_TRUE(torch::equal(y_fast.nan_to_num(-1e9), y_ref.nan_to_num(-1e9)));
  EXPECT_TRUE(torch::equal(g_fast, g_ref));
}

TEST(MaxPool2x2Test, MatchesLibTorchOnRandomInput) {
  torch::manual_seed(1);
  ExpectSameAsLibTorch(torch::randn({3, 4, 8, 8}));
}

TEST(MaxPool2x2Test, MatchesLibTorchOnTiesAfterRelu) {
  torch::manual_seed(2);
  // ReLU zeros and rounded values make windows with equal maxima.
  ExpectSameAsLibTorch(torch::relu(torch::randn({2, 3, 6, 6})).round());
}

TEST(MaxPool2x2Test, MatchesLibTorchOnOddSizesAndNaN) {
  torch::manual_seed(3);
  torch::Tensor x = torch::randn({2, 2, 7, 5});
  x[0][0][0][1] = NAN;
  x[1][1][2][2] = NAN;
  x[1][1][3][3] = NAN;
  ExpectSameAsLibTorch(x);
}

TEST(MaxPool2x2Test, WithoutGradientGivesTheSameValues) {
  torch::manual_seed(4);
  torch::Tensor x = torch::randn({2, 3, 10, 10});
  torch::NoGradGuard no_grad;
  MaxPool2x2 fast;
  EXPECT_TRUE(torch::equal(fast(x), torch::max_pool2d(x, 2)));
}

TEST(MaxPool2x2Test, RejectsWrongRankOrType) {
  MaxPool2x2 fast;
  EXPECT_THROW(fast(torch::zeros({4, 4})), c10::Error);
  EXPECT_THROW(fast(torch::zeros({1, 1, 4, 4}, torch::kFloat64)), c10::Error);
}

}  // namespace
}  // namespace tandem::ml

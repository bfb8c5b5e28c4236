#include "ml/internal/batch.h"

#include <vector>

namespace tandem::ml {
namespace {

// [n, C, H, W], [n, C, T] or [n, F], by the dataset's rank.
std::vector<int64_t> BatchShape(const data::Dataset& data, int64_t n) {
  switch (data.rank) {
    case 1:
      return {n, data.channels};
    case 2:
      return {n, data.channels, data.width};
    default:
      return {n, data.channels, data.height, data.width};
  }
}

}  // namespace

Batch MakeBatch(const data::Dataset& data, const int64_t* idx, int64_t n) {
  const int64_t c = data.channels;
  const int64_t plane = static_cast<int64_t>(data.height) * data.width;
  Batch b;
  // Every rank stores its examples as C planes of H * W values.
  b.x = torch::empty(BatchShape(data, n), torch::kFloat32);
  b.y = torch::empty({n}, torch::kInt64);
  float* x = b.x.data_ptr<float>();
  int64_t* y = b.y.data_ptr<int64_t>();
  // Per channel; 0 and 1 where the dataset has none.
  std::vector<float> mean(c), sd(c);
  for (int64_t k = 0; k < c; ++k) {
    mean[k] = k < static_cast<int64_t>(data.mean.size()) ? data.mean[k] : 0.f;
    sd[k] = k < static_cast<int64_t>(data.std.size()) ? data.std[k] : 1.f;
  }
  if (data.float_features) {
    for (int64_t i = 0; i < n; ++i) {
      const float* src = data.features.data() + idx[i] * c * plane;
      float* dst = x + i * c * plane;
      for (int64_t k = 0; k < c; ++k) {
        for (int64_t p = 0; p < plane; ++p) {
          dst[k * plane + p] = (src[k * plane + p] - mean[k]) / sd[k];
        }
      }
    }
  } else {
    // p -> p * scale[c] + shift[c] == (p / 255 - mean) / std.
    std::vector<float> scale(c), shift(c);
    for (int64_t k = 0; k < c; ++k) {
      scale[k] = 1.0f / (255.0f * sd[k]);
      shift[k] = -mean[k] / sd[k];
    }
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* src = data.pixels.data() + idx[i] * c * plane;
      float* dst = x + i * c * plane;
      for (int64_t k = 0; k < c; ++k) {
        for (int64_t p = 0; p < plane; ++p) {
          dst[k * plane + p] = src[k * plane + p] * scale[k] + shift[k];
        }
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) y[i] = data.labels[idx[i]];
  return b;
}

}  // namespace tandem::ml

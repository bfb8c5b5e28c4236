#include "ml/internal/batch.h"

namespace tandem::ml {

Batch MakeBatch(const data::Dataset& data, const int64_t* idx, int64_t n) {
  const int64_t c = data.channels;
  const int64_t plane = static_cast<int64_t>(data.height) * data.width;
  Batch b;
  b.x = torch::empty({n, c, data.height, data.width}, torch::kFloat32);
  b.y = torch::empty({n}, torch::kInt64);
  float* x = b.x.data_ptr<float>();
  int64_t* y = b.y.data_ptr<int64_t>();
  // p -> p * scale[c] + shift[c] == (p / 255 - mean) / std.
  std::vector<float> scale(c), shift(c);
  for (int64_t k = 0; k < c; ++k) {
    const float mean =
        k < static_cast<int64_t>(data.mean.size()) ? data.mean[k] : 0.f;
    const float std =
        k < static_cast<int64_t>(data.std.size()) ? data.std[k] : 1.f;
    scale[k] = 1.0f / (255.0f * std);
    shift[k] = -mean / std;
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* src = data.pixels.data() + idx[i] * c * plane;
    float* dst = x + i * c * plane;
    for (int64_t k = 0; k < c; ++k) {
      for (int64_t p = 0; p < plane; ++p) {
        dst[k * plane + p] = src[k * plane + p] * scale[k] + shift[k];
      }
    }
    y[i] = data.labels[idx[i]];
  }
  return b;
}

}  // namespace tandem::ml

// Coordinate-wise reductions across n models (median, trimmed mean, Bulyan's
// mean around the median). Values are gathered a block of coordinates at a
// time so every model is read sequentially, then reduced per coordinate.
#ifndef TANDEM_STRATEGIES_COORDINATEWISE_H_
#define TANDEM_STRATEGIES_COORDINATEWISE_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tandem {

// For every c in [begin, end): out[c] = reduce(v, n) where v[k] =
// models[k][c] (n = models.size()); `reduce` may reorder v.
template <typename Reduce>
void ReduceCoordinates(const std::vector<const float*>& models, int64_t begin,
                       int64_t end, Reduce reduce, float* out) {
  constexpr int64_t kBlock = 256;
  const int n = static_cast<int>(models.size());
  std::vector<float> block(static_cast<size_t>(kBlock) * n);
  for (int64_t c0 = begin; c0 < end; c0 += kBlock) {
    const int64_t len = std::min(kBlock, end - c0);
    for (int k = 0; k < n; ++k) {
      const float* src = models[k] + c0;
      for (int64_t j = 0; j < len; ++j) block[j * n + k] = src[j];
    }
    for (int64_t j = 0; j < len; ++j) out[c0 + j] = reduce(&block[j * n], n);
  }
}

// Median of v[0..n); the mean of the two middle values when n is even.
float MedianOf(float* v, int n);

// Mean of v after dropping the `cut` smallest and `cut` largest values
// (requires 2 * cut < n).
float TrimmedMeanOf(float* v, int n, int cut);

// Mean of the `keep` values closest to the median of v (Bulyan's last step).
float MeanAroundMedianOf(float* v, int n, int keep);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_COORDINATEWISE_H_

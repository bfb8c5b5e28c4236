#include "strategies/coordinatewise.h"

#include <cmath>

namespace tandem {

float MedianOf(float* v, int n) {
  const int mid = n / 2;
  std::nth_element(v, v + mid, v + n);
  const float upper = v[mid];
  if (n % 2 == 1) return upper;
  const float lower = *std::max_element(v, v + mid);
  return 0.5f * (lower + upper);
}

float TrimmedMeanOf(float* v, int n, int cut) {
  const int hi = n - cut;  // keep ranks [cut, hi)
  if (cut > 0) {
    std::nth_element(v, v + cut, v + n);
    std::nth_element(v + cut, v + hi - 1, v + n);
  }
  double sum = 0;
  for (int i = cut; i < hi; ++i) sum += v[i];
  return static_cast<float>(sum / (hi - cut));
}

float MeanAroundMedianOf(float* v, int n, int keep) {
  const float median = MedianOf(v, n);
  std::nth_element(v, v + keep - 1, v + n, [median](float a, float b) {
    return std::fabs(a - median) < std::fabs(b - median);
  });
  double sum = 0;
  for (int i = 0; i < keep; ++i) sum += v[i];
  return static_cast<float>(sum / keep);
}

}  // namespace tandem

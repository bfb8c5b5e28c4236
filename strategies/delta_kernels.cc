#include "strategies/delta_kernels.h"

#include <algorithm>

namespace tandem {
namespace {

// Float partial sums over at most this many elements keep the relative error
// of a sum of squares near 1e-6 while the loop stays in float SIMD lanes.
constexpr int64_t kChunk = 4096;

float SquaredDistanceChunk(const float* __restrict x,
                           const float* __restrict g, int64_t n) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - g[i];
    sum += d * d;
  }
  return sum;
}

float AccumulateChunk(const float* __restrict x, const float* __restrict g,
                      const float* __restrict acc, float w,
                      float* __restrict out, int64_t n) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - g[i];
    out[i] = acc[i] + w * d;
    sum += d * d;
  }
  return sum;
}

float ScaleChunk(const float* __restrict x, const float* __restrict g,
                 float w, float* __restrict out, int64_t n) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - g[i];
    out[i] = w * d;
    sum += d * d;
  }
  return sum;
}

}  // namespace

double SquaredDistance(const float* x, const float* g, int64_t n) {
  double total = 0;
  for (int64_t i = 0; i < n; i += kChunk) {
    total += SquaredDistanceChunk(x + i, g + i, std::min(kChunk, n - i));
  }
  return total;
}

double AccumulateDelta(const float* x, const float* g, const float* acc,
                       float w, float* out, int64_t n) {
  double total = 0;
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    total += acc == nullptr
                 ? ScaleChunk(x + i, g + i, w, out + i, len)
                 : AccumulateChunk(x + i, g + i, acc + i, w, out + i, len);
  }
  return total;
}

bool AllFinite(const float* x, int64_t n) {
  // x * 0 is 0 for finite x and NaN for infinities and NaN.
  float probe = 0;
#pragma omp simd reduction(+ : probe)
  for (int64_t i = 0; i < n; ++i) probe += x[i] * 0.0f;
  return probe == 0;
}

void AddScaled(const float* g, const float* d, float s, float* out,
               int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] + s * d[i];
}

}  // namespace tandem

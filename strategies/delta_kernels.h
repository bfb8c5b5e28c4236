// Vectorised inner loops over float buffers shared by the strategies: the
// squared distance of an update to the global model, and the weighted
// accumulation of its delta (with the same statistics, from the same pass).
//
// Finiteness is tracked without a per-element branch: each loop also sums
// x * 0, which is 0 for finite x and NaN otherwise.
#ifndef TANDEM_STRATEGIES_DELTA_KERNELS_H_
#define TANDEM_STRATEGIES_DELTA_KERNELS_H_

#include <cstdint>

namespace tandem {

struct DeltaStats {
  double sq = 0;       // sum of (x[i] - g[i])^2; may overflow to infinity
  bool finite = true;  // every x[i] is finite
};

// Statistics of x - g over i < n.
DeltaStats SquaredDistance(const float* x, const float* g, int64_t n);

// Sum of (a[i] - b[i])^2 without the finite check, for short runs (n up to a
// few thousand; float partial sums).
float SumSquaredDifference(const float* a, const float* b, int64_t n);

// out[i] = acc[i] + w * (x[i] - g[i]), or w * (x[i] - g[i]) when acc is
// null, plus the statistics of x - g. `out` must not alias x, g or acc.
DeltaStats AccumulateDelta(const float* x, const float* g, const float* acc,
                           float w, float* out, int64_t n);

// Same, writing the result over x: x[i] = acc[i] + w * (x[i] - g[i]).
DeltaStats AccumulateDeltaInPlace(float* x, const float* g, const float* acc,
                                  float w, int64_t n);

// True when every x[i] is finite.
bool AllFinite(const float* x, int64_t n);

// out[i] = g[i] + s * d[i]. `out` may alias g or d.
void AddScaled(const float* g, const float* d, float s, float* out, int64_t n);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_DELTA_KERNELS_H_

// Vectorisable inner loops over float buffers shared by the strategies: the
// squared distance of an update to the global model, fused with the weighted
// accumulation of its delta so a streaming strategy reads each update once.
//
// Non-finite inputs propagate into the returned sums (NaN or infinity), which
// is how callers detect them without a per-element branch.
#ifndef TANDEM_STRATEGIES_DELTA_KERNELS_H_
#define TANDEM_STRATEGIES_DELTA_KERNELS_H_

#include <cstdint>

namespace tandem {

// Sum over i < n of (x[i] - g[i])^2, accumulated in float lanes within
// chunks of a few thousand elements and in double across chunks.
double SquaredDistance(const float* x, const float* g, int64_t n);

// out[i] = acc[i] + w * (x[i] - g[i]), or w * (x[i] - g[i]) when acc is
// null; returns the sum of (x[i] - g[i])^2 as SquaredDistance does. `out`
// must not alias x, g or acc.
double AccumulateDelta(const float* x, const float* g, const float* acc,
                       float w, float* out, int64_t n);

// True when every x[i] is finite (no per-element branch).
bool AllFinite(const float* x, int64_t n);

// out[i] = g[i] + s * d[i]. `out` may alias g or d.
void AddScaled(const float* g, const float* d, float s, float* out, int64_t n);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_DELTA_KERNELS_H_

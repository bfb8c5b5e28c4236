#include "strategies/delta_kernels.h"

#include <algorithm>
#include <cmath>

#include "strategies/vector_clones.h"

namespace tandem {
namespace {

// Independent partial sums, so the additions are not one latency-bound
// dependency chain and the loop vectorises without -ffast-math.
constexpr int kLanes = 16;
// Float partial sums cover at most this many elements (kChunk / kLanes per
// lane) before they are added in double: relative error near 1e-6.
constexpr int64_t kChunk = 4096;
// How far ahead (in floats) the update is prefetched: the hardware
// prefetcher alone leaves memory bandwidth unused with four streams.
constexpr int64_t kPrefetch = 1024;

struct ChunkStats {
  float sq;
  float probe;  // 0, or NaN when some x was not finite
};

ChunkStats Reduce(const float* sq, const float* probe) {
  ChunkStats out{0, 0};
  for (int j = 0; j < kLanes; ++j) {
    out.sq += sq[j];
    out.probe += probe[j];
  }
  return out;
}

TANDEM_VECTOR_CLONES
ChunkStats DistanceChunk(const float* __restrict x, const float* __restrict g,
                         int64_t n) {
  float sq[kLanes] = {};
  float probe[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    __builtin_prefetch(x + i + kPrefetch);
    for (int j = 0; j < kLanes; ++j) {
      const float d = x[i + j] - g[i + j];
      sq[j] += d * d;
      probe[j] += x[i + j] * 0.0f;
    }
  }
  for (int j = 0; i < n; ++i, ++j) {
    const float d = x[i] - g[i];
    sq[j] += d * d;
    probe[j] += x[i] * 0.0f;
  }
  return Reduce(sq, probe);
}

TANDEM_VECTOR_CLONES
float SumSquaredDifferenceImpl(const float* __restrict a,
                               const float* __restrict b, int64_t n) {
  float sq[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      const float d = a[i + j] - b[i + j];
      sq[j] += d * d;
    }
  }
  for (int j = 0; i < n; ++i, ++j) sq[j] += (a[i] - b[i]) * (a[i] - b[i]);
  float total = 0;
  for (int j = 0; j < kLanes; ++j) total += sq[j];
  return total;
}

TANDEM_VECTOR_CLONES
ChunkStats AccumulateChunk(const float* __restrict x, const float* __restrict g,
                           const float* __restrict acc, float w,
                           float* __restrict out, int64_t n) {
  float sq[kLanes] = {};
  float probe[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    __builtin_prefetch(x + i + kPrefetch);
    for (int j = 0; j < kLanes; ++j) {
      const float d = x[i + j] - g[i + j];
      out[i + j] = (acc == nullptr ? 0.0f : acc[i + j]) + w * d;
      sq[j] += d * d;
      probe[j] += x[i + j] * 0.0f;
    }
  }
  for (int j = 0; i < n; ++i, ++j) {
    const float d = x[i] - g[i];
    out[i] = (acc == nullptr ? 0.0f : acc[i]) + w * d;
    sq[j] += d * d;
    probe[j] += x[i] * 0.0f;
  }
  return Reduce(sq, probe);
}

TANDEM_VECTOR_CLONES
ChunkStats AccumulateInPlaceChunk(float* __restrict x,
                                  const float* __restrict g,
                                  const float* __restrict acc, float w,
                                  int64_t n) {
  float sq[kLanes] = {};
  float probe[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    __builtin_prefetch(x + i + kPrefetch, /*rw=*/1);
    for (int j = 0; j < kLanes; ++j) {
      const float v = x[i + j];
      const float d = v - g[i + j];
      x[i + j] = (acc == nullptr ? 0.0f : acc[i + j]) + w * d;
      sq[j] += d * d;
      probe[j] += v * 0.0f;
    }
  }
  for (int j = 0; i < n; ++i, ++j) {
    const float v = x[i];
    const float d = v - g[i];
    x[i] = (acc == nullptr ? 0.0f : acc[i]) + w * d;
    sq[j] += d * d;
    probe[j] += v * 0.0f;
  }
  return Reduce(sq, probe);
}

// Runs `chunk(offset, length)` over [0, n) in kChunk pieces and adds up the
// partial results in double.
template <typename Chunk>
DeltaStats OverChunks(int64_t n, Chunk chunk) {
  DeltaStats total;
  float probe = 0;
  for (int64_t i = 0; i < n; i += kChunk) {
    const ChunkStats c = chunk(i, std::min(kChunk, n - i));
    total.sq += c.sq;
    probe += c.probe;
  }
  total.finite = probe == 0;
  return total;
}

}  // namespace

DeltaStats SquaredDistance(const float* x, const float* g, int64_t n) {
  return OverChunks(n, [&](int64_t i, int64_t len) {
    return DistanceChunk(x + i, g + i, len);
  });
}

float SumSquaredDifference(const float* a, const float* b, int64_t n) {
  return SumSquaredDifferenceImpl(a, b, n);
}

DeltaStats AccumulateDelta(const float* x, const float* g, const float* acc,
                           float w, float* out, int64_t n) {
  return OverChunks(n, [&](int64_t i, int64_t len) {
    return AccumulateChunk(x + i, g + i, acc == nullptr ? nullptr : acc + i, w,
                           out + i, len);
  });
}

DeltaStats AccumulateDeltaInPlace(float* x, const float* g, const float* acc,
                                  float w, int64_t n) {
  return OverChunks(n, [&](int64_t i, int64_t len) {
    return AccumulateInPlaceChunk(x + i, g + i,
                                  acc == nullptr ? nullptr : acc + i, w, len);
  });
}

bool AllFinite(const float* x, int64_t n) {
  float probe[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) probe[j] += x[i + j] * 0.0f;
  }
  float total = 0;
  for (; i < n; ++i) total += x[i] * 0.0f;
  for (int j = 0; j < kLanes; ++j) total += probe[j];
  return total == 0;
}

void AddScaled(const float* g, const float* d, float s, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] + s * d[i];
}

}  // namespace tandem

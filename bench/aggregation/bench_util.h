// Helpers shared by the aggregation benchmarks: a clock, peak RSS, cheap
// deterministic model values and a STREAM triad.
#ifndef TANDEM_BENCH_AGGREGATION_BENCH_UTIL_H_
#define TANDEM_BENCH_AGGREGATION_BENCH_UTIL_H_

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "core/weights.h"

namespace tandem {

inline double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline double PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;  // Linux: KiB
}

// Cheap deterministic values: global in [-0.5, 0.5), updates within
// +-0.01 of it.
inline void Fill(Weights& w, uint64_t seed, const Weights* around) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  float* v = w.data();
  for (int64_t i = 0; i < w.size(); ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const float u = static_cast<float>(x >> 40) * 0x1.0p-24f - 0.5f;
    v[i] = around == nullptr ? u : around->data()[i] + 0.02f * u;
  }
}

// A STREAM triad a[i] = b[i] + s * c[i] over `floats` floats per array, best
// of `reps`, in GB/s (3 arrays counted); printed.
inline double TriadGBps(int64_t floats, int reps) {
  const int64_t n = floats;
  std::vector<float> a(n, 1.0f), b(n, 2.0f), c(n, 3.0f);
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = Now();
    float* __restrict pa = a.data();
    const float* __restrict pb = b.data();
    const float* __restrict pc = c.data();
    const float scalar = 0.5f + 0.001f * r;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) pa[i] = pb[i] + scalar * pc[i];
    best = std::min(best, Now() - t0);
  }
  if (a[n / 2] < 0) std::puts("");  // keep the stores observable
  const double gbps = 12.0 * n / best / 1e9;
  std::printf("triad: %lld floats x 3 arrays (%.0f MB each): %.1f GB/s\n\n",
              static_cast<long long>(n), 4.0 * n / 1e6, gbps);
  return gbps;
}

}  // namespace tandem

#endif  // TANDEM_BENCH_AGGREGATION_BENCH_UTIL_H_

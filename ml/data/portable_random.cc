#include "ml/data/portable_random.h"

#include <cmath>
#include <limits>

namespace tandem::data {

double UniformDouble(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n) {
  // Reject the top partial block so every residue is equally likely.
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - (max % n + 1) % n;
  uint64_t x;
  do {
    x = rng();
  } while (x > limit);
  return x % n;
}

double StandardNormal(std::mt19937_64& rng) {
  const double u1 = 1.0 - UniformDouble(rng);  // (0, 1], safe for log
  const double u2 = UniformDouble(rng);
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

double Gamma(std::mt19937_64& rng, double shape) {
  if (shape < 1.0) {
    const double u = 1.0 - UniformDouble(rng);  // (0, 1]
    return Gamma(rng, shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x, v;
    do {
      x = StandardNormal(rng);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - UniformDouble(rng);  // (0, 1]
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

}  // namespace tandem::data

// Random draws that give the same numbers with every standard library.
//
// std::mt19937_64 is fully specified by the C++ standard, but the std
// distributions (uniform_int_distribution, normal_distribution,
// gamma_distribution, std::shuffle) are implementation-defined. Datasets and
// partitions must be reproducible from a seed on any toolchain, so everything
// in ml/data draws through these functions instead. UniformIndex and Shuffle
// are bit-identical everywhere; StandardNormal and Gamma use std::log, cos
// and pow, which may differ in the last bit between math libraries.
//
//   std::mt19937_64 rng(seed);
//   double u = UniformDouble(rng);          // [0, 1)
//   uint64_t k = UniformIndex(rng, 10);     // 0..9
//   Shuffle(rng, &indices);
//
// The functions hold no state besides the engine passed in; an engine must not
// be shared between threads without external locking.
#ifndef TANDEM_ML_DATA_PORTABLE_RANDOM_H_
#define TANDEM_ML_DATA_PORTABLE_RANDOM_H_

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace tandem::data {

// Uniform in [0, 1) with 53 random bits.
double UniformDouble(std::mt19937_64& rng);

// Uniform in [0, n) without modulo bias. Requires n >= 1.
uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n);

// Standard normal (Box-Muller; one draw uses two uniforms, none cached).
double StandardNormal(std::mt19937_64& rng);

// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 uses the boost
// Gamma(shape) = Gamma(shape + 1) * U^(1 / shape). Requires shape > 0. May
// return 0 for very small shapes (underflow).
double Gamma(std::mt19937_64& rng, double shape);

// Fisher-Yates shuffle.
template <typename T>
void Shuffle(std::mt19937_64& rng, std::vector<T>* values) {
  for (size_t i = values->size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(UniformIndex(rng, i));
    std::swap((*values)[i - 1], (*values)[j]);
  }
}

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_PORTABLE_RANDOM_H_

#include "strategies/sampling.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "strategies/deterministic_rng.h"

namespace tandem {
namespace {

// fraction * n within this of an integer counts as that integer, so that
// 0.1 * 30 = 3.0000000000000004 samples 3 devices, not 4.
constexpr double kCountSlack = 1e-9;

}  // namespace

int64_t SampleSize(int64_t n, double fraction, int min_devices) {
  const int64_t by_fraction =
      static_cast<int64_t>(std::ceil(fraction * n - kCountSlack));
  return std::min(n, std::max<int64_t>(min_devices, by_fraction));
}

absl::StatusOr<std::vector<std::string>> SampleDevices(
    const std::vector<std::string>& available, double fraction, int min_devices,
    uint64_t seed, int64_t round, double over_selection) {
  if (!(fraction > 0 && fraction <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampling: fraction must be in (0, 1], got ", fraction));
  }
  if (min_devices < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampling: min_devices must be >= 1, got ", min_devices));
  }
  std::vector<std::string> ids = available;
  std::sort(ids.begin(), ids.end());
  auto repeated = std::adjacent_find(ids.begin(), ids.end());
  if (repeated != ids.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampling: device '", *repeated, "' listed twice"));
  }
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n < min_devices) {
    return absl::FailedPreconditionError(
        absl::StrCat("sampling: round ", round, " needs at least ", min_devices,
                     " devices, ", n, " available"));
  }
  if (!(over_selection >= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sampling: over_selection must be >= 1, got ", over_selection));
  }
  const int64_t k = std::min(
      n, static_cast<int64_t>(
             std::ceil(SampleSize(n, fraction, min_devices) * over_selection -
                       kCountSlack)));
  return PickDevices(std::move(ids), k, seed, static_cast<uint64_t>(round));
}

std::vector<std::string> PickDevices(std::vector<std::string> ids, int64_t k,
                                     uint64_t seed, uint64_t salt) {
  std::sort(ids.begin(), ids.end());
  const int64_t n = static_cast<int64_t>(ids.size());
  k = std::max<int64_t>(0, std::min(k, n));
  // Partial Fisher-Yates over the sorted ids.
  DeterministicRng rng(seed, salt);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t j = i + static_cast<int64_t>(rng.Below(n - i));
    std::swap(ids[i], ids[j]);
  }
  ids.resize(k);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace tandem

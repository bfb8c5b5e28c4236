#include "strategies/admission_bound.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tandem {

double AdmissionBound::RoundMedian() const {
  if (norms_.empty()) return 0;
  std::vector<double> v;
  v.reserve(norms_.size());
  for (const auto& [device, norm] : norms_) v.push_back(norm);
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  double median = v[mid];
  if (v.size() % 2 == 0) {
    median = (median + *std::max_element(v.begin(), v.begin() + mid)) / 2;
  }
  return median;
}

void AdmissionBound::EndRound() {
  if (norms_.empty()) return;
  level_ = RoundMedian();
  norms_.clear();
}

bool AdmissionBound::set_level(double level) {
  if (!std::isfinite(level) || level < 0) return false;
  level_ = level;
  return true;
}

}  // namespace tandem

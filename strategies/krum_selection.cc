#include "strategies/krum_selection.h"

#include <algorithm>
#include <numeric>

#include "strategies/delta_kernels.h"

namespace tandem {

std::vector<double> PairwiseSquaredDistances(
    const WeightsLayout& layout, const std::vector<const float*>& models) {
  // A block of every model (n x 2048 floats) stays in L2 while all pairs
  // use it.
  constexpr int64_t kBlock = 2048;
  const int n = static_cast<int>(models.size());
  std::vector<double> d(static_cast<size_t>(n) * n, 0.0);
  for (const TensorSpec& t : layout.tensors()) {
    if (t.kind != TensorKind::kParameter) continue;
    for (int64_t c = t.offset; c < t.offset + t.numel; c += kBlock) {
      const int64_t len = std::min(kBlock, t.offset + t.numel - c);
      for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j) {
          d[i * n + j] +=
              SumSquaredDifference(models[i] + c, models[j] + c, len);
        }
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < i; ++j) d[i * n + j] = d[j * n + i];
  }
  return d;
}

std::vector<double> KrumScores(const std::vector<double>& distances, int n,
                               const std::vector<int>& members, int f) {
  const int m = static_cast<int>(members.size());
  const int closest = std::min(std::max(1, m - f - 2), m - 1);
  std::vector<double> scores(m, 0.0);
  std::vector<double> row;
  for (int a = 0; a < m; ++a) {
    row.clear();
    for (int b = 0; b < m; ++b) {
      if (b != a) row.push_back(distances[members[a] * n + members[b]]);
    }
    std::partial_sort(row.begin(), row.begin() + closest, row.end());
    scores[a] = std::accumulate(row.begin(), row.begin() + closest, 0.0);
  }
  return scores;
}

std::vector<int> RankByScore(const std::vector<double>& scores) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return scores[a] < scores[b]; });
  return order;
}

}  // namespace tandem

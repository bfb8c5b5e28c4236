// Krum's scoring (Blanchard et al., NeurIPS 2017), shared by krum, multikrum
// and bulyan: squared distances between updates over parameter tensors, and
// each update's score = the sum of its distances to its n - f - 2 nearest
// neighbours.
#ifndef TANDEM_STRATEGIES_KRUM_SELECTION_H_
#define TANDEM_STRATEGIES_KRUM_SELECTION_H_

#include <vector>

#include "core/weights.h"

namespace tandem {

// Row-major n x n matrix of squared L2 distances between models[i] and
// models[j] over the parameter tensors of `layout` (buffers are left out:
// their scale, e.g. running variances, would dominate). One blocked pass so
// each model is read from memory once.
std::vector<double> PairwiseSquaredDistances(
    const WeightsLayout& layout, const std::vector<const float*>& models);

// Krum scores of the models listed in `members` (indices into the n x n
// `distances`): for each member, the sum of its distances to its
// max(1, m - f - 2) nearest other members (m = members.size()), as in
// Flower's aggregate_krum.
std::vector<double> KrumScores(const std::vector<double>& distances, int n,
                               const std::vector<int>& members, int f);

// Positions in `scores` sorted by (score, position).
std::vector<int> RankByScore(const std::vector<double>& scores);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_KRUM_SELECTION_H_

#include "offload/grouping.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace tandem::offload {
namespace {

using Point = std::array<double, 2>;

double Dist2(const Point& a, const Point& b) {
  return (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]);
}

std::vector<Point> Features(const std::vector<DevicePoint>& devices) {
  std::vector<Point> f;
  for (const DevicePoint& d : devices) {
    f.push_back({std::log(std::max(1e-9, d.compute_s)),
                 std::log(std::max(1e-9, d.throughput_mbps))});
  }
  for (int dim = 0; dim < 2; ++dim) {  // standardise
    double mean = 0, var = 0;
    for (const Point& p : f) mean += p[dim];
    mean /= static_cast<double>(f.size());
    for (const Point& p : f) var += (p[dim] - mean) * (p[dim] - mean);
    const double sd = std::sqrt(var / static_cast<double>(f.size()));
    for (Point& p : f) p[dim] = sd > 1e-12 ? (p[dim] - mean) / sd : 0;
  }
  return f;
}

// One k-means run from k-means++ seeds; returns the inertia.
double KMeans(const std::vector<Point>& f, int k, std::mt19937_64& rng,
              std::vector<int>* assign) {
  std::vector<Point> centers = {f[rng() % f.size()]};
  while (static_cast<int>(centers.size()) < k) {
    std::vector<double> d2(f.size());
    for (size_t i = 0; i < f.size(); ++i) {
      d2[i] = std::numeric_limits<double>::max();
      for (const Point& c : centers) d2[i] = std::min(d2[i], Dist2(f[i], c));
    }
    const double total = std::accumulate(d2.begin(), d2.end(), 0.0);
    double pick = std::uniform_real_distribution<double>(0, total)(rng);
    size_t i = 0;
    while (i + 1 < f.size() && pick > d2[i]) pick -= d2[i++];
    centers.push_back(f[i]);
  }
  assign->assign(f.size(), 0);
  for (int iter = 0; iter < 50; ++iter) {
    bool moved = false;
    for (size_t i = 0; i < f.size(); ++i) {
      int best = 0;
      for (int c = 1; c < k; ++c) {
        if (Dist2(f[i], centers[c]) < Dist2(f[i], centers[best])) best = c;
      }
      moved = moved || (*assign)[i] != best;
      (*assign)[i] = best;
    }
    for (int c = 0; c < k; ++c) {
      Point sum = {0, 0};
      int n = 0;
      for (size_t i = 0; i < f.size(); ++i) {
        if ((*assign)[i] == c) sum[0] += f[i][0], sum[1] += f[i][1], ++n;
      }
      if (n > 0) centers[c] = {sum[0] / n, sum[1] / n};
    }
    if (!moved && iter > 0) break;
  }
  double inertia = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    inertia += Dist2(f[i], centers[(*assign)[i]]);
  }
  return inertia;
}

}  // namespace

Grouping GroupDevices(const std::vector<DevicePoint>& devices, int k,
                      uint64_t seed) {
  Grouping out;
  if (devices.empty()) return out;
  k = std::max(1, std::min<int>(k, static_cast<int>(devices.size())));
  const std::vector<Point> f = Features(devices);
  std::mt19937_64 rng(seed);
  std::vector<int> best, assign;
  double best_inertia = std::numeric_limits<double>::max();
  for (int restart = 0; restart < 8; ++restart) {
    const double inertia = KMeans(f, k, rng, &assign);
    if (inertia < best_inertia) best_inertia = inertia, best = assign;
  }
  // Renumber groups by ascending mean compute time.
  std::vector<std::pair<double, int>> order;
  for (int c = 0; c < k; ++c) {
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < devices.size(); ++i) {
      if (best[i] == c) sum += devices[i].compute_s, ++n;
    }
    if (n > 0) order.push_back({sum / n, c});
  }
  std::sort(order.begin(), order.end());
  std::map<int, int> rank;
  for (size_t r = 0; r < order.size(); ++r) rank[order[r].second] = r;
  for (size_t i = 0; i < devices.size(); ++i) {
    out[devices[i].id] = rank[best[i]];
  }
  return out;
}

bool DeviceGrouper::Update(const std::vector<DevicePoint>& devices) {
  bool drifted = groups_.empty();
  for (const DevicePoint& d : devices) {
    auto it = at_last_grouping_.find(d.id);
    if (it == at_last_grouping_.end()) {
      drifted = true;
      continue;
    }
    auto rel = [](double now, double then) {
      return std::fabs(now - then) / std::max(1e-9, std::fabs(then));
    };
    drifted = drifted || rel(d.compute_s, it->second.compute_s) > drift_ ||
              rel(d.throughput_mbps, it->second.throughput_mbps) > drift_;
  }
  if (!drifted) return false;
  groups_ = GroupDevices(devices, k_, seed_);
  at_last_grouping_.clear();
  for (const DevicePoint& d : devices) at_last_grouping_[d.id] = d;
  return true;
}

}  // namespace tandem::offload

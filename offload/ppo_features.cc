#include "offload/ppo_features.h"

#include <algorithm>
#include <cmath>

namespace tandem::offload {
namespace {

float Clamped(double x, double limit) {
  if (!std::isfinite(x)) return static_cast<float>(x > 0 ? limit : -limit);
  return static_cast<float>(std::clamp(x, -limit, limit));
}

// ln(a / b), kept finite.
float LogRatio(double a, double b) {
  return Clamped(std::log(std::max(a, 1e-12) / std::max(b, 1e-12)), 5);
}

std::vector<SplitCost> CostsAt(const PolicyContext& context,
                               const DeviceSituation& d, double mbps) {
  DeviceEstimate e = d.estimate;
  e.bandwidth_mbps = std::max(mbps, 1e-3);
  const int tails = d.others_offloading + 1;
  return EvaluatePlacements(context.profile, e,
                            RoundShapeOf(context, d.examples, tails),
                            context.modes);
}

std::vector<float> ContextOf(const PolicyContext& context,
                             const DeviceSituation& d, double alpha) {
  const LinkStats& l = d.link;
  return {
      Clamped(std::log10(std::max(d.estimate.slowdown, 1e-3)) / 2, 5),
      Clamped(std::log10(std::max(l.now, 1e-3)) / 3, 5),
      Clamped(std::log10(std::max(l.mean, 1e-3)) / 3, 5),
      Clamped(l.cv, 3),
      Clamped(l.trend, 3),
      d.guarded ? 1.f : 0.f,
      Clamped(std::log10(std::max<double>(d.examples, 1)) / 4, 5),
      Clamped(static_cast<double>(d.others_offloading) / std::max(1, d.fleet),
              1),
      Clamped(std::log(TailShare(context, d.others_offloading + 1)), 5),
      Clamped(alpha, 1),
      Clamped(l.measured / 8.0, 1),
  };
}

}  // namespace

LinkStats LinkStatsOf(const std::deque<double>& recent) {
  LinkStats s;
  s.measured = static_cast<int>(recent.size());
  s.now = recent.back();
  s.low = s.high = s.now;
  double sum = 0, squares = 0;
  for (size_t i = 0; i < recent.size(); ++i) {
    const double x = recent[i];
    sum += x;
    squares += x * x;
    s.low = std::min(s.low, x);
    // The best of the last few, as greedy plans under the guard.
    if (i + kGuardedLinkMemory >= recent.size()) s.high = std::max(s.high, x);
  }
  s.mean = sum / s.measured;
  const double var = std::max(0.0, squares / s.measured - s.mean * s.mean);
  s.cv = s.mean > 0 ? std::sqrt(var) / s.mean : 0;
  s.trend = std::log(std::max(s.now, 1e-9) / std::max(s.mean, 1e-9));
  return s;
}

PlacementChoices DescribeChoices(const PolicyContext& context,
                                 const DeviceSituation& d, double alpha,
                                 bool guarded) {
  const std::vector<SplitCost> now = CostsAt(context, d, d.link.now);
  // A steady link (and every device's first round) costs once.
  auto at = [&](double mbps) {
    return mbps == d.link.now ? now : CostsAt(context, d, mbps);
  };
  const std::vector<SplitCost> mean = at(d.link.mean);
  const std::vector<SplitCost> low = at(d.link.low);
  const std::vector<SplitCost> high = at(d.link.high);
  std::vector<size_t> legal;
  for (size_t i = 0; i < now.size(); ++i) {
    if (now[i].fits) legal.push_back(i);
  }
  if (legal.empty()) legal.push_back(ChoosePlacement(now, alpha));
  PlacementChoices out;
  out.context = ContextOf(context, d, alpha);
  const int stages = context.num_stages;
  const size_t local = now.size() - 1;
  out.local = now[local];
  for (size_t i : legal) {
    const SplitCost& c = now[i];
    const bool is_local = c.split >= stages;
    const bool current =
        c.split == d.current.split && (is_local || c.mode == d.current.mode);
    float f[kPlacementFeatures] = {
        LogRatio(c.time_s, now[local].time_s),
        LogRatio(mean[i].time_s, mean[local].time_s),
        LogRatio(low[i].time_s, low[local].time_s),
        LogRatio(high[i].time_s, high[local].time_s),
        LogRatio(c.energy_j, now[local].energy_j),
        is_local ? 1.f : 0.f,
        !is_local && c.mode == SplitMode::kLocalLoss ? 1.f : 0.f,
        current ? 1.f : 0.f,
        static_cast<float>(c.split) / stages,
        0,
    };
    const std::vector<SplitCost>& plan = guarded ? high : now;
    f[kCostModelScore] = static_cast<float>(
        alpha * LogRatio(plan[i].time_s, plan[local].time_s) +
        (1 - alpha) * LogRatio(plan[i].energy_j, plan[local].energy_j));
    out.features.insert(out.features.end(), f, f + kPlacementFeatures);
    out.features.insert(out.features.end(), out.context.begin(),
                        out.context.end());
    out.costs.push_back(c);
  }
  return out;
}

}  // namespace tandem::offload

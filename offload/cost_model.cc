#include "offload/cost_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tandem::offload {
std::vector<SplitCost> EvaluateSplits(const ml::ModelProfile& profile,
                                      const DeviceEstimate& device,
                                      const RoundShape& round) {
  const int stages = static_cast<int>(profile.stages.size());
  const int64_t per_epoch =
      (round.examples + round.batch_size - 1) / std::max(1, round.batch_size);
  int64_t batches = per_epoch * std::max(1, round.epochs);
  if (round.max_batches > 0) batches = std::min(batches, round.max_batches);
  const double samples = static_cast<double>(std::min<int64_t>(
      batches * round.batch_size, round.examples * std::max(1, round.epochs)));
  std::vector<SplitCost> costs;
  double head_t = 0, head_params = 0, head_acts = 0;
  double total_t = 0, total_params = 0;
  for (const ml::StageProfile& s : profile.stages) {
    total_t += s.train_seconds_per_example;
    total_params += static_cast<double>(s.param_bytes);
  }
  for (int split = 1; split <= stages; ++split) {
    const ml::StageProfile& last = profile.stages[split - 1];
    head_t += last.train_seconds_per_example;
    head_params += static_cast<double>(last.param_bytes);
    head_acts += static_cast<double>(last.out_elements);
    SplitCost c;
    c.split = split;
    c.device_compute_s = device.slowdown * samples * head_t;
    c.up_s = device.TransferSeconds(static_cast<int64_t>(head_params));
    c.down_s = device.TransferSeconds(static_cast<int64_t>(head_params));
    if (split < stages) {
      c.tail_s = round.tail_share * samples * (total_t - head_t);
      const double batch = static_cast<double>(round.batch_size);
      const double act = batch * static_cast<double>(last.out_elements) *
                         round.activation_bytes;
      c.up_s += static_cast<double>(batches) *
                device.TransferSeconds(static_cast<int64_t>(act + 8 * batch));
      c.down_s += static_cast<double>(batches) *
                  device.TransferSeconds(static_cast<int64_t>(act));
    }
    c.time_s = c.device_compute_s + c.tail_s + c.up_s + c.down_s;
    c.energy_j = device.EnergyJoules(c.device_compute_s, c.up_s, c.down_s);
    c.memory_bytes = static_cast<int64_t>(
        3 * head_params +
        round.batch_size * 4.0 *
            (static_cast<double>(profile.input_elements) + 2 * head_acts));
    c.fits = device.memory_budget_bytes <= 0 ||
             c.memory_bytes <= device.memory_budget_bytes;
    costs.push_back(c);
  }
  return costs;
}

int ChooseSplit(const std::vector<SplitCost>& costs, double alpha) {
  if (costs.empty()) return 1;
  const SplitCost& none = costs.back();
  const double t0 = std::max(1e-12, none.time_s);
  const double e0 = none.energy_j > 0 ? none.energy_j : 1.0;
  int best = 0;
  double best_score = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < costs.size(); ++i) {
    if (!costs[i].fits) continue;
    const double score =
        alpha * costs[i].time_s / t0 + (1 - alpha) * costs[i].energy_j / e0;
    if (score < best_score) best_score = score, best = costs[i].split;
  }
  if (best > 0) return best;
  const auto least = std::min_element(
      costs.begin(), costs.end(), [](const SplitCost& a, const SplitCost& b) {
        return a.memory_bytes < b.memory_bytes;
      });
  return least->split;
}

double BreakEvenMbps(const ml::ModelProfile& profile,
                     const DeviceEstimate& device, const RoundShape& round,
                     int split) {
  const int stages = static_cast<int>(profile.stages.size());
  if (split < 1 || split >= stages) return 0;
  // Round time is A + B / bandwidth for every split: read A and B off two
  // bandwidths, then solve A_s + B_s / b = A_L + B_L / b.
  constexpr double kLow = 1, kHigh = 1e4;
  auto line = [&](int s) {
    DeviceEstimate d = device;
    d.bandwidth_mbps = kLow;
    const double t_low = EvaluateSplits(profile, d, round)[s - 1].time_s;
    d.bandwidth_mbps = kHigh;
    const double t_high = EvaluateSplits(profile, d, round)[s - 1].time_s;
    const double b = (t_low - t_high) / (1 / kLow - 1 / kHigh);
    return std::make_pair(t_low - b / kLow, b);
  };
  const auto [a_split, b_split] = line(split);
  const auto [a_local, b_local] = line(stages);
  if (b_split <= b_local)
    return a_split <= a_local ? 0 : std::numeric_limits<double>::infinity();
  if (a_split >= a_local) return std::numeric_limits<double>::infinity();
  return (b_split - b_local) / (a_local - a_split);
}

}  // namespace tandem::offload

#include "offload/cost_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/pipeline_schedule.h"

namespace tandem::offload {

std::vector<int64_t> BatchSizes(const RoundShape& r) {
  std::vector<int64_t> sizes;
  const int64_t b = std::max(1, r.batch_size);
  for (int e = 0; e < std::max(1, r.epochs); ++e) {
    for (int64_t begin = 0; begin < r.examples; begin += b) {
      if (r.max_batches > 0 &&
          static_cast<int64_t>(sizes.size()) >= r.max_batches) {
        return sizes;
      }
      const int64_t n = std::min(b, r.examples - begin);
      if (n < 2 && r.examples > 1) break;
      sizes.push_back(n);
    }
  }
  return sizes;
}

namespace {

// Sums over stages [0, split) and [split, L) of a profile.
struct SplitPoint {
  int split = 0;
  double head_t = 0, tail_t = 0, aux_t = 0;
  double head_params = 0, head_acts = 0;
  double aux_bytes = 0;      // auxiliary classifier at the split point
  int64_t out_elements = 0;  // per example at the split point
};

SplitPoint SplitPointOf(const ml::ModelProfile& profile, int split) {
  SplitPoint c;
  c.split = split;
  for (int i = 0; i < static_cast<int>(profile.stages.size()); ++i) {
    const ml::StageProfile& s = profile.stages[i];
    if (i < split) {
      c.head_t += s.TrainSeconds(profile.batch_size);
      c.head_params += static_cast<double>(s.param_bytes);
      c.head_acts += static_cast<double>(s.out_elements);
    } else {
      c.tail_t += s.TrainSeconds(profile.batch_size);
    }
  }
  c.out_elements = profile.stages[split - 1].out_elements;
  c.aux_t = profile.stages[split - 1].AuxSeconds(profile.batch_size);
  c.aux_bytes = static_cast<double>(profile.stages[split - 1].aux_param_bytes);
  return c;
}

// SplitFed-v1 (and no offload, split = L): the device waits for every
// gradient, so the parts add up.
SplitCost ExactCost(const SplitPoint& point, int stages,
                    const DeviceEstimate& device, const RoundShape& round,
                    const std::vector<int64_t>& batches) {
  double samples = 0;
  for (int64_t n : batches) samples += static_cast<double>(n);
  SplitCost c;
  c.split = point.split;
  c.device_compute_s = device.slowdown * samples * point.head_t;
  c.up_s = device.TransferSeconds(static_cast<int64_t>(point.head_params));
  c.down_s = device.TransferSeconds(static_cast<int64_t>(point.head_params));
  if (point.split < stages) {
    c.tail_s = round.tail_share * samples * point.tail_t;
    const double batch = static_cast<double>(round.batch_size);
    const double act = batch * static_cast<double>(point.out_elements) *
                       round.activation_bytes;
    const double n = static_cast<double>(batches.size());
    c.up_s += n * device.TransferSeconds(static_cast<int64_t>(act + 8 * batch));
    c.down_s += n * device.TransferSeconds(static_cast<int64_t>(act));
    c.bytes += n * (2 * act + 8 * batch);
  }
  c.bytes += 2 * point.head_params;
  c.time_s = c.device_compute_s + c.tail_s + c.up_s + c.down_s;
  return c;
}

// SplitFed-v1 on traced links: the same parts laid out in time, each
// transfer where it falls on its trace.
SplitCost TracedExactCost(const SplitPoint& point, int stages,
                          const DeviceEstimate& device, const RoundShape& round,
                          const std::vector<int64_t>& batches) {
  double samples = 0;
  for (int64_t n : batches) samples += static_cast<double>(n);
  const double latency = device.latency_ms * 1e-3;
  SplitCost c;
  c.split = point.split;
  double t = device.start_s;
  auto down = [&](double bytes) {
    const double s = device.DownSeconds(t, bytes) + latency;
    c.down_s += s;
    c.bytes += bytes;
    t += s;
  };
  auto up = [&](double bytes) {
    const double s = device.UpSeconds(t, bytes) + latency;
    c.up_s += s;
    c.bytes += bytes;
    t += s;
  };
  c.device_compute_s = device.slowdown * samples * point.head_t;
  down(point.head_params);
  if (point.split < stages) {
    const double batch = static_cast<double>(round.batch_size);
    const double act = batch * static_cast<double>(point.out_elements) *
                       round.activation_bytes;
    const double per_batch =
        c.device_compute_s / static_cast<double>(batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
      t += per_batch;
      up(act + 8 * batch);
      down(act);
    }
    c.tail_s = round.tail_share * samples * point.tail_t;
  } else {
    t += c.device_compute_s;
  }
  up(point.head_params);
  c.time_s = t - device.start_s + c.tail_s;
  return c;
}

// Local loss: the pipelined schedule of core/pipeline_schedule.h.
SplitCost LocalLossCost(const SplitPoint& point, const DeviceEstimate& device,
                        const RoundShape& round,
                        const std::vector<int64_t>& batches) {
  SplitCost c;
  c.split = point.split;
  c.mode = SplitMode::kLocalLoss;
  const double latency = device.latency_ms * 1e-3;
  const double weights = point.head_params + point.aux_bytes;
  const double down = device.DownSeconds(device.start_s, weights) + latency;
  const double stream_start = device.start_s + down;
  PipelineSchedule p(round.window, latency);
  for (int64_t n : batches) {
    const double m = static_cast<double>(n);
    const double bytes =
        m * static_cast<double>(point.out_elements) * round.activation_bytes +
        8 * m;
    const double arrival = p.AddBatch(
        device.slowdown * m * (point.head_t + point.aux_t),
        [&](double at) { return device.UpSeconds(stream_start + at, bytes); });
    const double tail = round.tail_share * m * point.tail_t;
    p.AddTail(arrival, tail);
    c.tail_s += tail;
    c.bytes += bytes;
  }
  c.bytes += 2 * weights;
  const double up =
      device.UpSeconds(stream_start + p.tail_end(), weights) + latency;
  c.device_compute_s = p.compute_s();
  c.up_s = p.upload_s() + up;
  c.down_s = down;
  c.time_s = down + p.tail_end() + up;
  return c;
}

}  // namespace

std::vector<SplitCost> EvaluateSplits(const ml::ModelProfile& profile,
                                      const DeviceEstimate& device,
                                      const RoundShape& round) {
  const int stages = static_cast<int>(profile.stages.size());
  const std::vector<int64_t> batches = BatchSizes(round);
  std::vector<SplitCost> costs;
  for (int split = 1; split <= stages; ++split) {
    const SplitPoint point = SplitPointOf(profile, split);
    SplitCost c = round.mode == SplitMode::kLocalLoss && split < stages
                      ? LocalLossCost(point, device, round, batches)
                  : device.traced()
                      ? TracedExactCost(point, stages, device, round, batches)
                      : ExactCost(point, stages, device, round, batches);
    c.energy_j = device.EnergyJoules(c.device_compute_s, c.up_s, c.down_s);
    const double queued = c.mode == SplitMode::kLocalLoss
                              ? round.window * round.batch_size * 4.0 *
                                    static_cast<double>(point.out_elements)
                              : 0;
    c.memory_bytes =
        static_cast<int64_t>(3 * point.head_params + queued +
                             round.batch_size * 4.0 *
                                 (static_cast<double>(profile.input_elements) +
                                  2 * point.head_acts));
    c.fits = device.memory_budget_bytes <= 0 ||
             c.memory_bytes <= device.memory_budget_bytes;
    costs.push_back(c);
  }
  return costs;
}

std::vector<SplitCost> EvaluatePlacements(const ml::ModelProfile& profile,
                                          const DeviceEstimate& device,
                                          RoundShape round,
                                          const std::vector<SplitMode>& modes) {
  std::vector<SplitCost> all;
  for (SplitMode m : modes) {
    round.mode = m;
    std::vector<SplitCost> costs = EvaluateSplits(profile, device, round);
    all.insert(all.end(), costs.begin(), costs.end() - 1);
    if (m == modes.back()) all.push_back(costs.back());
  }
  return all;
}

size_t ChoosePlacement(const std::vector<SplitCost>& costs, double alpha) {
  if (costs.empty()) return 0;
  const SplitCost& none = costs.back();
  const double t0 = std::max(1e-12, none.time_s);
  const double e0 = none.energy_j > 0 ? none.energy_j : 1.0;
  size_t best = costs.size();
  double best_score = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < costs.size(); ++i) {
    if (!costs[i].fits) continue;
    const double score =
        alpha * costs[i].time_s / t0 + (1 - alpha) * costs[i].energy_j / e0;
    if (score < best_score) best_score = score, best = i;
  }
  if (best < costs.size()) return best;
  const auto least = std::min_element(
      costs.begin(), costs.end(), [](const SplitCost& a, const SplitCost& b) {
        return a.memory_bytes < b.memory_bytes;
      });
  return static_cast<size_t>(least - costs.begin());
}

int ChooseSplit(const std::vector<SplitCost>& costs, double alpha) {
  if (costs.empty()) return 1;
  return costs[ChoosePlacement(costs, alpha)].split;
}

double BreakEvenMbps(const ml::ModelProfile& profile,
                     const DeviceEstimate& device, const RoundShape& round,
                     int split) {
  const int stages = static_cast<int>(profile.stages.size());
  if (split < 1 || split >= stages) return 0;
  // Offload minus local round time at `mbps`; it falls as the link speeds
  // up (the offloaded round moves more bytes).
  auto gap = [&](double mbps) {
    DeviceEstimate d = device;
    d.bandwidth_mbps = mbps;
    d.uplink = d.downlink = TracedLink();
    const std::vector<SplitCost> c = EvaluateSplits(profile, d, round);
    return c[split - 1].time_s - c.back().time_s;
  };
  constexpr double kLow = 1e-3, kHigh = 1e6;
  if (gap(kHigh) >= 0) return std::numeric_limits<double>::infinity();
  if (gap(kLow) <= 0) return 0;
  double lo = kLow, hi = kHigh;    // gap(lo) > 0 >= gap(hi)
  for (int i = 0; i < 200; ++i) {  // to the last bit
    const double mid = std::sqrt(lo * hi);
    if (mid <= lo || mid >= hi) break;
    (gap(mid) > 0 ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace tandem::offload

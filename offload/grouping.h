// Device grouping: k-means over devices' measured (log) compute time and
// (log) link throughput, so policies can decide per group rather than per
// device. Deterministic: k-means++ seeding from a fixed seed, best of a few
// restarts. Regroup() only re-runs when a device's measurements drifted.
#ifndef TANDEM_OFFLOAD_GROUPING_H_
#define TANDEM_OFFLOAD_GROUPING_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tandem::offload {

struct DevicePoint {
  std::string id;
  double compute_s = 0;        // measured compute time of a round
  double throughput_mbps = 0;  // measured link throughput
};

// Group index per device id; groups are numbered by ascending mean compute.
using Grouping = std::map<std::string, int>;

// k-means with k = min(k, number of devices). Features are log-scaled and
// standardised so seconds and Mbit/s weigh alike.
Grouping GroupDevices(const std::vector<DevicePoint>& devices, int k,
                      uint64_t seed);

// Keeps a grouping and re-runs k-means when any device's features moved by
// more than `drift` (relative) since the last grouping, or a device is new.
class DeviceGrouper {
 public:
  DeviceGrouper(int k, double drift, uint64_t seed)
      : k_(k), drift_(drift), seed_(seed) {}
  // Returns true when it regrouped.
  bool Update(const std::vector<DevicePoint>& devices);
  const Grouping& groups() const { return groups_; }
  // What it regroups from: the points of the last grouping.
  const std::map<std::string, DevicePoint>& last_points() const {
    return at_last_grouping_;
  }
  // A grouping and its points, as groups() and last_points() gave them.
  void Restore(Grouping groups, std::map<std::string, DevicePoint> points) {
    groups_ = std::move(groups);
    at_last_grouping_ = std::move(points);
  }

 private:
  const int k_;
  const double drift_;
  const uint64_t seed_;
  Grouping groups_;
  std::map<std::string, DevicePoint> at_last_grouping_;
};

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_GROUPING_H_

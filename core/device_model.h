// A device's virtual time and energy: how measured compute and bytes moved
// turn into the seconds and joules a simulated device would have spent.
//
// compute_s  = measured CPU seconds x slowdown
// transfer_s = bytes x 8 / (bandwidth_mbps x 1e6) + latency
// energy_j   = compute_s x P_compute + up_s x P_transmit + down_s x P_receive
#ifndef TANDEM_CORE_DEVICE_MODEL_H_
#define TANDEM_CORE_DEVICE_MODEL_H_

#include <cstdint>
#include <string>

#include "core/config.h"

namespace tandem {

struct DeviceModel {
  double slowdown = 1.0;
  double bandwidth_mbps = 100;
  double latency_ms = 5;
  double power_compute_w = 0;
  double power_transmit_w = 0;
  double power_receive_w = 0;

  double ComputeSeconds(double cpu_seconds) const {
    return cpu_seconds * slowdown;
  }
  // One transfer of `bytes` (one latency).
  double TransferSeconds(int64_t bytes) const {
    return static_cast<double>(bytes) * 8.0 / (bandwidth_mbps * 1e6) +
           latency_ms * 1e-3;
  }
  double EnergyJoules(double compute_s, double up_s, double down_s) const {
    return compute_s * power_compute_w + up_s * power_transmit_w +
           down_s * power_receive_w;
  }
};

// The model of a device of class `c` (its configured speed, link, power).
DeviceModel DeviceModelOf(const DeviceClassConfig& c);

// `base_mbps`, or the bandwidth a fleet.bandwidth_events entry gives device
// `device` in `round` (the last matching entry wins).
double BandwidthAt(const FleetConfig& fleet, const std::string& device,
                   int64_t round, double base_mbps);

}  // namespace tandem

#endif  // TANDEM_CORE_DEVICE_MODEL_H_

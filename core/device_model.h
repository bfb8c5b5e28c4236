// The one description of a device's hardware: compute speed against one
// coordinator core, link, and power draw. A config's device class holds one
// (fleet.classes[]), a device sends one when it joins (v1::HardwareProfile,
// converted only here), the policies see one (offload::DeviceView) and the
// cost model estimates from one (offload::DeviceEstimate).
#ifndef TANDEM_CORE_DEVICE_MODEL_H_
#define TANDEM_CORE_DEVICE_MODEL_H_

#include <cstdint>

#include "proto/tandem.pb.h"

namespace tandem {

struct DeviceModel {
  double slowdown = 1.0;        // compute time x this (1 = coordinator core)
  double bandwidth_mbps = 100;  // link, both directions
  double latency_ms = 5;        // per transfer
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

// The wire form (fields the device did not send read as 0).
void ToHardwareProfile(const DeviceModel& model, v1::HardwareProfile* profile);
DeviceModel FromHardwareProfile(const v1::HardwareProfile& profile);

}  // namespace tandem

#endif  // TANDEM_CORE_DEVICE_MODEL_H_

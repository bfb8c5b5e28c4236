// The one description of a device's hardware: compute speed against one
// coordinator core, link, and power draw. A config's device class holds one
// (fleet.classes[]), a device sends one when it joins (v1::HardwareProfile,
// converted only here), the policies see one (offload::DeviceView) and the
// cost model estimates from one (offload::DeviceEstimate).
#ifndef TANDEM_CORE_DEVICE_MODEL_H_
#define TANDEM_CORE_DEVICE_MODEL_H_

#include <cstdint>

#include "core/link_trace.h"
#include "proto/tandem.pb.h"

namespace tandem {

struct DeviceModel {
  double slowdown = 1.0;        // compute time x this (1 = coordinator core)
  double bandwidth_mbps = 100;  // link, both directions
  double latency_ms = 5;        // per transfer
  double power_compute_w = 0;
  double power_transmit_w = 0;
  double power_receive_w = 0;
  // Simulation only: a direction whose throughput follows a Mahimahi trace
  // on the run's virtual clock instead of bandwidth_mbps (not on the wire).
  TracedLink uplink, downlink;

  double ComputeSeconds(double cpu_seconds) const {
    return cpu_seconds * slowdown;
  }
  // One transfer of `bytes` (one latency).
  double TransferSeconds(int64_t bytes) const {
    return static_cast<double>(bytes) * 8.0 / (bandwidth_mbps * 1e6) +
           latency_ms * 1e-3;
  }
  // Seconds `bytes` take up (or down) from virtual time `start_s`, without
  // latency: over the trace, or at bandwidth_mbps.
  double UpSeconds(double start_s, double bytes) const {
    return uplink ? uplink.Seconds(start_s, bytes)
                  : bytes * 8.0 / (bandwidth_mbps * 1e6);
  }
  double DownSeconds(double start_s, double bytes) const {
    return downlink ? downlink.Seconds(start_s, bytes)
                    : bytes * 8.0 / (bandwidth_mbps * 1e6);
  }
  bool traced() const { return uplink || downlink; }
  // What the device advertises (on the wire, to the policies): one
  // bandwidth, a traced direction at its trace's mean (the harmonic mean of
  // the two directions when either is traced), and no traces.
  DeviceModel Advertised() const {
    DeviceModel m = *this;
    if (traced()) {
      const double up = uplink ? uplink.trace->MeanMbps() : bandwidth_mbps;
      const double down =
          downlink ? downlink.trace->MeanMbps() : bandwidth_mbps;
      m.bandwidth_mbps = 2 / (1 / up + 1 / down);
    }
    m.uplink = m.downlink = TracedLink();
    return m;
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

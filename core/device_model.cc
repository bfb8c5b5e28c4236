#include "core/device_model.h"

namespace tandem {

DeviceModel DeviceModelOf(const DeviceClassConfig& c) {
  DeviceModel m;
  m.slowdown = c.slowdown;
  m.bandwidth_mbps = c.bandwidth_mbps;
  m.latency_ms = c.latency_ms;
  m.power_compute_w = c.power_compute_w;
  m.power_transmit_w = c.power_transmit_w;
  m.power_receive_w = c.power_receive_w;
  return m;
}

double BandwidthAt(const FleetConfig& fleet, const std::string& device,
                   int64_t round, double base_mbps) {
  double mbps = base_mbps;
  for (const BandwidthEvent& e : fleet.bandwidth_events) {
    if (e.device == device && round >= e.from_round && round <= e.to_round) {
      mbps = e.mbps;
    }
  }
  return mbps;
}

}  // namespace tandem

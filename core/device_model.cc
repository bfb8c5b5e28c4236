#include "core/device_model.h"

namespace tandem {

void ToHardwareProfile(const DeviceModel& device, v1::HardwareProfile* p) {
  const DeviceModel m = device.Advertised();
  p->set_compute_slowdown(m.slowdown);
  p->set_bandwidth_mbps(m.bandwidth_mbps);
  p->set_latency_ms(m.latency_ms);
  p->set_power_compute_w(m.power_compute_w);
  p->set_power_transmit_w(m.power_transmit_w);
  p->set_power_receive_w(m.power_receive_w);
}

DeviceModel FromHardwareProfile(const v1::HardwareProfile& p) {
  DeviceModel m;
  m.slowdown = p.compute_slowdown();
  m.bandwidth_mbps = p.bandwidth_mbps();
  m.latency_ms = p.latency_ms();
  m.power_compute_w = p.power_compute_w();
  m.power_transmit_w = p.power_transmit_w();
  m.power_receive_w = p.power_receive_w();
  return m;
}

}  // namespace tandem

// Each simulated device's traced links: its class's uplink_trace and
// downlink_trace (every device from its own point in the trace, drawn from
// its seed, so that a class does not fade in step), or the files
// fleet.link_traces names for it (from their start). Each file is read
// once and shared.
#ifndef TANDEM_SIM_DEVICE_LINKS_H_
#define TANDEM_SIM_DEVICE_LINKS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/link_trace.h"

namespace tandem::sim {

struct DeviceLinks {
  TracedLink uplink, downlink;
};

// In fleet order (data::FleetDeviceIds). Errors name the config key and
// the file; a link_traces entry must name a device of the fleet.
absl::StatusOr<std::vector<DeviceLinks>> LoadDeviceLinks(const Config& c);

// `model` with `links`.
DeviceModel WithLinks(DeviceModel model, const DeviceLinks& links);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_DEVICE_LINKS_H_

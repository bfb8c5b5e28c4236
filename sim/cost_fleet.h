// The config's fleet as the offload cost model sees it: one entry per device
// with its class's advertised speed, link and power, its number of training
// examples, and the stage timing it would report before its first task.
// Shared by the PPO trainer and the offload bound, which both play rounds
// on the cost model.
#ifndef TANDEM_SIM_COST_FLEET_H_
#define TANDEM_SIM_COST_FLEET_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "ml/model.h"
#include "ml/profile.h"
#include "offload/cost_model.h"
#include "offload/split_policy.h"

namespace tandem::sim {

// What the configured data set gives the cost model: its input shape and
// every device's training examples, in fleet order, as the run's
// partitioner deals them (data.train_limit applied).
struct FleetData {
  ml::InputShape input;
  std::vector<int64_t> examples;
};
absl::StatusOr<FleetData> LoadFleetData(const Config& config);

struct CostDevice {
  offload::DeviceView view;
  offload::DeviceEstimate estimate;
};

// `profile`: one core's stage seconds, scaled by each class's slowdown into
// the devices' stage timings. Traced links (sim/device_links.h) are in the
// estimates; the views see what the devices advertise. Errors: a trace
// that does not load.
absl::StatusOr<std::vector<CostDevice>> CostFleet(
    const Config& config, const FleetData& data,
    const ml::ModelProfile& profile);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_COST_FLEET_H_

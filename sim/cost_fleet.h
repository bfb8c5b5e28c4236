// The config's fleet as the offload cost model sees it: one entry per device
// with its class's advertised speed, link and power. Shared by the PPO
// trainer and the offload bound, which both play rounds on the cost model.
#ifndef TANDEM_SIM_COST_FLEET_H_
#define TANDEM_SIM_COST_FLEET_H_

#include <cstdint>
#include <vector>

#include "core/config.h"
#include "ml/model.h"
#include "offload/cost_model.h"
#include "offload/split_policy.h"

namespace tandem::sim {

struct CostDevice {
  offload::DeviceView view;
  offload::DeviceEstimate estimate;
};

std::vector<CostDevice> CostFleet(const Config& config);

// The input shape of config.data's dataset (28x28 greyscale or CIFAR-10).
ml::InputShape InputFor(const DataConfig& data);

// Training examples per device: an equal share of the training set.
int64_t ExamplesPerDevice(const Config& config);

// The cost model's round shape for `offloading` devices sharing the
// coordinator's server_cores.
offload::RoundShape RoundShapeFor(const Config& config,
                                  const offload::PolicyContext& context,
                                  int64_t examples, int offloading);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_COST_FLEET_H_

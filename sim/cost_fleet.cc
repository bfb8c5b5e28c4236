#include "sim/cost_fleet.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "core/device_model.h"

namespace tandem::sim {

std::vector<CostDevice> CostFleet(const Config& config) {
  std::vector<CostDevice> out;
  for (const DeviceClassConfig& cls : config.fleet.classes) {
    for (int k = 0; k < cls.count; ++k) {
      CostDevice d;
      d.view.id = absl::StrFormat("%s-%02d", cls.name, k);
      d.view.device_class = cls.name;
      static_cast<DeviceModel&>(d.estimate) = DeviceModelOf(cls);
      out.push_back(d);
    }
  }
  return out;
}

ml::InputShape InputFor(const DataConfig& data) {
  if (data.dataset == "cifar10") return {3, 32, 32, 10};
  return {1, 28, 28, 10};
}

int64_t ExamplesPerDevice(const Config& config) {
  const int64_t train =
      config.data.train_limit > 0 ? config.data.train_limit : 60000;
  return train / std::max(1, config.TotalDevices());
}

offload::RoundShape RoundShapeFor(const Config& config,
                                  const offload::PolicyContext& context,
                                  int64_t examples, int offloading) {
  return offload::RoundShapeOf(context, examples,
                               offloading / config.offload.server_cores);
}

}  // namespace tandem::sim

#include "sim/cost_fleet.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "core/device_model.h"
#include "core/status_macros.h"
#include "ml/data/partition.h"
#include "ml/data/run_data.h"
#include "sim/device_links.h"

namespace tandem::sim {

absl::StatusOr<FleetData> LoadFleetData(const Config& config) {
  TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt,
                          data::LoadDataset(data::SourceForConfig(config)));
  data::Dataset train = config.data.train_limit > 0
                            ? tt.train.Head(config.data.train_limit)
                            : std::move(tt.train);
  // Only the partitions' sizes: their indices, not copies of their examples.
  TANDEM_ASSIGN_OR_RETURN(
      auto parts,
      data::Partition(train.labels, train.num_classes,
                      data::PartitionOptionsFor(data::SpecForConfig(config))));
  FleetData out;
  out.input = ml::InputShapeOf(train);
  for (int i = 0; i < config.TotalDevices(); ++i) {
    out.examples.push_back(i < static_cast<int>(parts.size())
                               ? static_cast<int64_t>(parts[i].size())
                               : 0);
  }
  return out;
}

absl::StatusOr<std::vector<CostDevice>> CostFleet(
    const Config& config, const FleetData& data,
    const ml::ModelProfile& profile) {
  TANDEM_ASSIGN_OR_RETURN(const std::vector<DeviceLinks> links,
                          LoadDeviceLinks(config));
  std::vector<CostDevice> out;
  for (const DeviceClassConfig& cls : config.fleet.classes) {
    for (int k = 0; k < cls.count; ++k) {
      CostDevice d;
      const size_t i = out.size();
      static_cast<DeviceModel&>(d.estimate) =
          i < links.size() ? WithLinks(cls.device, links[i]) : cls.device;
      offload::DeviceView& v = d.view;
      v.id = absl::StrFormat("%s-%02d", cls.name, k);
      v.device_class = cls.name;
      v.device = d.estimate.Advertised();
      for (const ml::StageProfile& st : profile.stages) {
        // What the device's own stage timing reports (ml::ProfileModel).
        v.stage_seconds.push_back(st.TrainSeconds(ml::kStageTimingBatch) *
                                  cls.device.slowdown);
      }
      v.examples = i < data.examples.size() ? data.examples[i] : 0;
      out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace tandem::sim

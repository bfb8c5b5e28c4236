#include "server/fleet_serving.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"
#include "ml/run_profile.h"
#include "ml/runtime.h"
#include "offload/split_policy.h"

namespace tandem::server {

absl::Status ServeSimulatedFleet(const Config& config,
                                 CoordinatorOptions* options) {
  if (config.TotalDevices() == 0) {
    return absl::InvalidArgumentError(
        "--fleet: the config's fleet ($.fleet.classes) has no devices");
  }
  TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt,
                          data::LoadDataset(data::SourceForConfig(config)));
  auto test = std::make_shared<const data::Dataset>(
      config.data.test_limit > 0 ? tt.test.Head(config.data.test_limit)
                                 : std::move(tt.test));
  options->train_set = std::make_shared<const data::Dataset>(
      config.data.train_limit > 0 ? tt.train.Head(config.data.train_limit)
                                  : std::move(tt.train));
  std::shared_ptr<const ml::ModelProfile> profile;
  if (config.fleet.compute_time == ComputeTime::kProfiled) {
    TANDEM_ASSIGN_OR_RETURN(
        ml::ModelProfile measured,
        ml::ProfileOnOneCore(config, ml::InputShapeOf(*test)));
    profile = std::make_shared<const ml::ModelProfile>(std::move(measured));
  }
  options->test_set = std::move(test);
  SetUpForSimulatedFleet(config, std::move(profile), options);
  ml::SetBlasThreads(1);
  return absl::OkStatus();
}

void SetUpForSimulatedFleet(const Config& config,
                            std::shared_ptr<const ml::ModelProfile> profile,
                            CoordinatorOptions* options) {
  options->compute_profile = std::move(profile);
  options->await_devices = config.TotalDevices();
  options->tail_threads = 1;
  options->virtual_time = true;
}

}  // namespace tandem::server

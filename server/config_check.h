// Config validation that asks the registries owning each name: the model
// zoo (model.name), the data loaders (data.dataset), the partitioners
// (data.partition), the strategies (strategy.name), the offload policies
// (offload.policy) and the simulated attacks (fleet.classes[].attack).
// core/ parses a config's structure and types; names it cannot know are
// checked here, once, before a program runs.
#ifndef TANDEM_SERVER_CONFIG_CHECK_H_
#define TANDEM_SERVER_CONFIG_CHECK_H_

#include "absl/status/status.h"
#include "core/config.h"

namespace tandem::server {

// InvalidArgument "config: $.<path>: ..." naming the first unknown name and
// the known ones.
absl::Status CheckRegisteredNames(const Config& config);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_CONFIG_CHECK_H_

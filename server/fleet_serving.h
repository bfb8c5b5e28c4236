// tandem-server --fleet: the coordinator of a simulated fleet whose devices
// run elsewhere (tandem-sim --shard I/N --server HOST:PORT), set up as
// tandem-sim sets up its in-process coordinator, so that a sharded run gives
// the metrics of the single-process one: it waits for the config's whole
// fleet before round 1, trains tails on one thread each, charges them from
// the fleet's profile under fleet.compute_time "profiled", and runs BLAS on
// one thread.
#ifndef TANDEM_SERVER_FLEET_SERVING_H_
#define TANDEM_SERVER_FLEET_SERVING_H_

#include <memory>

#include "absl/status/status.h"
#include "core/config.h"
#include "server/coordinator.h"

namespace tandem::server {

// Fills `options` for serving `config`'s fleet. Errors: the config has no
// fleet, the data or the pinned profile cannot be read.
absl::Status ServeSimulatedFleet(const Config& config,
                                 CoordinatorOptions* options);

// What every simulated fleet's coordinator is set up with, wherever its
// devices run: it waits for the whole fleet, trains each tail on one
// thread (results depend on the count), charges tails from `profile` (null
// unless fleet.compute_time is "profiled") and takes the devices' round
// times as virtual.
void SetUpForSimulatedFleet(const Config& config,
                            std::shared_ptr<const ml::ModelProfile> profile,
                            CoordinatorOptions* options);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_FLEET_SERVING_H_

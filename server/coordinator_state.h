// What the Coordinator's round loop and its device-facing calls
// (DeviceGateway) share: the run's settings, fixed before any device can
// call, and the parts of the round state machine, all under one mutex.
//
// The round loop alone opens, closes and aggregates rounds and replaces
// `global`; the gateway admits what devices send into the open round.
#ifndef TANDEM_SERVER_COORDINATOR_STATE_H_
#define TANDEM_SERVER_COORDINATOR_STATE_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/weights.h"
#include "server/aux_store.h"
#include "server/device_tokens.h"
#include "server/fleet_registry.h"
#include "server/metrics.h"
#include "server/offload_planner.h"
#include "server/poll_waiters.h"
#include "server/rate_limiter.h"
#include "server/round_state.h"
#include "server/sample_cap.h"
#include "server/tail_registry.h"
#include "server/update_admission.h"
#include "strategies/strategy.h"

namespace tandem::server {

struct CoordinatorState {
  CoordinatorState(const Config& config, const Clock& clock)
      : config(config), clock(clock) {}
  double Now() const { return clock.NowSeconds(); }

  // ---- fixed before the first device call
  const Config& config;
  const Clock& clock;
  int stages = 1;  // of the model
  // SHA-256 of config.model.torchscript, which every joining device must
  // match; "" for a zoo model.
  std::string model_sha256;
  // The test set's classes and normalisation (its training set's): what a
  // device with its own tensor file is told to use (DataSpec).
  int num_classes = 10;
  std::vector<float> data_mean, data_std;
  // Devices report simulated (virtual) round times (the simulator).
  bool virtual_time = false;
  // Not heard from this long: unavailable, and dropped from a round
  // (server.device_timeout_s; infinite for in-process devices).
  double device_timeout_s = 30;
  TailSettings tail_settings;
  SampleCap sample_cap;
  // server.tokens_file, loaded (and replaced when it changes:
  // DeviceGateway::ReplaceTokens); null when devices need no token.
  std::shared_ptr<const DeviceTokens> tokens ABSL_GUARDED_BY(mu);
  // Prometheus metrics (server.metrics_listen); thread-safe itself.
  std::unique_ptr<CoordinatorMetrics> metrics;

  mutable absl::Mutex mu;
  FleetRegistry registry ABSL_GUARDED_BY(mu);
  RateLimiter joins ABSL_GUARDED_BY(mu){config.server.max_joins_per_s,
                                        config.server.max_joins_per_s};
  UpdateAdmission admission ABSL_GUARDED_BY(mu);
  std::unique_ptr<OffloadPlanner> planner ABSL_GUARDED_BY(mu);
  TailRegistry tails ABSL_GUARDED_BY(mu);
  std::unique_ptr<Strategy> strategy ABSL_GUARDED_BY(mu);
  std::unique_ptr<AuxStore> aux ABSL_GUARDED_BY(mu);
  std::unique_ptr<RoundState> round ABSL_GUARDED_BY(mu);
  // Buffered aggregation (strategy.buffer_size > 0): the devices training
  // across versions; every round's RoundState points at it. Null otherwise.
  std::unique_ptr<Flights> flights ABSL_GUARDED_BY(mu);
  std::shared_ptr<const Weights> global ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;  // Stop() was called
  bool finished ABSL_GUARDED_BY(mu) = false;  // Run() returned
  // The PullTask long-polls waiting: woken when their device gets a task,
  // all when the run is over. Idle devices' polls are not woken by every
  // unlock of `mu`, as they would be waiting on a condition, nor by every
  // round.
  PollWaiters pollers ABSL_GUARDED_BY(mu);

  bool Over() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return stopping || finished;
  }
  // Sets the metrics' joined and active device counts.
  void UpdateFleetGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    metrics->SetDevices(registry.NumJoined(),
                        registry.NumAvailable(Now(), device_timeout_s));
  }
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_COORDINATOR_STATE_H_

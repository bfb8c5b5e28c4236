// What a device agent is told: who it is, where its data and time come
// from, and the deadlines and backoff of its calls.
#ifndef TANDEM_CLIENT_DEVICE_AGENT_OPTIONS_H_
#define TANDEM_CLIENT_DEVICE_AGENT_OPTIONS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/compute_gate.h"
#include "client/device_environment.h"
#include "client/model_pool.h"
#include "core/clock.h"
#include "ml/data/dataset.h"
#include "proto/tandem.pb.h"

namespace tandem::client {

using DataProvider =
    std::function<absl::StatusOr<std::shared_ptr<const data::Dataset>>(
        const v1::DataSpec&)>;

struct DeviceAgentOptions {
  std::string device_id;
  std::string token;  // must match the coordinator's
  std::string device_class = "device";
  uint64_t seed = 1;
  int compute_threads = 0;      // LibTorch threads for training; 0 = all cores
  ComputeGate* gate = nullptr;  // optional bound on concurrent training
  // Where the device takes its model for a round, and gives it back after
  // (the simulator's devices share one); null: built each round, freed
  // after it. Not owned.
  ModelPool* model_pool = nullptr;
  DataProvider data_provider;  // required
  // The TorchScript model file this device was installed with, and its
  // SHA-256 (core/file_sha256.h), sent at Join; used when the coordinator's
  // model is a TorchScript file. "" = none: zoo models only.
  std::string model_file;
  std::string model_sha256;
  // What the device's hardware and time are; null: a MeasuredEnvironment
  // (deployed device, wall time). The simulator passes a virtual one.
  std::unique_ptr<DeviceEnvironment> environment;
  // The agent's own timing (backoff, give-up, heartbeats, measured
  // durations); not owned, must outlive the agent.
  const Clock* clock = &RealClock();

  absl::Duration rpc_timeout = absl::Seconds(20);        // unary calls
  absl::Duration poll_timeout = absl::Seconds(15);       // one PullTask
  absl::Duration transfer_timeout = absl::Seconds(600);  // weights up/down
  // Reconnection delays: the first, doubling up to the last, each with
  // +-50% jitter but never above max_backoff.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // For this long after the coordinator was last reached, when it is most
  // likely restarting, delays are at most restart_backoff: a device is back
  // soon after the coordinator listens again.
  absl::Duration restart_window = absl::Seconds(30);
  absl::Duration restart_backoff = absl::Seconds(1);
  // Give up (Run returns UNAVAILABLE) after this long without reaching the
  // coordinator.
  absl::Duration give_up_after = absl::Seconds(60);
  // The channel is gRPC's in-process one (the simulator): it has no
  // connection to wait for, and no connectivity state to ask about.
  bool in_process_channel = false;
  // Heartbeats also while idle. Without them an idle device shows it is
  // alive by its PullTask long-polls alone (each marks it heard from, and
  // server.poll_timeout_s is below server.device_timeout_s): the simulator's
  // idle devices then cost nothing between polls.
  bool idle_heartbeats = true;
  // Dispatched (the simulator's in-process fleet): the agent has no thread,
  // heartbeats nor long-poll of its own; it is served (DeviceAgent::Serve)
  // when it has something to do, and then pulls with no_wait.
  bool dispatched = false;
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_DEVICE_AGENT_OPTIONS_H_

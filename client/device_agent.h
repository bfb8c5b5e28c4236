// The device agent: joins the coordinator, long-polls for tasks, trains
// locally, pushes its update with its measurements; sends heartbeats;
// reconnects with exponential backoff and jitter.
//
//   DeviceAgent agent(options, grpc::CreateChannel(addr, creds));
//   absl::Status s = agent.Run();   // until STOP, RequestStop() or give-up
//
// The calls to the coordinator are its CoordinatorLink's, the training its
// RoundTrainer's; the agent runs rounds with them.
//
// Run() is called once, from one thread; RequestStop() from any thread.
#ifndef TANDEM_CLIENT_DEVICE_AGENT_H_
#define TANDEM_CLIENT_DEVICE_AGENT_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/backoff.h"
#include "client/coordinator_link.h"
#include "client/device_agent_options.h"
#include "client/device_environment.h"
#include "client/link_judge.h"
#include "client/round_trainer.h"
#include "client/stop_signal.h"
#include "core/clock.h"
#include "grpcpp/grpcpp.h"
#include "proto/tandem.pb.h"

namespace tandem::client {

class DeviceAgent {
 public:
  DeviceAgent(DeviceAgentOptions options,
              std::shared_ptr<grpc::Channel> channel);
  ~DeviceAgent();

  // OK when the coordinator says STOP or RequestStop() was called;
  // UNAVAILABLE when the coordinator stayed unreachable; other errors for
  // what the device cannot recover from (bad data folder, wrong token).
  absl::Status Run();
  // Dispatched mode (options.dispatched), instead of Run(): does what the
  // device has to do now and returns: joins and times its stages the first
  // time, then pulls once (no_wait) and trains and pushes the task if there
  // is one. False once the coordinator said STOP or RequestStop() was
  // called; errors as Run()'s. Calls must not overlap.
  absl::StatusOr<bool> Serve();
  // Makes Run() leave the coordinator and return soon. Thread-safe.
  void RequestStop() { stop_.Request(); }

  int rounds_trained() const { return rounds_trained_.load(); }
  // Its training examples, once its data is loaded (else 0); from the
  // thread that runs it.
  int64_t training_examples() const { return trainer_.examples(); }

 private:
  void Describe();
  // One join-pull-train-push; false when the coordinator said STOP.
  absl::StatusOr<bool> Step();
  // Step() until it succeeds (rejoining when forgotten, backing off while
  // the coordinator is unreachable), fails for good, or the agent is
  // stopped (false).
  absl::StatusOr<bool> StepUntilDone(Backoff& backoff);
  absl::Status TrainAndPush(Task& task);
  // Trains the round as the task says (falling back to local training when
  // the split stream fails and the task allows it).
  absl::StatusOr<RoundWork> Train(Task& task, RoundAccounting& accounting);
  // Completes `task`'s head to the whole model with the tail's weights (a
  // second download).
  absl::Status PullFullWeights(Task& task);
  // The task's download (or, when too small to judge, the last round's
  // largest transfer) measured the link slower than its split's break-even
  // throughput: train locally.
  bool LinkBelowBreakEven(const Task& task,
                          const RoundAccounting& accounting) const;
  // The update's header: who, which round, how much, and what it cost.
  v1::UpdateHeader HeaderFor(const Task& task, RoundWork& work,
                             RoundAccounting& accounting);
  void Abandon(int64_t round, absl::string_view why);
  // Tells the coordinator the least virtual time the task's round can take
  // (TaskHeader.announce_min_time).
  void AnnounceMinTime(const Task& task);

  const DeviceAgentOptions options_;
  const Clock& clock_;
  DeviceEnvironment& env_;  // options_.environment
  StopSignal stop_;
  CoordinatorLink link_;
  RoundTrainer trainer_;
  std::atomic<int> rounds_trained_{0};
  // Run()'s (or Serve()'s) thread only.
  bool described_ = false;
  v1::HardwareProfile profile_;
  int64_t last_round_ = -1;
  LinkSample recent_link_;  // the last round's largest transfer
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_DEVICE_AGENT_H_

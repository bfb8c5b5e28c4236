// The device agent: joins the coordinator, long-polls for tasks, trains
// locally, pushes its update with its measurements; sends heartbeats;
// reconnects with exponential backoff and jitter.
//
//   DeviceAgent agent(options, grpc::CreateChannel(addr, creds));
//   absl::Status s = agent.Run();   // until STOP, RequestStop() or give-up
//
// Run() is called once, from one thread; RequestStop() from any thread.
#ifndef TANDEM_CLIENT_DEVICE_AGENT_H_
#define TANDEM_CLIENT_DEVICE_AGENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/compute_gate.h"
#include "client/device_environment.h"
#include "core/clock.h"
#include "core/weights.h"
#include "grpcpp/grpcpp.h"
#include "ml/data/dataset.h"
#include "ml/model.h"
#include "ml/trainer.h"
#include "proto/tandem.grpc.pb.h"

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
  DataProvider data_provider;   // required
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
  // Give up (Run returns UNAVAILABLE) after this long without reaching the
  // coordinator.
  absl::Duration give_up_after = absl::Seconds(60);
};

class DeviceAgent {
 public:
  DeviceAgent(DeviceAgentOptions options,
              std::shared_ptr<grpc::Channel> channel);
  ~DeviceAgent();

  // OK when the coordinator says STOP or RequestStop() was called;
  // UNAVAILABLE when the coordinator stayed unreachable; other errors for
  // what the device cannot recover from (bad data folder, wrong token).
  absl::Status Run();
  // Makes Run() leave the coordinator and return soon. Thread-safe.
  void RequestStop();

  int rounds_trained() const { return rounds_trained_.load(); }

 private:
  // A TRAIN task as received.
  struct Task {
    v1::TaskHeader header;
    std::shared_ptr<const Weights> weights;
    int64_t bytes_down = 0;
    double download_s = 0;
    int downloads = 1;  // the link guard's re-pull makes 2
  };
  absl::Status JoinWithRetry();
  absl::StatusOr<bool> Step();
  // `full_weights`: the link guard fired; ask for the whole model.
  absl::StatusOr<std::unique_ptr<Task>> PullTask(bool full_weights = false);
  // Completes `task`'s head to the whole model with the tail's weights (a
  // second download).
  absl::Status PullFullWeights(Task& task);
  // Loads the data and times the model's stages on it (once).
  absl::Status PrepareData();
  // Builds the model for a round; TrainAndPush frees it when it is done.
  absl::Status BuildModel();
  absl::Status TimeStages(const ml::InputShape& input);
  // What one round's training produced, whichever way it ran.
  struct RoundWork {
    ml::TrainStats stats;
    Weights update;  // full model, or the head when offloading
    int64_t split_bytes_up = 0, split_bytes_down = 0;
    RoundRecord record;      // what the environment needs to report times
    std::vector<float> aux;  // local loss: the auxiliary classifier
  };
  absl::Status TrainAndPush(Task& task);
  absl::StatusOr<RoundWork> TrainFull(const Task& task);
  absl::StatusOr<RoundWork> TrainSplit(const Task& task, int split);
  absl::StatusOr<RoundWork> TrainLocalLoss(const Task& task, int split,
                                           RoundAccounting& accounting);
  // The first message of this round's split stream.
  v1::SplitOpen SplitOpenFor(const Task& task, int split, v1::SplitMode mode);
  // Sets the model to the task's head over its current weights.
  absl::Status LoadHead(const Task& task);
  // The task's download measured the link slower than its split's
  // break-even throughput: train locally.
  bool LinkBelowBreakEven(const Task& task,
                          const RoundAccounting& accounting) const;
  void Measure(const Task& task, RoundWork& work, RoundAccounting& accounting,
               v1::UpdateHeader* header);
  absl::Status Push(const Task& task, const Weights& weights,
                    v1::UpdateHeader header);
  void SendHeartbeat(int64_t round, v1::HeartbeatRequest::State state,
                     const std::string& reason);
  void SendPeriodicHeartbeat();
  void Leave(const std::string& reason);
  // Registers `ctx` for cancellation by RequestStop; false if stopping.
  bool Track(grpc::ClientContext* ctx);
  void Untrack();
  bool ShouldGiveUp() const;
  // Waits `d` on the agent's clock, or until RequestStop().
  void SleepUnlessStopped(absl::Duration d);

  const DeviceAgentOptions options_;
  const Clock& clock_;
  DeviceEnvironment& env_;  // options_.environment
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  std::unique_ptr<v1::SplitTraining::Stub> split_stub_;
  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_trained_{0};

  absl::Mutex mu_;
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string session_id_ ABSL_GUARDED_BY(mu_);
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
  int64_t current_round_ ABSL_GUARDED_BY(mu_) = -1;
  int heartbeat_ms_ ABSL_GUARDED_BY(mu_) = 2000;
  bool heartbeats_done_ ABSL_GUARDED_BY(mu_) = false;

  // Used by Run()'s thread only.
  v1::JoinReply join_;
  std::shared_ptr<const data::Dataset> data_;
  std::unique_ptr<ml::Model> model_;
  double last_contact_s_ = 0;
  double last_upload_s_ = 0;
  int64_t last_round_ = -1;
  v1::StageTiming timing_;  // sent with pulls until the first task
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_DEVICE_AGENT_H_

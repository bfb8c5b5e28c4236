// A device's local work: its data set, the model it trains for a round,
// and the three ways a round trains (the whole model; the head with exact
// split learning; the head against its auxiliary classifier, local loss).
//
//   RoundTrainer trainer(options, &environment, &link, &stop);
//   TANDEM_RETURN_IF_ERROR(trainer.PrepareData(link.join_reply()));
//   TANDEM_RETURN_IF_ERROR(trainer.BuildModel());
//   TANDEM_ASSIGN_OR_RETURN(RoundWork work, trainer.TrainFull(task));
//
// Not thread-safe: the agent's thread only.
#ifndef TANDEM_CLIENT_ROUND_TRAINER_H_
#define TANDEM_CLIENT_ROUND_TRAINER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/coordinator_link.h"
#include "client/device_agent_options.h"
#include "client/device_environment.h"
#include "client/stop_signal.h"
#include "core/weights.h"
#include "ml/data/dataset.h"
#include "ml/model.h"
#include "ml/trainer.h"
#include "proto/tandem.pb.h"

namespace tandem::client {

// What one round's training produced, whichever way it ran.
struct RoundWork {
  ml::TrainStats stats;
  Weights update;  // full model, or the head when offloading
  int64_t split_bytes_up = 0, split_bytes_down = 0;
  RoundUsage record;       // what the environment needs to report times
  std::vector<float> aux;  // local loss: the auxiliary classifier
};

class RoundTrainer {
 public:
  // All four outlive the trainer.
  RoundTrainer(const DeviceAgentOptions& options, DeviceEnvironment* env,
               CoordinatorLink* link, StopSignal* stop)
      : options_(options), env_(*env), link_(*link), stop_(*stop) {}

  // Once, after the first join: loads the device's data (`join` says which)
  // and times the model's stages on it.
  absl::Status PrepareData(const v1::JoinReply& join);
  // Its training examples; 0 before PrepareData.
  int64_t examples() const {
    return data_ == nullptr ? 0 : static_cast<int64_t>(data_->size());
  }
  // What the stage timing measured (sent with the first pull).
  const v1::StageTiming& timing() const { return timing_; }

  // The model lives for a round only: an idle device holds none, so a
  // simulated fleet's memory grows with the devices training at once.
  // Taken from and given back to options.model_pool when there is one.
  absl::Status BuildModel();
  void ReleaseModel();
  const ml::Model& model() const { return *model_; }

  absl::StatusOr<RoundWork> TrainFull(const Task& task);
  absl::StatusOr<RoundWork> TrainSplit(const Task& task, int split);
  absl::StatusOr<RoundWork> TrainLocalLoss(const Task& task, int split,
                                           RoundAccounting& accounting);

 private:
  // What ml::Model::Create builds for the run's model: the zoo name the
  // coordinator sent, or this device's own TorchScript file.
  absl::StatusOr<std::string> ModelNameFor(const v1::JoinReply& join) const;
  // Examples `task` trains on: its turn at the ComputeGate.
  int64_t WorkOf(const Task& task) const;
  // Sets the model to the task's head over its current weights.
  absl::Status LoadHead(const Task& task);

  const DeviceAgentOptions& options_;
  DeviceEnvironment& env_;
  CoordinatorLink& link_;
  StopSignal& stop_;
  std::string model_name_;
  std::shared_ptr<const data::Dataset> data_;
  std::unique_ptr<ml::Model> model_;
  v1::StageTiming timing_;
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_ROUND_TRAINER_H_

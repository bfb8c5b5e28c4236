// Per-stage costs of a model, measured on this machine: what a cost model
// needs to predict a split's compute, traffic and memory.
//
//   TANDEM_ASSIGN_OR_RETURN(ModelProfile p,
//                           ProfileModel("vgg5", {1, 28, 28, 10}, 32, 3));
#ifndef TANDEM_ML_PROFILE_H_
#define TANDEM_ML_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/model.h"

namespace tandem::ml {

// What one training step costs a stage, split into a part per example and
// a part per batch (the optimiser step, per-call overheads), so that any
// batch size comes out right: t(n) = n * per_example + per_batch.
struct StageProfile {
  std::string name;
  // The stage's share of a training step on one thread of this machine,
  // per example: forward, backward and its optimiser step; the first stage
  // also forms the batch, the last computes the loss.
  double train_seconds_per_example = 0;
  int64_t out_elements = 0;  // per-example activation size after the stage
  int64_t param_bytes = 0;   // parameters and buffers of the stage
  // The auxiliary classifier at the split point after this stage
  // (offload.mode "local_loss"; 0 after the last): its forward, loss,
  // backward and optimiser step, and the int8 encoding of the activations.
  double aux_seconds_per_example = 0;
  int64_t aux_param_bytes = 0;  // that classifier's weights
  // The parts per batch of the two steps above.
  double train_seconds_per_batch = 0;
  double aux_seconds_per_batch = 0;

  // Seconds per example in batches of `batch` (0: the per-example part).
  double TrainSeconds(int batch) const;
  double AuxSeconds(int batch) const;
};

struct ModelProfile {
  std::string model;
  int64_t input_elements = 0;
  std::vector<StageProfile> stages;
  // The batch size the seconds per example below are for (0: per-example
  // parts only).
  int batch_size = 0;
};

// `profile` for batches of `batch` examples.
ModelProfile AtBatchSize(ModelProfile profile, int batch);

// What a device times before its first task (client/device_agent.h): a
// ProfileModel of this batch size and repetitions, which runs every stage on
// (reps + 1) x (batch + batch / 2) examples in all.
inline constexpr int kStageTimingBatch = 32;
inline constexpr int kStageTimingReps = 2;
inline constexpr int kStageTimingExamples =
    (kStageTimingBatch + kStageTimingBatch / 2) * (kStageTimingReps + 1);

// Seconds per example of stages [begin, end) on one core of this machine,
// in batches of profile.batch_size.
double StageSeconds(const ModelProfile& profile, int begin, int end);

// Seconds per example of a local-loss head at `split`: stages [0, split)
// and the auxiliary classifier at the split point (just the stages at split
// L).
double LocalLossHeadSeconds(const ModelProfile& profile, int split);

// Each stage's name and sizes (out_elements, param_bytes, aux_param_bytes),
// with no time measured: what a pinned profile must match (ReadProfile).
absl::StatusOr<ModelProfile> StageSizes(const std::string& name,
                                        const InputShape& input);

// Times `reps` training steps of each stage (StageProfile) on random
// batches of `batch` and of batch / 2 examples, on the calling thread (set
// its threads to 1 first for a one-core figure), and splits each median
// into its per-example and per-batch parts. The result is for `batch`.
absl::StatusOr<ModelProfile> ProfileModel(const std::string& name,
                                          const InputShape& input, int batch,
                                          int reps);

}  // namespace tandem::ml

#endif  // TANDEM_ML_PROFILE_H_

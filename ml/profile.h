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

struct StageProfile {
  std::string name;
  // Forward + backward seconds per example on one thread of this machine.
  double train_seconds_per_example = 0;
  int64_t out_elements = 0;  // per-example activation size after the stage
  int64_t param_bytes = 0;   // parameters and buffers of the stage
  // Forward + backward seconds per example of the auxiliary classifier at
  // the split point after this stage (offload.mode "local_loss"; 0 after the
  // last).
  double aux_seconds_per_example = 0;
  int64_t aux_param_bytes = 0;  // that classifier's weights
};

struct ModelProfile {
  std::string model;
  int64_t input_elements = 0;
  std::vector<StageProfile> stages;
};

// What a device times before its first task (client/device_agent.h): a
// ProfileModel of this batch size and repetitions, which runs every stage on
// (reps + 1) x batch examples in all.
inline constexpr int kStageTimingBatch = 32;
inline constexpr int kStageTimingReps = 2;
inline constexpr int kStageTimingExamples =
    kStageTimingBatch * (kStageTimingReps + 1);

// Seconds per example of stages [begin, end) on one core of this machine.
double StageSeconds(const ModelProfile& profile, int begin, int end);

// Times `reps` forward+backward passes of each stage on a random batch of
// `batch` examples, on the calling thread (set its threads to 1 first for a
// one-core figure). Takes the median of the repetitions.
// Seconds per example of a local-loss head at `split`: stages [0, split)
// and the auxiliary classifier at the split point (just the stages at split
// L).
double LocalLossHeadSeconds(const ModelProfile& profile, int split);

// Each stage's name and sizes (out_elements, param_bytes, aux_param_bytes),
// with no time measured: what a pinned profile must match (ReadProfile).
absl::StatusOr<ModelProfile> StageSizes(const std::string& name,
                                        const InputShape& input);

absl::StatusOr<ModelProfile> ProfileModel(const std::string& name,
                                          const InputShape& input, int batch,
                                          int reps);

}  // namespace tandem::ml

#endif  // TANDEM_ML_PROFILE_H_

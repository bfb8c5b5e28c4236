// The batching loop shared by local and split training, so both visit the
// same examples in the same order for the same seed.
#ifndef TANDEM_ML_INTERNAL_TRAIN_LOOP_H_
#define TANDEM_ML_INTERNAL_TRAIN_LOOP_H_

#include <functional>

#include "absl/status/statusor.h"
#include "ml/internal/batch.h"
#include "ml/trainer.h"

namespace tandem::ml {

// One optimiser step on a batch; returns the batch's loss.
using StepFn = std::function<absl::StatusOr<double>(const Batch&)>;

// Shuffles and batches `data` as `options` say and calls `step` per batch.
// Fills samples, batches, mean_loss, cpu_seconds, wall_seconds; stops with
// CANCELLED when options.cancel is set, and at the first failing step.
absl::StatusOr<TrainStats> RunTrainLoop(const data::Dataset& data,
                                        const TrainOptions& options,
                                        const StepFn& step);

// Checks shared by the entry points (non-empty data, sane options).
absl::Status CheckTrainArgs(const data::Dataset& data,
                            const TrainOptions& options);

}  // namespace tandem::ml

#endif  // TANDEM_ML_INTERNAL_TRAIN_LOOP_H_

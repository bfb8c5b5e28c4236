// Local training and evaluation of a Model on an in-memory dataset, without
// LibTorch in the interface. LibTorch exceptions become absl::Status here.
//
//   TANDEM_ASSIGN_OR_RETURN(TrainStats s, TrainLocal(*model, shard, opts));
//   TANDEM_ASSIGN_OR_RETURN(EvalStats e, Evaluate(*model, test, 500));
//
// Both run on the calling thread with the calling thread's LibTorch thread
// setting (see ml/runtime.h). Not thread-safe per Model.
#ifndef TANDEM_ML_TRAINER_H_
#define TANDEM_ML_TRAINER_H_

#include <atomic>
#include <cstdint>

#include "absl/status/statusor.h"
#include "ml/data/dataset.h"
#include "ml/model.h"

namespace tandem::ml {

struct TrainOptions {
  int epochs = 1;
  int batch_size = 32;
  double learning_rate = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;
  double proximal_mu = 0.0;  // FedProx: + mu/2 ||w - w_start||^2
  int64_t max_batches = 0;   // stop after this many batches; 0 = no cap
  uint64_t seed = 1;         // shuffling
  bool loss_before = false;  // also measure the loss before training
  // When set and true, training stops between batches with CANCELLED.
  const std::atomic<bool>* cancel = nullptr;
};

struct TrainStats {
  int64_t samples = 0;        // examples in the dataset
  int64_t batches = 0;        // optimiser steps taken
  int64_t examples_seen = 0;  // examples over all steps
  double mean_loss = 0;       // mean batch loss over the last epoch
  double loss_before = 0;     // when TrainOptions::loss_before
  double cpu_seconds = 0;     // calling thread's CPU time
  double wall_seconds = 0;
};

struct EvalStats {
  double accuracy = 0;  // fraction in [0, 1]
  double loss = 0;      // mean cross-entropy
  int64_t examples = 0;
};

absl::StatusOr<TrainStats> TrainLocal(Model& model, const data::Dataset& data,
                                      const TrainOptions& options);

absl::StatusOr<EvalStats> Evaluate(Model& model, const data::Dataset& data,
                                   int batch_size);

// The logits of every example of `data` in evaluation mode, row-major
// [data.size(), num_classes].
absl::StatusOr<std::vector<float>> PredictLogits(Model& model,
                                                 const data::Dataset& data,
                                                 int batch_size);

}  // namespace tandem::ml

#endif  // TANDEM_ML_TRAINER_H_

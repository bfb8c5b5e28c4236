// Split learning without LibTorch in the interface: a device trains the head
// (stages [0, s)) and a TailTrainer, on the coordinator, trains that device's
// own copy of the tail (stages [s, L)). Per batch the head's activations at
// the split point go to the tail, the gradient at the split point comes back.
//
// Device:      TrainHead(model, s, data, options, transport)
// Coordinator: TailTrainer::Create(...) then Step() per batch
//
// One fp32 split step gives the same parameters as the unsplit step.
#ifndef TANDEM_ML_SPLIT_H_
#define TANDEM_ML_SPLIT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/weights.h"
#include "ml/aux_classifier.h"
#include "ml/data/dataset.h"
#include "ml/model.h"
#include "ml/trainer.h"

namespace tandem::ml {

// A batch of activations (or gradients) at a split point:
// [n, per-example shape...].
struct SplitTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// What carries a batch's activations to the tail and its gradient back.
class SplitTransport {
 public:
  virtual ~SplitTransport() = default;
  // Returns d loss / d activations (same shape) and sets `loss`.
  virtual absl::StatusOr<SplitTensor> Exchange(
      int64_t step, const SplitTensor& activations,
      const std::vector<int64_t>& labels, double* loss) = 0;
};

// Trains stages [0, split) of `model` with SGD, batches and shuffling exactly
// as TrainLocal; the tail's part of each step happens behind `transport`.
// TrainStats::cpu_seconds counts the head's compute on this thread.
absl::StatusOr<TrainStats> TrainHead(Model& model, int split,
                                     const data::Dataset& data,
                                     const TrainOptions& options,
                                     SplitTransport& transport);

// What carries a batch's activations to the tail when the device trains on
// a local loss (offload.mode "local_loss"): nothing comes back per batch.
// Send may block while the in-flight window is full (back-pressure).
class ActivationSink {
 public:
  virtual ~ActivationSink() = default;
  // `activations`: the head's output for the batch, as computed before the
  // head's optimiser step. `cpu_s`: the head's (and auxiliary classifier's)
  // CPU seconds for this batch on the training thread.
  virtual absl::Status Send(int64_t step, SplitTensor activations,
                            std::vector<int64_t> labels, double cpu_s) = 0;
};

// Trains stages [0, split) together with the auxiliary classifier at the
// split point (`aux`, its flat weights, updated in place; see
// ml/aux_classifier.h) on the auxiliary loss, with batches and shuffling
// exactly as TrainLocal, and hands each batch's activations and labels to
// `sink`.
// TrainStats::cpu_seconds counts the head's and the classifier's compute.
// `form`: the classifier's form (the coordinator always uses the default).
absl::StatusOr<TrainStats> TrainHeadLocalLoss(Model& model, int split,
                                              std::vector<float>* aux,
                                              const data::Dataset& data,
                                              const TrainOptions& options,
                                              ActivationSink& sink,
                                              AuxForm form = kDefaultAuxForm);

// A device's copy of the tail, on the coordinator. Not thread-safe.
class TailTrainer {
 public:
  struct Impl;  // LibTorch state, defined in ml/split.cc
  // `global`: the full model's weights; the tail starts from them.
  static absl::StatusOr<std::unique_ptr<TailTrainer>> Create(
      const std::string& model_name, const InputShape& input, int split,
      const Weights& global, const TrainOptions& options);
  ~TailTrainer();

  // Per-example shape of the activations this tail accepts.
  const std::vector<int64_t>& split_shape() const;
  // Forward, loss against `labels`, backward, optimiser step. Rejects
  // activations of the wrong shape or labels out of range.
  absl::StatusOr<SplitTensor> Step(const SplitTensor& activations,
                                   const std::vector<int64_t>& labels,
                                   double* loss);
  // Local-loss mode: the same step without the gradient at the split point
  // (the device does not wait for one); returns the batch's loss.
  absl::StatusOr<double> Fit(const SplitTensor& activations,
                             const std::vector<int64_t>& labels);
  // Tail stages' weights (parameters and batch-norm buffers) as trained.
  Weights TailWeights() const;
  int64_t steps() const;
  int64_t examples() const;    // over all Step() calls
  double cpu_seconds() const;  // tail compute, summed over Step() calls

 private:
  absl::Status CheckBatch(const SplitTensor& activations,
                          const std::vector<int64_t>& labels) const;
  explicit TailTrainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Per-example activation shape after stages [0, split) (split 0: the input).
std::vector<int64_t> SplitShape(const Model& model, int split);

}  // namespace tandem::ml

#endif  // TANDEM_ML_SPLIT_H_

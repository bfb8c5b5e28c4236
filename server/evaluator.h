// The coordinator's model: its architecture (built once from the config and
// the test set's shape) and the test set the global weights are evaluated
// on after aggregated rounds. Not thread-safe: Run()'s thread uses it.
#ifndef TANDEM_SERVER_EVALUATOR_H_
#define TANDEM_SERVER_EVALUATOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/weights.h"
#include "ml/data/dataset.h"
#include "ml/model.h"
#include "ml/trainer.h"

namespace tandem::server {

class Evaluator {
 public:
  // `test_set` must not be null (Coordinator::LoadData loads it).
  static absl::StatusOr<std::unique_ptr<Evaluator>> Create(
      const Config& config, std::shared_ptr<const data::Dataset> test_set);

  const ml::Model& model() const { return *model_; }
  // Accuracy and loss of `weights` on the test set.
  absl::StatusOr<ml::EvalStats> Evaluate(const Weights& weights);
  // Writes the model with `weights` for PyTorch (ml/export.h) as
  // <folder>/<stem>.pt (TorchScript models) or <stem>.state_dict.pt (zoo);
  // returns the file's name in `folder`.
  absl::StatusOr<std::string> Export(const Weights& weights,
                                     const std::string& folder,
                                     const std::string& stem);

 private:
  Evaluator(std::unique_ptr<ml::Model> model,
            std::shared_ptr<const data::Dataset> test_set, int batch_size);

  std::unique_ptr<ml::Model> model_;
  std::shared_ptr<const data::Dataset> test_set_;
  const int batch_size_;
};

// server.resume_from: the weights, the round and the run state (empty in
// version 1 files) of a checkpoint of this run's model. Errors name the file
// and what is wrong with it.
struct ResumePoint {
  Weights weights;
  int64_t round = 0;
  RunState state;
};
absl::StatusOr<ResumePoint> LoadResumeCheckpoint(const Config& config,
                                                 const WeightsLayout& layout);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_EVALUATOR_H_

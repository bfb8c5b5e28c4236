#include "server/evaluator.h"

#include "absl/strings/str_cat.h"
#include "core/file_io.h"
#include "core/status_macros.h"
#include "ml/export.h"

namespace tandem::server {

absl::StatusOr<std::unique_ptr<Evaluator>> Evaluator::Create(
    const Config& config, std::shared_ptr<const data::Dataset> test_set) {
  TANDEM_ASSIGN_OR_RETURN(
      auto model, ml::Model::Create(config.model.id(),
                                    ml::InputShapeOf(*test_set), config.seed));
  return std::unique_ptr<Evaluator>(new Evaluator(
      std::move(model), std::move(test_set), config.server.eval_batch_size));
}

Evaluator::Evaluator(std::unique_ptr<ml::Model> model,
                     std::shared_ptr<const data::Dataset> test_set,
                     int batch_size)
    : model_(std::move(model)),
      test_set_(std::move(test_set)),
      batch_size_(batch_size) {}

absl::StatusOr<ml::EvalStats> Evaluator::Evaluate(const Weights& weights) {
  TANDEM_RETURN_IF_ERROR(model_->SetWeights(weights));
  return ml::Evaluate(*model_, *test_set_, batch_size_);
}

absl::StatusOr<std::string> Evaluator::Export(const Weights& weights,
                                              const std::string& folder,
                                              const std::string& stem) {
  TANDEM_RETURN_IF_ERROR(model_->SetWeights(weights));
  const std::string name = ml::ExportFileName(*model_, stem);
  TANDEM_RETURN_IF_ERROR(ml::ExportForPyTorch(*model_, folder + "/" + name));
  return name;
}

absl::StatusOr<ResumePoint> LoadResumeCheckpoint(const Config& config,
                                                 const WeightsLayout& layout) {
  const std::string& path = config.server.resume_from;
  auto error = [&path](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("server.resume_from: ", path, ": ", what));
  };
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return error(bytes.status().message());
  ResumePoint p;
  absl::StatusOr<Weights> weights =
      DecodeCheckpoint(*bytes, &p.round, &p.state);
  if (!weights.ok()) return error(weights.status().message());
  const std::string diff = layout.DescribeDifference(weights->layout());
  if (!diff.empty()) {
    return error(absl::StrCat("not a checkpoint of model '", config.model.id(),
                              "' for this data: ", diff));
  }
  if (p.round < 0 || p.round >= config.server.rounds) {
    return error(absl::StrCat("checkpoint of round ", p.round,
                              ", server.rounds is ", config.server.rounds,
                              ": no rounds left to run"));
  }
  p.weights = *std::move(weights);
  return p;
}

}  // namespace tandem::server

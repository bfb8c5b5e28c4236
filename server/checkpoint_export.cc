#include "server/checkpoint_export.h"

#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "core/file_io.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"
#include "ml/export.h"
#include "ml/model.h"

namespace tandem::server {

absl::Status ExportCheckpoint(const Config& config,
                              const std::string& checkpoint,
                              const std::string& out) {
  auto error = [&checkpoint](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("--export ", checkpoint, ": ", what));
  };
  absl::StatusOr<std::string> bytes = ReadFile(checkpoint);
  if (!bytes.ok()) return error(bytes.status().message());
  int64_t round = 0;
  absl::StatusOr<Weights> weights = DecodeCheckpoint(*bytes, &round);
  if (!weights.ok()) return error(weights.status().message());
  TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt,
                          data::LoadDataset(data::SourceForConfig(config)));
  const data::Dataset& shape_of = tt.test.size() > 0 ? tt.test : tt.train;
  TANDEM_ASSIGN_OR_RETURN(
      auto model, ml::Model::Create(config.model.id(),
                                    ml::InputShapeOf(shape_of), config.seed));
  absl::Status fits = model->SetWeights(*weights);
  if (!fits.ok()) {
    return error(absl::StrCat("not a checkpoint of this config's model: ",
                              fits.message()));
  }
  return ml::ExportForPyTorch(*model, out);
}

}  // namespace tandem::server

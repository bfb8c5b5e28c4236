#include "ml/export.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ml/internal/model_impl.h"

namespace tandem::ml {

std::string ExportFileName(const Model& model, const std::string& stem) {
  return absl::StartsWith(model.name(), kTorchScriptPrefix)
             ? stem + ".pt"
             : stem + ".state_dict.pt";
}

absl::Status ExportForPyTorch(Model& model, const std::string& path) {
  const std::string partial = path + ".partial";
  try {
    torch::NoGradGuard no_grad;
    model.impl().net->SaveForPyTorch(partial, model.stage_names());
  } catch (const std::exception& e) {
    std::remove(partial.c_str());
    return absl::InternalError(
        absl::StrCat("exporting model to ", path, ": ", e.what()));
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    return absl::InternalError(
        absl::StrCat("exporting model to ", path, ": cannot rename ", partial));
  }
  return absl::OkStatus();
}

}  // namespace tandem::ml

// Taking a trained model out to PyTorch.
//
//   TANDEM_RETURN_IF_ERROR(ml::ExportForPyTorch(*model, "final.pt"));
//
// A TorchScript model is written as TorchScript with the model's current
// weights (torch.jit.load reads it). A zoo model is written as a state dict
// (torch.load reads it; the names are those of the matching module in
// examples/pytorch/tandem_models.py, which load_state_dict takes).
#ifndef TANDEM_ML_EXPORT_H_
#define TANDEM_ML_EXPORT_H_

#include <string>

#include "absl/status/status.h"
#include "ml/model.h"

namespace tandem::ml {

// "<stem>.pt" for a TorchScript model, "<stem>.state_dict.pt" for a zoo
// model: the file ExportForPyTorch should write, by what it holds.
std::string ExportFileName(const Model& model, const std::string& stem);

// Writes `model` with its current weights to `path` (replaced atomically:
// written beside it, then renamed). Internal error naming the path on
// failure.
absl::Status ExportForPyTorch(Model& model, const std::string& path);

}  // namespace tandem::ml

#endif  // TANDEM_ML_EXPORT_H_

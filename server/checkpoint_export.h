// `tandem-server --export CHECKPOINT OUT`: a checkpoint of a run's model
// written for PyTorch (ml/export.h), with no run.
#ifndef TANDEM_SERVER_CHECKPOINT_EXPORT_H_
#define TANDEM_SERVER_CHECKPOINT_EXPORT_H_

#include <string>

#include "absl/status/status.h"
#include "core/config.h"

namespace tandem::server {

// Builds config's model for its data's input shape (the test set is read
// for it), loads `checkpoint`'s weights into it and writes it to `out`.
// Errors name the checkpoint or the output and what is wrong.
absl::Status ExportCheckpoint(const Config& config,
                              const std::string& checkpoint,
                              const std::string& out);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_CHECKPOINT_EXPORT_H_

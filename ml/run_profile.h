// The model profile a run's offload decisions use (the cost model, the
// bound, the policies, profiled compute time): the pinned one a config
// names, or one measured on this machine.
#ifndef TANDEM_ML_RUN_PROFILE_H_
#define TANDEM_ML_RUN_PROFILE_H_

#include "absl/status/statusor.h"
#include "core/config.h"
#include "ml/model.h"
#include "ml/profile.h"

namespace tandem::ml {

// The model's per-stage costs on one core (the unit of a device's
// `slowdown`) at config.training.batch_size: the pinned profile of
// config.fleet.profile when set, else measured on this machine, after which
// the calling thread's compute threads are restored to
// config.server.threads.
absl::StatusOr<ModelProfile> ProfileOnOneCore(const Config& config,
                                              const InputShape& input);

}  // namespace tandem::ml

#endif  // TANDEM_ML_RUN_PROFILE_H_

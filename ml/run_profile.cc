#include "ml/run_profile.h"

#include <algorithm>

#include "ml/profile_file.h"
#include "ml/runtime.h"

namespace tandem::ml {

absl::StatusOr<ModelProfile> ProfileOnOneCore(const Config& config,
                                              const InputShape& input) {
  const int batch = config.training.batch_size;
  absl::StatusOr<ModelProfile> profile;
  if (!config.fleet.profile.empty()) {
    profile = ReadProfile(config.fleet.profile, config.model.id(), input);
  } else {
    SetComputeThreads(1);
    profile = ProfileModel(config.model.id(), input, std::clamp(batch, 4, 256),
                           /*reps=*/3);
    SetComputeThreads(config.server.threads);
  }
  if (!profile.ok()) return profile.status();
  return AtBatchSize(*std::move(profile), batch);
}

}  // namespace tandem::ml

// Pinned model profiles (fleet.profile): a profile measured once on a stated
// reference core and kept in a file, so simulated time depends only on the
// config and seed, not on the host or what else it runs.
//
//   {"model": "vgg5", "input": [1, 28, 28, 10], "reference": "...",
//    "stages": [{"name": "conv1", "train_seconds_per_example": ...,
//                "aux_seconds_per_example": ..., "out_elements": ...,
//                "param_bytes": ..., "aux_param_bytes": ...}, ...]}
#ifndef TANDEM_ML_PROFILE_FILE_H_
#define TANDEM_ML_PROFILE_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "ml/model.h"
#include "ml/profile.h"

namespace tandem::ml {

// Reads `path`; errors name the file and what is wrong. Checks that it was
// measured on `input` and that its stages have the sizes of `model`'s
// (StageSizes): any model of the same stage layout may use it, whatever
// its name.
absl::StatusOr<ModelProfile> ReadProfile(const std::string& path,
                                         const std::string& model,
                                         const InputShape& input);

// Writes `profile` of a model for `input`, measured on `reference`.
absl::Status WriteProfile(const ModelProfile& profile, const InputShape& input,
                          const std::string& reference,
                          const std::string& path);

}  // namespace tandem::ml

#endif  // TANDEM_ML_PROFILE_FILE_H_

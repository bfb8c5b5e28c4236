// The error of a data file that does not hold what its format says.
#ifndef TANDEM_ML_DATA_CORRUPT_H_
#define TANDEM_ML_DATA_CORRUPT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tandem::data {

// DATA_LOSS naming the file (or archive member) and what is wrong with it.
inline absl::Status Corrupt(const std::string& name, const std::string& what) {
  return absl::DataLossError(absl::StrCat(name, ": ", what));
}

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_CORRUPT_H_

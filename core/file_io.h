// Whole files: read one, or replace one so that readers never see it torn.
#ifndef TANDEM_CORE_FILE_IO_H_
#define TANDEM_CORE_FILE_IO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tandem {

// Writes `contents` to `path` via a temp file in the same folder, fsync and
// rename: readers see the old file or the new one, never a torn one.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);
// The bytes of `path`; NotFound naming it when it cannot be opened.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace tandem

#endif  // TANDEM_CORE_FILE_IO_H_

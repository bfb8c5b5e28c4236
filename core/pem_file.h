// Reads a PEM file (certificate, key, CA bundle) for gRPC's TLS options,
// which take contents, not paths. Errors start with `what` (the config field
// or flag that named the file).
#ifndef TANDEM_CORE_PEM_FILE_H_
#define TANDEM_CORE_PEM_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/file_io.h"

namespace tandem {

inline absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                               absl::string_view what) {
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": cannot read '", path, "'"));
  }
  if (!absl::StrContains(*pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", path, "' is not a PEM file"));
  }
  return pem;
}

}  // namespace tandem

#endif  // TANDEM_CORE_PEM_FILE_H_

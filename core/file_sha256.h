// SHA-256 of a file's bytes, as 64 lowercase hex digits: what a device and
// the coordinator compare to know they run the same model file.
#ifndef TANDEM_CORE_FILE_SHA256_H_
#define TANDEM_CORE_FILE_SHA256_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tandem {

// SHA-256 of `bytes`.
std::string Sha256Hex(absl::string_view bytes);

// NotFound / DataLoss naming `path` when it cannot be read.
absl::StatusOr<std::string> FileSha256(const std::string& path);

// True for 64 lowercase hex digits.
bool IsSha256Hex(const std::string& text);

}  // namespace tandem

#endif  // TANDEM_CORE_FILE_SHA256_H_

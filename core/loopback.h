// Whether a gRPC address ("host:port", "[::1]:port", "unix:path") stays on
// this machine: what decides the loud warnings about running without TLS.
#ifndef TANDEM_CORE_LOOPBACK_H_
#define TANDEM_CORE_LOOPBACK_H_

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace tandem {

inline bool IsLoopbackAddress(absl::string_view address) {
  return absl::StartsWith(address, "127.") ||
         absl::StartsWith(address, "localhost:") ||
         absl::StartsWith(address, "[::1]:") ||
         absl::StartsWith(address, "unix:");
}

}  // namespace tandem

#endif  // TANDEM_CORE_LOOPBACK_H_

// Session ids: what a device proves its identity with on every call after
// Join. They are unguessable (128 bits from the kernel's CSPRNG, as 32 hex
// characters) and compared in constant time.
//
//   d.session_id = NewSessionId();
//   if (!SessionMatches(d.session_id, request.session_id())) refuse;
//
// Thread-safe.
#ifndef TANDEM_SERVER_SESSION_ID_H_
#define TANDEM_SERVER_SESSION_ID_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tandem::server {

// Random bytes in a session id.
inline constexpr int kSessionIdBytes = 16;

// A fresh session id (2 x kSessionIdBytes lowercase hex characters) from
// getrandom(2), or /dev/urandom where that is missing. Aborts if neither
// works: a coordinator must never hand out guessable sessions.
std::string NewSessionId();

// Whether `given` equals the non-empty `expected`, in time that depends on
// their lengths only.
bool SessionMatches(absl::string_view expected, absl::string_view given);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_SESSION_ID_H_

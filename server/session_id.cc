#include "server/session_id.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "core/log.h"

namespace tandem::server {
namespace {

// Fills `buf` from the kernel's CSPRNG; false if it cannot.
bool SecureRandom(unsigned char* buf, size_t size) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = getrandom(buf + got, size - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  if (got == size) return true;
  FILE* f = std::fopen("/dev/urandom", "rb");
  if (f == nullptr) return false;
  const bool ok = std::fread(buf, 1, size, f) == size;
  std::fclose(f);
  return ok;
}

}  // namespace

std::string NewSessionId() {
  unsigned char bytes[kSessionIdBytes];
  if (!SecureRandom(bytes, sizeof(bytes))) {
    LogError(
        "no secure random source for session ids (getrandom, "
        "/dev/urandom); stopping");
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

bool SessionMatches(absl::string_view expected, absl::string_view given) {
  if (expected.empty() || expected.size() != given.size()) return false;
  // No early exit: every byte is compared whatever the first difference.
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff = diff | (static_cast<unsigned char>(expected[i]) ^
                   static_cast<unsigned char>(given[i]));
  }
  return diff == 0;
}

}  // namespace tandem::server

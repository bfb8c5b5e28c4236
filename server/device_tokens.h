// Per-device join tokens, for fleets without per-device certificates. The
// coordinator keeps only each token's SHA-256, read from a file of lines
//
//   # comment
//   <device id> <64 hex digits: SHA-256 of the token>
//
// (deploy/make-token.sh writes both halves). A device joins with its own
// token; the digests are compared in constant time.
//
//   TANDEM_ASSIGN_OR_RETURN(DeviceTokens tokens, DeviceTokens::Load(path));
//   if (!tokens.Matches(request.device_id(), request.token())) refuse;
//
// Thread-safe once loaded.
#ifndef TANDEM_SERVER_DEVICE_TOKENS_H_
#define TANDEM_SERVER_DEVICE_TOKENS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tandem::server {

class DeviceTokens {
 public:
  using Digest = std::array<uint8_t, 32>;

  // Errors name the file and line of what is wrong.
  static absl::StatusOr<DeviceTokens> Load(const std::string& path);
  static absl::StatusOr<DeviceTokens> Parse(absl::string_view text,
                                            const std::string& name);

  int size() const { return static_cast<int>(digests_.size()); }
  // Whether `token` is `device`'s. False for devices not in the file.
  bool Matches(const std::string& device, absl::string_view token) const;

  static Digest Sha256(absl::string_view data);

  // The devices whose token `next` no longer accepts: gone from the file,
  // or given another token.
  std::vector<std::string> RevokedBy(const DeviceTokens& next) const;

 private:
  std::map<std::string, Digest> digests_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_DEVICE_TOKENS_H_

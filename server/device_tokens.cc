#include "server/device_tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/fleet_registry.h"

namespace tandem::server {

DeviceTokens::Digest DeviceTokens::Sha256(absl::string_view data) {
  Digest d{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

absl::StatusOr<DeviceTokens> DeviceTokens::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("tokens: cannot open '", path, "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

absl::StatusOr<DeviceTokens> DeviceTokens::Parse(absl::string_view text,
                                                 const std::string& name) {
  DeviceTokens tokens;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = absl::StrCat("tokens: ", name, ":", line_no);
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 2 || fields[1].size() != 64 ||
        !absl::c_all_of(fields[1], absl::ascii_isxdigit)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected \"<device id> <64 hex digits>\""));
    }
    const std::string id(fields[0]);
    if (!IsValidDeviceId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": device id must be 1-128 characters"));
    }
    const std::string bytes = absl::HexStringToBytes(fields[1]);
    Digest d;
    std::copy(bytes.begin(), bytes.end(), d.begin());
    if (!tokens.digests_.emplace(id, d).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": device '", id, "' is listed twice"));
    }
  }
  return tokens;
}

std::vector<std::string> DeviceTokens::RevokedBy(
    const DeviceTokens& next) const {
  std::vector<std::string> revoked;
  for (const auto& [id, digest] : digests_) {
    auto it = next.digests_.find(id);
    if (it == next.digests_.end() || it->second != digest) {
      revoked.push_back(id);
    }
  }
  return revoked;
}

bool DeviceTokens::Matches(const std::string& device,
                           absl::string_view token) const {
  auto it = digests_.find(device);
  if (it == digests_.end() || token.empty()) return false;
  const Digest given = Sha256(token);
  return CRYPTO_memcmp(given.data(), it->second.data(), given.size()) == 0;
}

}  // namespace tandem::server

#include "client/channel_security.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/loopback.h"
#include "core/pem_file.h"
#include "core/status_macros.h"

namespace tandem::client {

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeCoordinatorChannel(
    const std::string& target, const ClientTls& tls,
    grpc::ChannelArguments args) {
  if (tls.ca.empty()) {
    if (!tls.cert.empty() || !tls.key.empty()) {
      return absl::InvalidArgumentError(
          "--tls_cert and --tls_key need --tls_ca (the coordinator's CA)");
    }
    if (!IsLoopbackAddress(target)) {
      LogWarning(absl::StrCat("WARNING: connecting to ", target,
                              " WITHOUT TLS: the model, updates and join "
                              "token cross the network in clear"));
    }
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                     args);
  }
  if (tls.cert.empty() != tls.key.empty()) {
    return absl::InvalidArgumentError("set both --tls_cert and --tls_key");
  }
  grpc::SslCredentialsOptions options;
  TANDEM_ASSIGN_OR_RETURN(options.pem_root_certs,
                          ReadPemFile(tls.ca, "--tls_ca"));
  if (!tls.cert.empty()) {
    TANDEM_ASSIGN_OR_RETURN(options.pem_cert_chain,
                            ReadPemFile(tls.cert, "--tls_cert"));
    TANDEM_ASSIGN_OR_RETURN(options.pem_private_key,
                            ReadPemFile(tls.key, "--tls_key"));
  }
  if (!tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(options), args);
}

absl::StatusOr<std::string> ReadJoinToken(const std::string& token_file) {
  if (token_file.empty()) {
    const char* env = std::getenv("TANDEM_TOKEN");
    return std::string(env == nullptr ? "" : env);
  }
  absl::StatusOr<std::string> text = ReadFile(token_file);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token_file: cannot read '", token_file, "'"));
  }
  std::string token(
      absl::StripAsciiWhitespace(text->substr(0, text->find('\n'))));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token_file: '", token_file, "' holds no token"));
  }
  return token;
}

}  // namespace tandem::client

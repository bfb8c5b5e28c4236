#include "server/transport_security.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/loopback.h"
#include "core/pem_file.h"
#include "core/status_macros.h"

namespace tandem::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view field) {
  return ReadPemFile(path, absl::StrCat("config: $.server.", field));
}

}  // namespace

absl::StatusOr<ServerSecurity> LoadServerSecurity(const ServerConfig& s) {
  ServerSecurity security;
  if (s.tls_cert.empty()) {
    if (!IsLoopbackAddress(s.listen)) {
      LogWarning(absl::StrCat(
          "WARNING: listening WITHOUT TLS on ", s.listen,
          ": anyone who can reach it can join, read the model and send "
          "updates, and join tokens cross the network in clear. Set "
          "server.tls_cert, server.tls_key and server.tls_client_ca "
          "(deploy/make-certs.sh)."));
    }
    return security;
  }
  grpc::SslServerCredentialsOptions options(
      s.tls_client_ca.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  TANDEM_ASSIGN_OR_RETURN(pair.private_key, ReadPem(s.tls_key, "tls_key"));
  TANDEM_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(s.tls_cert, "tls_cert"));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!s.tls_client_ca.empty()) {
    TANDEM_ASSIGN_OR_RETURN(options.pem_root_certs,
                            ReadPem(s.tls_client_ca, "tls_client_ca"));
    security.require_certificates = true;
  }
  security.credentials = grpc::SslServerCredentials(options);
  return security;
}

bool CameOverTls(const grpc::ServerContext& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr) return false;
  for (const grpc::string_ref& type :
       auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    if (absl::string_view(type.data(), type.size()) == "ssl") return true;
  }
  return false;
}

absl::Status AuthorizeDevice(const grpc::ServerContext& ctx,
                             bool require_certificates,
                             absl::string_view device_id) {
  if (!require_certificates) return absl::OkStatus();
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  // Every network connection names its transport ("ssl"); the in-process
  // channel names none.
  if (auth == nullptr ||
      auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)
          .empty()) {
    return absl::OkStatus();
  }
  if (!auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no device certificate");
  }
  std::vector<grpc::string_ref> names =
      auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.size() != 1) {
    return absl::UnauthenticatedError(
        "the device certificate must have exactly one common name");
  }
  const absl::string_view certified(names[0].data(), names[0].size());
  if (certified != device_id) {
    const std::string why =
        absl::StrCat("the certificate is for device '", EscapeForLog(certified),
                     "', the call names '", EscapeForLog(device_id), "'");
    LogWarning(absl::StrCat("refused: ", why));
    return absl::PermissionDeniedError(why);
  }
  return absl::OkStatus();
}

}  // namespace tandem::server

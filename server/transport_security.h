// How the coordinator's port is secured (server.tls_*), and which device a
// caller has proved to be.
//
//   TANDEM_ASSIGN_OR_RETURN(ServerSecurity security,
//                           LoadServerSecurity(config.server));
//   ... CoordinatorServer::Start(coordinator, listen, poll, security);
//   // in a handler, before anything else:
//   TANDEM_RETURN_IF_ERROR(AuthorizeDevice(*ctx, require, req.device_id()));
//
// Without TLS anyone who can reach the port can join (a token, if set,
// crosses the network in clear): LoadServerSecurity warns when such a port
// is not on a loopback address.
#ifndef TANDEM_SERVER_TRANSPORT_SECURITY_H_
#define TANDEM_SERVER_TRANSPORT_SECURITY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/config.h"
#include "grpcpp/grpcpp.h"

namespace tandem::server {

struct ServerSecurity {
  // Null: an insecure port (the simulator, tests, loopback).
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Mutual TLS: every call must come from a certificate whose common name
  // is the device id it names.
  bool require_certificates = false;
};

// Reads the PEM files `server` names; errors name the file and the field.
absl::StatusOr<ServerSecurity> LoadServerSecurity(const ServerConfig& server);

// OK when the caller may act for `device_id`. With `require_certificates`,
// a network caller must have presented a certificate whose common name is
// `device_id` (PERMISSION_DENIED otherwise, UNAUTHENTICATED without one).
// The hosting process's own in-process channel carries no transport at all
// and is trusted.
absl::Status AuthorizeDevice(const grpc::ServerContext& ctx,
                             bool require_certificates,
                             absl::string_view device_id);

// True when the call came over a TLS connection (not plaintext, not the
// in-process channel).
bool CameOverTls(const grpc::ServerContext& ctx);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_TRANSPORT_SECURITY_H_

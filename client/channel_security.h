// How a device proves who it is and reaches the coordinator: its TLS
// credentials (mutual TLS when it has a certificate) and its join token,
// which is read from a file or the environment, never from the command line.
//
//   TANDEM_ASSIGN_OR_RETURN(auto channel,
//                           MakeCoordinatorChannel(server, tls, args));
//   TANDEM_ASSIGN_OR_RETURN(options.token, ReadJoinToken(token_file));
#ifndef TANDEM_CLIENT_CHANNEL_SECURITY_H_
#define TANDEM_CLIENT_CHANNEL_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace tandem::client {

struct ClientTls {
  std::string ca;    // PEM CA the coordinator's certificate chains to; "" =
                     // no TLS
  std::string cert;  // this device's certificate (CN = its id), and key
  std::string key;
  // The name the coordinator's certificate is checked against, when it is
  // not the host in the address.
  std::string server_name;
};

// A channel to `target`; insecure (with a warning for a non-loopback
// address) when tls.ca is empty.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeCoordinatorChannel(
    const std::string& target, const ClientTls& tls,
    grpc::ChannelArguments args);

// The join token: the first line of `token_file`, else $TANDEM_TOKEN, else
// "" (no token). An unreadable or empty file is an error.
absl::StatusOr<std::string> ReadJoinToken(const std::string& token_file);

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_CHANNEL_SECURITY_H_

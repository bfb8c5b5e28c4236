// A device that was not installed with the run's TorchScript file fetches
// it from the coordinator (tandem-client --fetch_model FILE). A model file
// is code, so this is opt-in and only over TLS: the device checks the
// coordinator's certificate, the coordinator the device's token (and
// certificate under mutual TLS), and refuses plaintext connections.
//
//   TANDEM_ASSIGN_OR_RETURN(std::string sha256,
//                           FetchModelFile(*channel, request, path, 60s));
#ifndef TANDEM_CLIENT_MODEL_FETCH_H_
#define TANDEM_CLIENT_MODEL_FETCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/tandem.pb.h"

namespace tandem::client {

// Larger files are refused before they are read.
inline constexpr int64_t kMaxModelFileBytes = int64_t{1} << 30;

// Streams the file into `path` (written atomically, after its size and
// SHA-256 match what the coordinator announced) and returns its SHA-256.
// Retries a coordinator that is not up yet until `give_up_after`.
absl::StatusOr<std::string> FetchModelFile(grpc::Channel& channel,
                                           const v1::ModelFileRequest& request,
                                           const std::string& path,
                                           absl::Duration give_up_after);

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_MODEL_FETCH_H_

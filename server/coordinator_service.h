// gRPC front of the Coordinator, and the server that hosts it.
//
//   TANDEM_ASSIGN_OR_RETURN(auto server,
//                           CoordinatorServer::Start(coordinator.get(),
//                                                    "127.0.0.1:0"));
//   server->port();              // the port picked
//   server->InProcessChannel();  // for devices in the same process
//
// Status codes of the Coordinator map one to one onto gRPC codes.
#ifndef TANDEM_SERVER_COORDINATOR_SERVICE_H_
#define TANDEM_SERVER_COORDINATOR_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "proto/grpc_status.h"
#include "proto/tandem.grpc.pb.h"
#include "server/coordinator.h"
#include "server/split_service.h"
#include "server/stream_guard.h"
#include "server/transport_security.h"

namespace tandem::server {

class CoordinatorService final : public v1::Coordinator::Service {
 public:
  // `poll_limit`: the longest a PullTask call waits before answering WAIT.
  // `require_certificates`: every call must come from the device's own
  // certificate (AuthorizeDevice).
  // `streams` bounds the PushUpdate streams.
  CoordinatorService(DeviceGateway* devices, StreamGuard* streams,
                     absl::Duration poll_limit, bool require_certificates)
      : devices_(devices),
        streams_(streams),
        poll_limit_(poll_limit),
        require_certificates_(require_certificates) {}

  grpc::Status Join(grpc::ServerContext* ctx, const v1::JoinRequest* req,
                    v1::JoinReply* reply) override;
  grpc::Status PullTask(grpc::ServerContext* ctx,
                        const v1::PullTaskRequest* req,
                        grpc::ServerWriter<v1::TaskChunk>* writer) override;
  grpc::Status PushUpdate(grpc::ServerContext* ctx,
                          grpc::ServerReader<v1::UpdateChunk>* reader,
                          v1::PushUpdateReply* reply) override;
  grpc::Status Heartbeat(grpc::ServerContext* ctx,
                         const v1::HeartbeatRequest* req,
                         v1::HeartbeatReply* reply) override;
  grpc::Status Leave(grpc::ServerContext* ctx, const v1::LeaveRequest* req,
                     v1::LeaveReply* reply) override;
  // Refused (FAILED_PRECONDITION) unless the call came over TLS.
  grpc::Status GetModelFile(
      grpc::ServerContext* ctx, const v1::ModelFileRequest* req,
      grpc::ServerWriter<v1::ModelFileChunk>* writer) override;

 private:
  DeviceGateway* const devices_;
  StreamGuard* const streams_;
  const absl::Duration poll_limit_;
  const bool require_certificates_;
};

// Hosts the Coordinator and SplitTraining services, with TLS when
// `security` has credentials. Owns the grpc::Server; Shutdown() (or the
// destructor) stops it.
class CoordinatorServer {
 public:
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(
      Coordinator* coordinator, const std::string& listen,
      absl::Duration poll_limit, const ServerSecurity& security = {},
      const StreamLimits& limits = {});
  ~CoordinatorServer();

  int port() const { return port_; }
  // PushUpdate and SplitTraining streams open now.
  int open_streams() const { return streams_->open_streams(); }
  int max_message_bytes() const { return max_message_bytes_; }
  // Ends the open streams of `device` (revoked); returns how many.
  int CancelStreamsOf(const std::string& device) {
    return streams_->CancelDevice(device);
  }
  std::shared_ptr<grpc::Channel> InProcessChannel();
  void Shutdown();

 private:
  CoordinatorServer() = default;
  std::unique_ptr<StreamGuard> streams_;  // outlives the services' calls
  std::unique_ptr<CoordinatorService> service_;
  std::unique_ptr<SplitTrainingService> split_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  int max_message_bytes_ = 4 << 20;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_COORDINATOR_SERVICE_H_

// gRPC SplitTraining service: one bidirectional stream per offloading device
// per round. Per batch: activations (+ labels) in, the tail's forward,
// backward and optimiser step, the gradient at the split point (+ loss) out.
// Each stream runs on its own handler thread, so devices do not wait on each
// other's streams.
#ifndef TANDEM_SERVER_SPLIT_SERVICE_H_
#define TANDEM_SERVER_SPLIT_SERVICE_H_

#include "grpcpp/grpcpp.h"
#include "proto/tandem.grpc.pb.h"
#include "server/device_gateway.h"
#include "server/stream_guard.h"

namespace tandem::server {

class SplitTrainingService final : public v1::SplitTraining::Service {
 public:
  // `require_certificates`: see CoordinatorService.
  // `streams` bounds the streams.
  SplitTrainingService(DeviceGateway* devices, StreamGuard* streams,
                       bool require_certificates)
      : devices_(devices),
        streams_(streams),
        require_certificates_(require_certificates) {}

  grpc::Status Train(grpc::ServerContext* ctx,
                     grpc::ServerReaderWriter<v1::SplitReply, v1::SplitRequest>*
                         stream) override;

 private:
  DeviceGateway* const devices_;
  StreamGuard* const streams_;
  const bool require_certificates_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_SPLIT_SERVICE_H_

// gRPC SplitTraining service: one bidirectional stream per offloading device
// per round. Per batch: activations (+ labels) in, the tail's forward,
// backward and optimiser step, the gradient at the cut (+ loss) out. Each
// stream runs on its own handler thread, so devices do not wait on each
// other's streams.
#ifndef TANDEM_SERVER_SPLIT_SERVICE_H_
#define TANDEM_SERVER_SPLIT_SERVICE_H_

#include "grpcpp/grpcpp.h"
#include "proto/tandem.grpc.pb.h"
#include "server/device_gateway.h"

namespace tandem::server {

class SplitTrainingService final : public v1::SplitTraining::Service {
 public:
  explicit SplitTrainingService(DeviceGateway* devices) : devices_(devices) {}

  grpc::Status Train(grpc::ServerContext* ctx,
                     grpc::ServerReaderWriter<v1::SplitReply, v1::SplitRequest>*
                         stream) override;

 private:
  DeviceGateway* const devices_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_SPLIT_SERVICE_H_

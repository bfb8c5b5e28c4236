// The device's side of a SplitTraining stream: implements ml::SplitTransport
// by sending each batch's activations (fp32, fp16 or int8) and labels, and
// waiting for the gradient at the split point. Counts bytes and messages so
// the device can report (or, in simulation, model) its link time. Not
// thread-safe.
#ifndef TANDEM_CLIENT_SPLIT_TRANSPORT_H_
#define TANDEM_CLIENT_SPLIT_TRANSPORT_H_

#include <functional>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "core/tensor_codec.h"
#include "grpcpp/grpcpp.h"
#include "ml/split.h"
#include "proto/tandem.grpc.pb.h"

namespace tandem::client {

class GrpcSplitTransport : public ml::SplitTransport {
 public:
  // Opens the stream on `ctx` (owned by the caller, who may cancel it).
  GrpcSplitTransport(v1::SplitTraining::Stub* stub, grpc::ClientContext* ctx,
                     const v1::SplitOpen& open, ActivationCodec codec,
                     const Clock* clock = &RealClock());

  absl::StatusOr<ml::SplitTensor> Exchange(int64_t step,
                                           const ml::SplitTensor& activations,
                                           const std::vector<int64_t>& labels,
                                           double* loss) override;
  // Half-closes and waits for the coordinator's verdict on the stream.
  absl::Status Finish();

  int64_t bytes_up() const { return bytes_up_; }
  int64_t bytes_down() const { return bytes_down_; }
  // Per message, for link-time modelling: bytes of each upload/download.
  const std::vector<int64_t>& up_messages() const { return up_messages_; }
  const std::vector<int64_t>& down_messages() const { return down_messages_; }
  // Wall seconds spent waiting for the coordinator (tail compute + network).
  double wait_seconds() const { return wait_seconds_; }

 private:
  std::unique_ptr<grpc::ClientReaderWriter<v1::SplitRequest, v1::SplitReply>>
      stream_;
  absl::Status FinishOnce();

  const ActivationCodec codec_;
  const Clock* const clock_;  // times wait_seconds()
  bool broken_ = false;
  bool finished_ = false;
  absl::Status finish_status_;
  int64_t bytes_up_ = 0, bytes_down_ = 0;
  std::vector<int64_t> up_messages_, down_messages_;
  double wait_seconds_ = 0;
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_SPLIT_TRANSPORT_H_

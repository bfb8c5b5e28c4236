#include "client/split_transport.h"

#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "proto/grpc_status.h"

namespace tandem::client {

GrpcSplitTransport::GrpcSplitTransport(v1::SplitTraining::Stub* stub,
                                       grpc::ClientContext* ctx,
                                       const v1::SplitOpen& open,
                                       ActivationCodec codec,
                                       const Clock* clock)
    : stream_(stub->Train(ctx)), codec_(codec), clock_(clock) {
  v1::SplitRequest req;
  *req.mutable_open() = open;
  broken_ = !stream_->Write(req);
}

absl::StatusOr<ml::SplitTensor> GrpcSplitTransport::Exchange(
    int64_t step, const ml::SplitTensor& activations,
    const std::vector<int64_t>& labels, double* loss) {
  if (broken_) return absl::UnavailableError("split stream is broken");
  v1::SplitRequest req;
  v1::SplitBatch* batch = req.mutable_batch();
  batch->set_step(step);
  EncodeTensor(activations.shape, activations.values, codec_,
               batch->mutable_activations());
  EncodeLabels(labels, batch->mutable_labels());
  const int64_t up = static_cast<int64_t>(req.ByteSizeLong());
  v1::SplitReply reply;
  const double t0 = clock_->NowSeconds();
  if (!stream_->Write(req) || !stream_->Read(&reply)) {
    broken_ = true;
    absl::Status s = FinishOnce();
    return absl::UnavailableError(
        absl::StrCat("split stream broke at step ", step, ": ", s.message()));
  }
  wait_seconds_ += clock_->NowSeconds() - t0;
  const int64_t down = static_cast<int64_t>(reply.ByteSizeLong());
  bytes_up_ += up;
  bytes_down_ += down;
  up_messages_.push_back(up);
  down_messages_.push_back(down);
  if (reply.step() != step) {
    return absl::InternalError("split reply for another step");
  }
  auto grad = DecodeTensor(reply.gradient(),
                           static_cast<int64_t>(activations.values.size()));
  if (!grad.ok()) return grad.status();
  *loss = reply.loss();
  return ml::SplitTensor{std::move(grad->shape), std::move(grad->values)};
}

absl::Status GrpcSplitTransport::Finish() { return FinishOnce(); }

absl::Status GrpcSplitTransport::FinishOnce() {
  if (finished_) return finish_status_;
  finished_ = true;
  if (!broken_) stream_->WritesDone();
  grpc::Status s = stream_->Finish();
  finish_status_ = FromGrpcStatus(s);
  return finish_status_;
}

}  // namespace tandem::client

#include "server/split_service.h"

#include "absl/strings/str_cat.h"
#include "core/tensor_codec.h"
#include "server/coordinator_service.h"

namespace tandem::server {
namespace {

// One batch: decode, step the tail, encode the gradient.
absl::StatusOr<v1::SplitReply> TailStep(TailSession& tail,
                                        const v1::SplitBatch& batch) {
  auto act = DecodeTensor(batch.activations(), tail.max_elements);
  if (!act.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("activations: ", act.status().message()));
  }
  auto labels = DecodeLabels(batch.labels(), tail.max_elements);
  if (!labels.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("labels: ", labels.status().message()));
  }
  ml::CutTensor in{std::move(act->shape), std::move(act->values)};
  double loss = 0;
  auto grad = tail.trainer->Step(in, *labels, &loss);
  if (!grad.ok()) return grad.status();
  v1::SplitReply reply;
  reply.set_step(batch.step());
  reply.set_loss(static_cast<float>(loss));
  EncodeTensor(grad->shape, grad->values, tail.codec, reply.mutable_gradient());
  return reply;
}

}  // namespace

grpc::Status SplitTrainingService::Train(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::SplitReply, v1::SplitRequest>* stream) {
  v1::SplitRequest req;
  if (!stream->Read(&req) || !req.has_open()) {
    return grpc::Status(grpc::INVALID_ARGUMENT,
                        "split: the first message must be SplitOpen");
  }
  auto tail = coordinator_->OpenTail(req.open());
  if (!tail.ok()) return ToGrpcStatus(tail.status());
  while (stream->Read(&req)) {
    if (!req.has_batch()) {
      coordinator_->EndTail(*tail, false, "second SplitOpen");
      return grpc::Status(grpc::INVALID_ARGUMENT, "split: expected a batch");
    }
    auto reply = TailStep(**tail, req.batch());
    if (!reply.ok()) {
      coordinator_->EndTail(*tail, false,
                            std::string(reply.status().message()));
      return ToGrpcStatus(reply.status());
    }
    if (!stream->Write(*reply)) {
      coordinator_->EndTail(*tail, false, "device went away");
      return grpc::Status(grpc::CANCELLED, "split: device went away");
    }
  }
  if (ctx->IsCancelled()) {
    coordinator_->EndTail(*tail, false, "stream cancelled");
    return grpc::Status(grpc::CANCELLED, "split: cancelled");
  }
  coordinator_->EndTail(*tail, true, "");
  return grpc::Status::OK;
}

}  // namespace tandem::server
